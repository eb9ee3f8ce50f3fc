"""Signing up in Chromium: one password field with a show/hide button (static/js/
password-toggle.js), remembered until the link is clicked, one click back to the article."""

import re

import pytest
from django.core import mail

from tests.conftest import SECRET_SENTENCES
from tests.integration.browser.conftest import PASSWORD, axe_violations

ARTICLE = "/articles/premium-article/"
EMAIL = "newcomer@example.com"


def confirmation_path(message) -> str:
    match = re.search(r"https?://[^/\s]+(/accounts/confirm-email/[^/\s]+/)", message.body)
    assert match, message.body
    return match.group(1)


def test_sign_up_with_show_hide_then_check_your_inbox_then_one_click_back_to_the_article(
    page, demo_site, screenshot, fresh_cache
):
    page.goto(ARTICLE)
    page.locator(".paywall").get_by_role("link", name="Start your free trial").click()
    page.get_by_label("Email").fill(EMAIL)
    password = page.get_by_label("Password", exact=True)
    password.fill(PASSWORD)

    page.get_by_role("button", name="Show password").click()
    assert password.get_attribute("type") == "text"
    screenshot(page, "sign-up-password-shown")
    assert axe_violations(page) == []
    page.get_by_role("button", name="Hide password").click()
    assert password.get_attribute("type") == "password"
    page.get_by_role("button", name="Show password").click()
    page.get_by_role("button", name="Create account").click()

    page.wait_for_url("**/accounts/confirm-email/")
    assert page.get_by_role("heading", name="Check your inbox").is_visible()
    assert page.get_by_text("we sent a link to n…@example.com").is_visible()
    screenshot(page, "check-your-inbox")
    assert axe_violations(page) == []

    page.goto(ARTICLE)
    paywall = page.locator(".paywall")
    assert paywall.get_by_text("Check your inbox: we sent a link to n…@example.com").is_visible()
    assert paywall.get_by_role("button", name="Resend").is_visible()
    assert paywall.get_by_role("button", name="Wrong address?").is_visible()
    screenshot(page, "paywall-check-your-inbox")
    assert axe_violations(page) == []
    page.set_viewport_size({"width": 360, "height": 800})
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert axe_violations(page) == []

    [message] = [m for m in mail.outbox if EMAIL in m.to]
    page.goto(confirmation_path(message))

    page.wait_for_url(f"**{ARTICLE}")
    assert page.locator(".message").all_inner_texts() == ["Welcome — your 7-day trial has started."]
    assert SECRET_SENTENCES["premium"] in page.content()
    screenshot(page, "welcome-back-on-the-article")


@pytest.fixture
def page_without_js(chromium, live_server):
    context = chromium.new_context(base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def test_without_javascript_the_password_is_an_ordinary_field_and_sign_up_works(
    page_without_js, demo_site, fresh_cache
):
    page = page_without_js
    page.goto("/accounts/signup/")
    assert page.get_by_role("button", name="Show password").count() == 0
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()

    page.wait_for_url("**/accounts/confirm-email/")
    assert page.get_by_role("heading", name="Check your inbox").is_visible()
