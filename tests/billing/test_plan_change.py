"""Switching between the monthly and annual plans in Stripe's Customer Portal (the switch
`stripe_setup` configures): our copy follows, and the member reads on throughout."""

import urllib.parse
import urllib.request
from datetime import timedelta

import pytest

from accounts.models import Membership, SentMail
from billing.models import Subscription
from tests.billing.conftest import checkout_url, pay
from tests.conftest import SECRET_SENTENCES

PREMIUM = SECRET_SENTENCES["premium"]
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def open_portal(client) -> str:
    """Press Manage billing on the account page: the portal's address at Stripe."""
    response = client.post("/billing/portal/")
    assert response.status_code == 302
    return response["Location"]


def switch(portal_url: str, subscription_id: str, price_id: str) -> None:
    """Press the portal page's "Switch to ..." button for `price_id`, as the browser does."""
    with _opener.open(portal_url, timeout=10) as response:
        assert f'name="price" value="{price_id}"' in response.read().decode()
    form = {"subscription": subscription_id, "action": "switch", "price": price_id}
    request = urllib.request.Request(
        portal_url + "/action", data=urllib.parse.urlencode(form).encode()
    )
    with _opener.open(request, timeout=10) as response:
        assert response.status == 200  # back on the portal page
        assert "Your plan has been updated." in response.read().decode()


@pytest.fixture
def monthly_subscriber(client, oscar, stripe_plans, articles, standin, stripe_events):
    pay(standin, checkout_url(client, stripe_plans["month"]))
    stripe_events.deliver()
    return oscar


def test_switching_monthly_to_annual_and_back_follows_stripe_and_never_closes_an_article(
    client, monthly_subscriber, stripe_plans, stripe_events
):
    subscription = Subscription.objects.get(user=monthly_subscriber)
    assert subscription.plan == stripe_plans["month"]

    for plan, amount in ((stripe_plans["year"], "£99.00"), (stripe_plans["month"], "£12.00")):
        switch(open_portal(client), subscription.stripe_subscription_id, plan.stripe_price_id)
        # Stripe's events in any order (here the reverse): access holds after each one.
        for event in reversed(stripe_events.pending()):
            assert stripe_events.deliver([event]) == [200]
            assert PREMIUM in client.get("/articles/premium-article/").content.decode()

        subscription.refresh_from_db()
        assert (subscription.plan, subscription.status) == (plan, "active")
        assert subscription.display_amount == amount
        assert subscription.current_period_end - subscription.started_at > timedelta(days=27)
        membership = Membership.objects.get(pk=monthly_subscriber.pk)
        assert (membership.subscription_status, membership.subscription_ends_at) == (
            "active",
            None,
        )
        account = client.get("/account/").content.decode()
        assert f"Subscribed: {plan.name}" in account
        assert (
            f"Next billing date: {subscription.current_period_end:%-d %B %Y} · {amount}" in account
        )

    # A plan change is neither a new subscription nor a cancellation: no mail about it.
    assert [m.kind for m in SentMail.objects.filter(user=monthly_subscriber)] == [
        "subscription_started"
    ]
    assert Subscription.objects.filter(user=monthly_subscriber).count() == 1
