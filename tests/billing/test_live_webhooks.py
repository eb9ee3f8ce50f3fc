"""The stand-in posting its own signed webhooks to a running site, with nobody visiting the success page."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection

from billing.models import Subscription, WebhookEvent
from tests.billing.conftest import advance, control, pay


@pytest.fixture
def live_stripe(transactional_db, stripe_settings, request):
    if connection.vendor == "sqlite":
        pytest.skip(
            "the live server shares the test's one in-memory SQLite connection: webhooks arriving while "
            "the test writes collide there (CI runs this on PostgreSQL)"
        )
    posting_standin = request.getfixturevalue("posting_standin")
    control(posting_standin, "/_standin/reset")
    stripe_settings.STRIPE_API_BASE = posting_standin
    call_command("stripe_sync_plans", stdout=StringIO())
    return posting_standin


def wait_for_deliveries(standin):
    status, counts = control(standin, "/_standin/deliveries/wait", {"timeout": 10})
    assert status == 200 and counts["pending"] == 0, counts
    return counts


def test_stripes_own_webhooks_give_access_and_take_it_away(client, make_member, plans, live_stripe):
    member = make_member("oscar@example.com", trial="over")
    client.force_login(member)
    checkout_url = client.post("/billing/checkout/", {"plan": plans[0].pk})["Location"]

    status, paid = pay(live_stripe, checkout_url)
    assert status == 200
    counts = wait_for_deliveries(live_stripe)

    assert counts["failed"] == 0, counts
    subscription = Subscription.objects.get(user=member)
    assert subscription.status == "active"
    assert WebhookEvent.objects.filter(
        type="checkout.session.completed", processed_at__isnull=False
    ).exists()

    advance(live_stripe, subscription.stripe_subscription_id, "fail_renewal")
    wait_for_deliveries(live_stripe)
    subscription.refresh_from_db()
    assert subscription.status == "past_due"
