"""Two of a member's choices in Chromium, through the Stripe stand-in: subscribing on day 2 of
the free trial (told before paying that the first charge comes when the trial ends, and brought
back to the article), and cancelling in the portal, then changing their mind on the site.

Stripe's events are delivered to our webhook when the test says so (billing's postman).
"""

import re
from io import StringIO

from django.core.management import call_command
from django.utils import timezone

from accounts.models import User
from billing.models import Subscription
from tests.billing.conftest import GOOD_CARD, control
from tests.conftest import PASSWORD as MEMBER_PASSWORD
from tests.conftest import SECRET_SENTENCES
from tests.integration.browser.conftest import axe_violations
from tests.integration.browser.helpers import sign_in

PREMIUM_URL = "/articles/premium-article/"
SECRET = SECRET_SENTENCES["premium"]


def reads_in_full(page) -> bool:
    return page.locator(".premium-content").count() == 1 and SECRET in page.content()


def _date(moment) -> str:
    return f"{timezone.localtime(moment):%-d %B %Y}"


def test_subscribing_on_day_2_of_the_trial_charges_first_on_the_trials_end_shown_before_paying(
    page,
    demo_site,
    make_member,
    screenshot,
    live_server,
    stripe_settings,
    stripe_plans,
    stripe_events,
):
    stripe_settings.SITE_URL = live_server.url
    member = make_member("tina@example.com", trial="active")  # started yesterday: day 2 of 7
    trial_end = member.membership.trial_ends_at
    sign_in(page, member.email, MEMBER_PASSWORD)

    page.goto(PREMIUM_URL)
    assert reads_in_full(page)
    page.locator(".banner").get_by_role("link", name="See plans").click()
    page.wait_for_url(re.compile(r".*/pricing/\?next="))
    screenshot(page, "pricing-in-trial")
    assert axe_violations(page) == []
    promise = f"you won't be charged until {_date(trial_end)}, when your free trial ends."
    assert promise in page.locator(".charged-from").inner_text()

    page.get_by_role("button", name="Subscribe monthly").click()
    page.wait_for_url(re.compile(r".*/checkout/cs_"))
    screenshot(page, "checkout-in-trial")
    assert (
        f"You won't be charged until {_date(trial_end)}, then £12.00 per month"
        in page.locator(".trial").inner_text()
    )
    page.get_by_label("Card number").fill(GOOD_CARD)
    page.get_by_role("button", name="Start trial").click()
    page.wait_for_url(f"{live_server.url}/billing/success/**")
    screenshot(page, "subscribed-in-trial")
    assert page.get_by_role("heading", name="You're subscribed").is_visible()

    page.get_by_role("link", name="Back to your article").click()
    page.wait_for_url(f"{live_server.url}{PREMIUM_URL}")
    assert reads_in_full(page)
    assert all(code == 200 for code in stripe_events.deliver())
    subscription = Subscription.objects.get(user=member)
    assert (subscription.status, subscription.trial_end) == (
        "trialing",
        trial_end.replace(microsecond=0),
    )
    invoices = control(stripe_events.standin_url, "/_standin/state", method="GET")[1]["invoices"]
    assert [i["amount_paid"] for i in invoices.values()] == [0]  # nothing taken today
    page.goto("/account/")
    screenshot(page, "account-subscribed-in-trial")
    assert page.get_by_text(f"Free until {_date(subscription.trial_end)}, then £12.00").is_visible()


def test_cancelling_in_the_portal_then_resuming_on_the_site(
    page,
    demo_site,
    make_member,
    screenshot,
    live_server,
    stripe_settings,
    stripe_plans,
    stripe_events,
):
    stripe_settings.SITE_URL = live_server.url
    call_command("stripe_setup", stdout=StringIO())  # this site's portal configuration
    member = make_member("oscar@example.com", trial="over")
    sign_in(page, member.email, MEMBER_PASSWORD)
    page.goto("/pricing/")
    page.get_by_role("button", name="Subscribe yearly").click()
    page.wait_for_url(re.compile(r".*/checkout/cs_"))
    page.get_by_label("Card number").fill(GOOD_CARD)
    page.get_by_role("button", name="Subscribe").click()
    page.wait_for_url(f"{live_server.url}/billing/success/**")
    assert all(code == 200 for code in stripe_events.deliver())

    page.goto("/account/")
    page.get_by_role("button", name="Manage billing").click()
    page.wait_for_url(re.compile(r".*/portal/"))
    page.get_by_role("button", name="Cancel at period end").click()
    page.get_by_role("link", name="Return to site").click()
    page.wait_for_url(f"{live_server.url}/account/")
    assert all(code == 200 for code in stripe_events.deliver())
    subscription = Subscription.objects.get(user=member)
    page.reload()
    screenshot(page, "account-cancelling")
    assert axe_violations(page) == []
    assert page.get_by_text(
        f"Your subscription ends on {_date(subscription.current_period_end)}."
    ).is_visible()

    page.get_by_role("button", name="Resume subscription").click()
    page.wait_for_url(f"{live_server.url}/account/#billing")
    screenshot(page, "account-resumed")
    assert page.get_by_text("Your subscription will continue. Thank you for staying.").is_visible()
    assert page.get_by_text(
        f"Next billing date: {_date(subscription.current_period_end)} · £99.00"
    ).is_visible()
    assert page.get_by_role("button", name="Resume subscription").count() == 0
    at_stripe = control(stripe_events.standin_url, "/_standin/state", method="GET")[1][
        "subscriptions"
    ][subscription.stripe_subscription_id]
    assert (at_stripe["cancel_at_period_end"], at_stripe["cancel_at"]) == (False, None)
    assert all(code == 200 for code in stripe_events.deliver())
    subscription.refresh_from_db()
    assert subscription.ends_at is None
    assert User.objects.get(pk=member.pk).membership.subscription_ends_at is None
    page.goto(PREMIUM_URL)
    assert reads_in_full(page)
