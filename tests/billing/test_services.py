"""Billing's sync (billing/services.py): the Membership row says what billing's subscription
records say, after any sequence of syncs.

Access reads one row the members app owns (accounts.Membership); billing writes the member's
current subscription to it on every sync (`membership_sync`). These hold that row, and what the
policy makes of it, to billing's own definition of the current subscription (`current_first()`),
over any mix of subscriptions, statuses, start dates (ties included), cancellations and orders.
"""

import copy
import json
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from accounts.entitlements import resolve
from accounts.models import Membership, SentMail, SubscriptionStatus
from billing import stripe_api
from billing.models import Customer, Subscription
from billing.services import subscription_sync, sync_ticket
from tests.billing.conftest import pay

FIXTURES = Path(__file__).resolve().parents[2] / "stripe_standin" / "fixtures.json"


STRIPE_SUBSCRIPTION = json.loads(FIXTURES.read_text())["resources"]["subscription"]


def stripe_subscription(*, id, customer, status, price_id, start, period_end, cancel_at_period_end):
    """Stripe's published example Subscription, with the fields a sync reads set."""
    data = copy.deepcopy(STRIPE_SUBSCRIPTION)
    item = data["items"]["data"][0]
    item["price"].update(id=price_id, unit_amount=1200, currency="gbp", lookup_key=None)
    item["current_period_end"] = int(period_end.timestamp())
    item["current_period_start"] = int(start.timestamp())
    ended = status in ("canceled", "incomplete_expired")
    data.update(
        id=id,
        customer=customer,
        status=status,
        created=int(start.timestamp()),
        start_date=int(start.timestamp()),
        cancel_at_period_end=cancel_at_period_end,
        # Stripe sets the date with the flag (the period's end); the example's own is unrelated
        cancel_at=int(period_end.timestamp()) if cancel_at_period_end else None,
        canceled_at=int(start.timestamp()) if ended or cancel_at_period_end else None,
        ended_at=int(period_end.timestamp()) if ended else None,
        trial_end=int(period_end.timestamp()) if status == "trialing" else None,
        metadata={},
    )
    return data


def reads_in_full(current: Subscription | None, now: datetime, grace_days: int) -> bool:
    """What a paying reader expects, written from Stripe's statuses, not from the policy's code."""
    if current is None:
        return False
    if current.status in ("active", "trialing"):
        return not current.cancel_at_period_end or now < current.current_period_end
    if current.status == "past_due":
        return now < current.first_failed_payment_at + timedelta(days=grace_days)
    return False


@hypothesis_settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    syncs=st.lists(
        st.tuples(
            st.integers(0, 2),  # which of the member's subscriptions this event is about
            st.sampled_from(sorted(SubscriptionStatus)),
            st.booleans(),  # cancel at period end
            st.integers(0, 2),  # started this many days ago: equal start dates happen
        ),
        min_size=1,
        max_size=8,
    )
)
def test_the_membership_follows_the_current_subscription_after_any_sequence_of_syncs(
    make_member, plans, settings, syncs
):
    settings.PAYMENT_GRACE_DAYS = 7
    member = make_member(f"reader-{time.monotonic_ns()}@example.com", trial="over")
    customer = Customer.objects.create(user=member, stripe_customer_id=f"cus_{member.pk}")
    now = timezone.now().replace(microsecond=0)
    for number, status, cancelling, days_ago in syncs:
        start = now - timedelta(days=40 + days_ago)
        payload = stripe_subscription(
            id=f"sub_{member.pk}_{number}",
            customer=customer.stripe_customer_id,
            status=status,
            price_id=f"price_{plans[0].pk}",
            start=start,
            period_end=now + timedelta(days=3 + number),
            cancel_at_period_end=cancelling,
        )
        subscription_sync(stripe_subscription=payload)

    current = Subscription.objects.filter(user=member).current_first().first()
    membership = Membership.objects.get(pk=member.pk)
    assert membership.subscription_status == current.status
    assert membership.subscription_ends_at == (
        current.current_period_end if current.cancel_at_period_end else None
    )
    assert membership.payment_failed_at == current.first_failed_payment_at
    moments = [timezone.now(), current.current_period_end + timedelta(minutes=1)]
    if current.first_failed_payment_at:
        moments.append(current.first_failed_payment_at + timedelta(days=7, minutes=1))
    for moment in moments:
        access = resolve(membership, moment)
        assert access.has_premium == reads_in_full(current, moment, 7), (current.status, moment)
        assert access.subscription_status == current.status


# ---- no Stripe call inside a transaction, and the newer copy wins -------------------------


def test_the_guard_fails_a_stripe_call_made_inside_a_transaction(
    no_stripe_call_inside_a_transaction, standin, db
):
    stripe_api.prices_list_active()  # inside the test's own transaction only: allowed

    with pytest.raises(AssertionError, match=r"inside transaction\.atomic"), transaction.atomic():
        stripe_api.prices_list_active()

    [call] = no_stripe_call_inside_a_transaction
    assert call.startswith(f"GET {standin}/v1/prices?")
    no_stripe_call_inside_a_transaction.clear()  # seen; the fixture's own check would fail the test


