"""Switching plans (monthly <-> annual) in the Customer Portal, as stripe_setup configures it:
our copy follows Stripe's events, the account page shows the new plan, and reading never stops."""

import urllib.parse
import urllib.request
from datetime import timedelta

import pytest

from accounts.models import Membership, SentMail
from billing.models import Subscription
from tests.billing.conftest import checkout_url, control, pay
from tests.conftest import SECRET_SENTENCES
from tests.pages import page

PREMIUM = SECRET_SENTENCES["premium"]


def _portal_page(url: str, form: dict | None = None) -> str:
    """The stand-in's hosted portal page (a GET, or a button's POST, following its redirect)."""
    data = urllib.parse.urlencode(form).encode() if form else None
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(urllib.request.Request(url, data=data), timeout=10) as response:
        return response.read().decode()


@pytest.fixture
def monthly_subscriber(client, oscar, stripe_plans, standin, stripe_events):
    pay(standin, checkout_url(client, stripe_plans["month"]))
    assert set(stripe_events.deliver()) == {200}
    return oscar


@pytest.mark.parametrize("order", ["as sent", "reversed"])
def test_switching_to_annual_in_the_portal_moves_our_copy_and_the_account_page_without_a_gap(
    client, monthly_subscriber, stripe_plans, standin, stripe_events, articles, order
):
    before = Subscription.objects.get(user=monthly_subscriber)
    portal_url = client.post("/billing/portal/")["Location"]
    annual = stripe_plans["year"]
    assert f"Switch to {annual.name}" in _portal_page(portal_url)

    _portal_page(
        portal_url + "/action",
        {
            "subscription": before.stripe_subscription_id,
            "action": "switch",
            "price": annual.stripe_price_id,
        },
    )
    events = [e for e in stripe_events.pending() if not e["type"].startswith("billing_portal.")]
    assert [e["type"] for e in events] == [
        "customer.subscription.updated",
        "invoice.created",
        "invoice.finalized",
        "invoice.paid",
        "invoice.payment_succeeded",
    ]
    for event in events if order == "as sent" else events[::-1]:
        assert stripe_events.deliver([event]) == [200]
        # Each step is Stripe's latest state; the member reads throughout.
        assert Membership.objects.get(pk=monthly_subscriber.pk).subscription_status == "active"
        assert PREMIUM in page(client, "/articles/premium-article/")

    after = Subscription.objects.get(user=monthly_subscriber)
    assert (after.pk, after.plan, after.amount, after.status) == (before.pk, annual, 9900, "active")
    assert after.current_period_end > before.current_period_end + timedelta(days=300)
    html = page(client, "/account/")
    assert "Subscribed: Annual" in html
    assert f"Next billing date: {after.current_period_end:%-d %B %Y} · £99.00" in html
    # A change of plan is not a new subscription: no second welcome mail.
    assert (
        SentMail.objects.filter(user=monthly_subscriber, kind="subscription_started").count() == 1
    )
    invoice = next(iter(control(standin, "/_standin/state", method="GET")[1]["invoices"].values()))
    assert invoice["billing_reason"] == "subscription_create"


def test_switching_back_to_monthly_follows_too(
    client, annual_subscriber, stripe_plans, standin, stripe_events
):
    stripe_events.deliver()
    subscription = Subscription.objects.get(user=annual_subscriber)
    portal_url = client.post("/billing/portal/")["Location"]

    _portal_page(
        portal_url + "/action",
        {
            "subscription": subscription.stripe_subscription_id,
            "action": "switch",
            "price": stripe_plans["month"].stripe_price_id,
        },
    )
    assert set(stripe_events.deliver()) == {200}

    subscription.refresh_from_db()
    assert (subscription.plan, subscription.amount) == (stripe_plans["month"], 1200)
    assert "Subscribed: Monthly" in page(client, "/account/")
