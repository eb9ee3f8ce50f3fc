"""The reader's whole journey in Chromium: lands, signs up, verifies, reads, the trial ends, the paywall.

Time is moved with time_machine in the test process, which the live server's thread shares,
and the trial-expiry job is run as the scheduler would run it, eagerly, in this process.
"""

import re
from datetime import timedelta

import time_machine
from django.core import mail
from django.utils import timezone

from accounts.models import User
from accounts.tasks import end_due_trials
from tests.browser.conftest import PASSWORD
from tests.conftest import SECRET_SENTENCES

PREMIUM_URL = "/articles/premium-article/"
SECRET = SECRET_SENTENCES["premium"]
EMAIL = "newcomer@example.com"


def verification_path(message) -> str:
    match = re.search(r"https?://[^/\s]+(/accounts/confirm-email/[^/\s]+/)", message.body)
    assert match, message.body
    return match.group(1)


def land_sign_up_and_verify(page, screenshot):
    page.goto("/")
    screenshot(page, "landing")
    assert page.get_by_role("heading", level=1).inner_text() == "Become the manager your team deserves"
    assert page.get_by_text("From £12.00 per month · 7-day free trial").first.is_visible()

    page.locator(".hero").get_by_role("link", name="Start your free trial").click()
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password (again)").fill(PASSWORD)
    screenshot(page, "sign-up")
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url("**/accounts/confirm-email/")
    screenshot(page, "check-your-email")
    assert page.get_by_role("heading", name="Verify Your Email Address").is_visible()

    [message] = [m for m in mail.outbox if EMAIL in m.to]
    page.goto(verification_path(message))
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_load_state()
    screenshot(page, "verified")
    assert page.get_by_role("button", name="Log out").is_visible()


def test_newcomer_reads_in_trial_and_meets_the_paywall_when_it_ends(page, demo_site, screenshot):
    land_sign_up_and_verify(page, screenshot)
    member = User.objects.get(email=EMAIL)
    assert member.trial_ends_at is not None

    page.goto(PREMIUM_URL)
    screenshot(page, "premium-article-in-trial")
    assert page.get_by_text(SECRET).is_visible()
    assert page.locator(".paywall").count() == 0
    assert page.get_by_text("Free trial: 7 days left.").is_visible()
    assert page.locator(".ad-slot").count() == 0

    with time_machine.travel(member.trial_ends_at + timedelta(minutes=1), tick=True):
        assert end_due_trials() == 1
        member.refresh_from_db()
        assert member.trial_ended_at is not None

        page.reload()
        screenshot(page, "premium-article-after-trial")
        paywall = page.locator(".paywall")
        assert paywall.is_visible()
        assert "Your free trial has ended. Subscribe to keep reading." in paywall.inner_text()
        assert SECRET not in page.content()
        assert page.locator(".ad-slot").is_visible()

        page.goto("/account/")
        screenshot(page, "account-after-trial")
        assert page.get_by_text(f"Your free trial ended on {timezone.localtime(member.trial_ends_at):%-d %B %Y}").is_visible()
