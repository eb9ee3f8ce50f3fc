"""The reader's whole journey in Chromium, from the landing page to a subscription that ends.

Lands, signs up, opens the verification link from the mail, reads a premium article in the
trial; the clock passes the trial's end and the expiry job runs; the paywall; a declined
card grants nothing; a good card at the Stripe stand-in's checkout opens the article again;
cancelled in the portal, it still reads until the period ends; after it, the paywall.

Time is moved with time_machine in the test process, which the live server's thread
shares. Stripe's events are delivered to our webhook when the test says so, signed at the
moved time (the stand-in signs with real time, which our webhook would refuse as too old).
"""

import re
from datetime import timedelta
from io import StringIO

import time_machine
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from accounts.models import User
from accounts.tasks import trials_end_due_task
from billing.models import Subscription
from tests.billing.conftest import DECLINED_CARD, GOOD_CARD, advance
from tests.conftest import SECRET_SENTENCES
from tests.integration.browser.conftest import PASSWORD
from tests.integration.browser.helpers import sign_in

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
    assert (
        page.get_by_role("heading", level=1).inner_text() == "Become the manager your team deserves"
    )
    assert page.get_by_text("From £12.00 per month · 7-day free trial").first.is_visible()

    page.locator(".hero").get_by_role("link", name="Start your free trial").click()
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    screenshot(page, "sign-up")
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url("**/accounts/confirm-email/")
    screenshot(page, "check-your-email")
    assert page.get_by_role("heading", name="Check your inbox").is_visible()

    [message] = [m for m in mail.outbox if EMAIL in m.to]
    page.goto(verification_path(message))  # one click: the link confirms and signs in
    page.wait_for_load_state()
    screenshot(page, "verified")
    assert page.get_by_role("button", name="Log out").is_visible()


def reads_in_full(page) -> bool:
    page.goto(PREMIUM_URL)
    return page.locator(".premium-content").count() == 1 and SECRET in page.content()


def sees_the_paywall(page) -> bool:
    page.goto(PREMIUM_URL)
    return page.locator(".paywall").is_visible() and SECRET not in page.content()


def test_the_whole_journey_through_checkout_and_the_portal(
    page, demo_site, screenshot, live_server, stripe_settings, stripe_plans, stripe_events
):
    stripe_settings.SITE_URL = live_server.url  # Checkout and the portal send the reader back here
    call_command("stripe_setup", stdout=StringIO())  # this site's portal configuration
    land_sign_up_and_verify(page, screenshot)
    member = User.objects.get(email=EMAIL)
    assert member.membership.trial_ends_at is not None

    assert reads_in_full(page)
    screenshot(page, "premium-article-in-trial")
    assert page.get_by_text("Free trial: 7 days left.").is_visible()
    assert page.locator(".ad-slot").count() == 0

    # The trial ends by the clock; the expiry job records it (as the scheduler would run it).
    with time_machine.travel(member.membership.trial_ends_at + timedelta(minutes=1), tick=True):
        assert trials_end_due_task() == 1
        member.membership.refresh_from_db()
        assert member.membership.trial_ended_at is not None

        assert sees_the_paywall(page)
        screenshot(page, "paywall-after-trial")
        assert (
            "Your free trial has ended. Subscribe to keep reading."
            in page.locator(".paywall").inner_text()
        )
        assert page.locator(".ad-slot").is_visible()
        page.goto("/account/")
        screenshot(page, "account-after-trial")
        assert page.get_by_text(
            f"Your free trial ended on {timezone.localtime(member.membership.trial_ends_at):%-d %B %Y}"
        ).is_visible()
        page.goto(PREMIUM_URL)

        # A declined card: the checkout page says so, and nothing is granted.
        page.locator(".paywall").get_by_role("button", name="Subscribe").click()
        page.wait_for_url(re.compile(r".*/checkout/cs_"))
        checkout_url = page.url
        screenshot(page, "checkout")
        page.get_by_label("Card number").fill(DECLINED_CARD)
        page.get_by_role("button", name="Subscribe").click()
        error = page.get_by_role("alert")
        assert "declined" in error.inner_text().lower()
        screenshot(page, "checkout-card-declined")
        assert all(code == 200 for code in stripe_events.deliver())
        assert not Subscription.objects.filter(
            user=member, status__in=["active", "trialing"]
        ).exists()
        assert sees_the_paywall(page)

        # A good card: back on our site, subscribed, reading in full.
        page.goto(checkout_url)
        page.get_by_label("Card number").fill(GOOD_CARD)
        page.get_by_role("button", name="Subscribe").click()
        page.wait_for_url(f"{live_server.url}/billing/success/**")
        screenshot(page, "subscribed")
        assert page.get_by_role("heading", name="You're subscribed").is_visible()
        assert all(code == 200 for code in stripe_events.deliver())
        assert reads_in_full(page)
        screenshot(page, "premium-article-subscribed")
        assert page.locator(".ad-slot").count() == 0
        subscription = Subscription.objects.get(user=member)
        assert subscription.status == "active" and not subscription.cancel_at_period_end

        # Cancel in the portal: the member reads on until the period they paid for ends.
        page.goto("/account/")
        screenshot(page, "account-subscribed")
        assert page.get_by_text("Next billing date").is_visible()
        page.get_by_role("button", name="Manage billing").click()
        page.wait_for_url(re.compile(r".*/portal/"))
        page.get_by_role("button", name="Cancel at period end").click()
        screenshot(page, "portal-cancelled")
        assert (
            page.get_by_role("status").inner_text()
            == "Your subscription will end at the close of the current period."
        )
        page.get_by_role("link", name="Return to site").click()
        page.wait_for_url(f"{live_server.url}/account/")
        assert all(code == 200 for code in stripe_events.deliver())
        subscription.refresh_from_db()
        assert subscription.cancel_at_period_end
        period_end = subscription.current_period_end
        page.reload()
        screenshot(page, "account-cancelling")
        assert page.get_by_text(
            f"Your subscription ends on {timezone.localtime(period_end):%-d %B %Y}"
        ).is_visible()
        assert reads_in_full(page)

        with time_machine.travel(period_end - timedelta(hours=1), tick=True):
            assert reads_in_full(page) or _signed_in_again_reads(page)
            screenshot(page, "premium-article-last-hour")

        # The period ends: by the clock first, then Stripe says so too.
        with time_machine.travel(period_end + timedelta(minutes=1), tick=True):
            if not page.get_by_role("button", name="Log out").is_visible():
                sign_in(page, EMAIL)  # a month on, the session has expired
            assert sees_the_paywall(page)
            advance(stripe_events.standin_url, subscription.stripe_subscription_id, "end_period")
            assert all(code == 200 for code in stripe_events.deliver())
            subscription.refresh_from_db()
            assert subscription.status == "canceled"
            assert sees_the_paywall(page)
            screenshot(page, "paywall-after-the-period")
            assert (
                "Your subscription has ended. Subscribe again to keep reading."
                in page.locator(".paywall").inner_text()
            )


def _signed_in_again_reads(page) -> bool:
    sign_in(page, EMAIL)
    return reads_in_full(page)
