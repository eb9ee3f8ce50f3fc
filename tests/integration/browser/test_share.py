"""The article's "Copy link" in a real browser, under the site's own Content Security Policy."""

import pytest
from django.conf import settings


@pytest.fixture
def page_with_clipboard(chromium, live_server):
    # no bypass_csp: our script must run under the policy readers get
    context = chromium.new_context(
        base_url=live_server.url, viewport={"width": 1280, "height": 900}
    )
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def test_copy_link_copies_the_articles_address_and_says_so(
    page_with_clipboard, demo_site, screenshot
):
    page = page_with_clipboard
    page.goto("/articles/public-article/")

    page.get_by_role("link", name="Copy link").click()

    # the clipboard answers asynchronously: wait for the announcement (fails after the timeout)
    page.get_by_role("status").filter(has_text="Link copied.").wait_for(state="visible")
    assert page.url.endswith("/articles/public-article/")  # stayed on the page
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == f"{settings.SITE_URL}/articles/public-article/"
    screenshot(page, "link-copied")