@pytest.mark.django_db(transaction=True)
def test_the_guard_holds_in_tests_without_a_wrapping_transaction_too(
    no_stripe_call_inside_a_transaction, standin
):
    stripe_api.prices_list_active()

    with pytest.raises(AssertionError), transaction.atomic():
        stripe_api.prices_list_active()

    assert len(no_stripe_call_inside_a_transaction) == 1
    no_stripe_call_inside_a_transaction.clear()


def test_a_copy_fetched_before_another_never_overwrites_it_whatever_order_they_land_in(
    client, oscar, stripe_plans, standin, stripe_client
):
    session_url = client.post("/billing/checkout/", {"plan": stripe_plans["month"].pk})["Location"]
    subscription_id = pay(standin, session_url)[1]["subscription"]
    # Two refreshes of one subscription at once: the first fetches, the member cancels at
    # Stripe, the second fetches; the second's write lands first, the slow first one after it.
    first_ticket = sync_ticket()
    before = stripe_api.subscription_retrieve(subscription_id=subscription_id)
    stripe_client.v1.subscriptions.update(subscription_id, params={"cancel_at_period_end": True})
    second_ticket = sync_ticket()
    after = stripe_api.subscription_retrieve(subscription_id=subscription_id)

    subscription_sync(stripe_subscription=after, ticket=second_ticket)
    subscription_sync(stripe_subscription=before, ticket=first_ticket)

    ours = Subscription.objects.get(stripe_subscription_id=subscription_id)
    assert ours.cancel_at_period_end is True and ours.sync_ticket == second_ticket
    assert Membership.objects.get(pk=oscar.pk).subscription_ends_at == ours.current_period_end
    assert SentMail.objects.filter(user=oscar, kind="subscription_cancelled").count() == 1


def test_sync_tickets_only_grow(db):
    tickets = [sync_ticket() for _ in range(5)]
    assert tickets == sorted(set(tickets))


def _given_up(oscar, *, status, ended_days_ago, latest_invoice="in_1"):
    """Stripe's subscription of Oscar's after its retries ran out, ended `ended_days_ago`."""
    now = timezone.now()
    data = stripe_subscription(
        id="sub_gave_up",
        customer=Customer.objects.get_or_create(user=oscar, stripe_customer_id="cus_o")[
            0
        ].stripe_customer_id,
        status=status,
        price_id="price_month",
        start=now - timedelta(days=ended_days_ago + 30),
        period_end=now - timedelta(days=ended_days_ago),
        cancel_at_period_end=False,
    )
    data["cancellation_details"] = {"comment": None, "feedback": None, "reason": "payment_failed"}
    data["latest_invoice"] = latest_invoice
    return data


def test_the_final_payment_mail_goes_once_when_our_copy_changes_to_given_up(oscar):
    now = timezone.now()
    subscription_sync(stripe_subscription=_given_up(oscar, status="past_due", ended_days_ago=0))
    subscription_sync(
        stripe_subscription=_given_up(
            oscar, status="unpaid", ended_days_ago=0, latest_invoice="in_1"
        )
    )
    # Stripe keeps invoicing an unpaid subscription each period, without charging: no new mail
    subscription_sync(
        stripe_subscription=_given_up(
            oscar, status="unpaid", ended_days_ago=0, latest_invoice="in_2"
        )
    )
    # and re-copying it (a reconcile after a deploy) changes nothing either
    Subscription.objects.update(stripe_digest="")
    subscription_sync(
        stripe_subscription=_given_up(
            oscar, status="unpaid", ended_days_ago=0, latest_invoice="in_2"
        )
    )

    assert SentMail.objects.filter(user=oscar, kind="payment_failed_final").count() == 1
    assert Subscription.objects.get().synced_at >= now


def test_an_ending_long_past_seen_for_the_first_time_is_not_news(oscar):
    subscription_sync(stripe_subscription=_given_up(oscar, status="canceled", ended_days_ago=100))

    assert Subscription.objects.get().status == "canceled"
    assert not SentMail.objects.filter(user=oscar, kind="payment_failed_final").exists()


def test_a_recent_ending_seen_for_the_first_time_is_told(oscar):
    subscription_sync(stripe_subscription=_given_up(oscar, status="canceled", ended_days_ago=1))

    assert SentMail.objects.filter(user=oscar, kind="payment_failed_final").count() == 1


def test_a_credit_larger_than_the_next_invoice_quotes_nothing_to_pay_and_the_copy_is_made(oscar):
    data = _given_up(oscar, status="active", ended_days_ago=0)

    subscription_sync(stripe_subscription=data, upcoming_invoice={"total": -500})

    assert (Subscription.objects.get().status, Subscription.objects.get().amount) == ("active", 0)
