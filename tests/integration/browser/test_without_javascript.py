"""With JavaScript switched off, a member still signs in, reads, saves a preference and signs out."""

import pytest

from accounts.models import Newsletter, NewsletterSubscription, User
from tests.conftest import SECRET_SENTENCES
from tests.integration.browser.conftest import PASSWORD
from tests.integration.browser.helpers import sign_in


@pytest.fixture
def page_without_js(chromium, live_server):
    context = chromium.new_context(
        base_url=live_server.url, java_script_enabled=False, viewport={"width": 360, "height": 800}
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def test_a_member_does_everything_without_javascript(
    page_without_js, demo_site, make_member, screenshot
):
    page = page_without_js
    member = make_member("tina@example.com", trial="active", password=PASSWORD)

    sign_in(page, member.email)
    page.goto("/articles/premium-article/")
    assert SECRET_SENTENCES["premium"] in page.content()
    screenshot(page, "article-no-js")

    weekly = Newsletter.objects.create(name="The Weekly Guide", slug="weekly")
    NewsletterSubscription.objects.create(user=member, newsletter=weekly)
    page.goto("/account/")
    page.get_by_label("The Weekly Guide").uncheck()
    page.get_by_role("button", name="Save preferences").click()
    assert page.get_by_text("Your email preferences are saved.").is_visible()
    assert not User.objects.get(pk=member.pk).newsletters.exists()

    page.get_by_role("button", name="Log out").click()
    assert page.get_by_role("link", name="Sign in").first.is_visible()
    page.goto("/articles/premium-article/")
    assert page.locator(".paywall").is_visible()
    assert SECRET_SENTENCES["premium"] not in page.content()
