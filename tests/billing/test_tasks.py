"""The periodic billing jobs."""

import tracemalloc
from datetime import timedelta

import time_machine
from django.conf import settings
from django.utils import timezone

from accounts.models import SentMail, User
from billing import services, stripe_api, tasks
from billing.models import Customer, Subscription, WebhookEvent
from config.celery import app
from tests.billing.conftest import control, pay


def test_every_billing_job_is_scheduled_and_registered():
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    app.loader.import_default_modules()
    for name in ("grace_end_due_task", "stripe_reconcile_task"):
        assert f"billing.tasks.{name}" in scheduled
        assert f"billing.tasks.{name}" in app.tasks


def test_a_grace_period_that_ran_out_is_recorded_once(make_member, make_subscription, settings):
    settings.PAYMENT_GRACE_DAYS = 7
    now = timezone.now()
    member = make_subscription(
        make_member("late@example.com", trial="over"),
        "past_due",
        current_period_end=now + timedelta(days=28),
        first_failed_payment_at=now,
    )
    subscription = member.subscriptions.get()

    with time_machine.travel(now + timedelta(days=6)):
        assert tasks.grace_end_due_task() == 0
    with time_machine.travel(now + timedelta(days=7, minutes=1)):
        assert tasks.grace_end_due_task() == 1
        assert tasks.grace_end_due_task() == 0
    subscription.refresh_from_db()
    assert subscription.grace_ended_at is not None


def test_reconcile_applies_events_no_webhook_delivered_and_only_once(
    client, make_member, stripe_plans, standin
):
    member = make_member("oscar@example.com", trial="over")
    client.force_login(member)
    pay(standin, client.post("/billing/checkout/", {"plan": stripe_plans["month"].pk})["Location"])
    assert not Subscription.objects.exists()  # the webhooks were lost, the reader never came back

    processed = tasks.stripe_reconcile_task()

    assert processed == 3  # customer.subscription.created, invoice.paid, checkout.session.completed
    assert Subscription.objects.get(user=member).status == "active"
    assert WebhookEvent.objects.filter(processed_at__isnull=False).count() == 3
    assert tasks.stripe_reconcile_task() == 0


# ---- the subscriptions, a page per task -------------------------------------------------


def subscribers_at_stripe_and_here(standin, plan, count):
    """`count` members, each with a subscription at Stripe (the stand-in's bulk control call,
    without events) and our copy of it as an earlier sync left it. Returns Stripe's ids."""
    status, made = control(
        standin, "/_standin/subscriptions/bulk", {"count": count, "price": plan.stripe_price_id}
    )
    assert status == 200, made
    at_stripe = made["subscriptions"]
    users = User.objects.bulk_create(
        User(email=f"bulk-{n}@example.com", password="!") for n in range(count)
    )
    Customer.objects.bulk_create(
        Customer(user=user, stripe_customer_id=data["customer"])
        for user, data in zip(users, at_stripe, strict=True)
    )
    now = timezone.now()
    Subscription.objects.bulk_create(
        Subscription(
            stripe_subscription_id=data["id"],
            user=user,
            plan=plan,
            status=data["status"],
            started_at=now,
            synced_at=now,
            stripe_digest=services.stripe_digest(data),
        )
        for user, data in zip(users, at_stripe, strict=True)
    )
    return [data["id"] for data in at_stripe]


def test_reconcile_pages_through_every_subscription_a_task_per_page_copying_only_changes(
    stripe_plans, standin, stripe_client, eager_tasks
):
    ids = subscribers_at_stripe_and_here(standin, stripe_plans["month"], 250)  # three pages
    changed = [ids[0], ids[120], ids[-1]]  # on each page
    for subscription_id in changed:
        stripe_client.v1.subscriptions.update(
            subscription_id, params={"cancel_at_period_end": True}
        )

    tasks.stripe_reconcile_task()  # then, eagerly, a subscriptions task per page

    written = Subscription.objects.filter(sync_ticket__gt=0)
    assert sorted(written.values_list("stripe_subscription_id", flat=True)) == sorted(changed)
    assert all(s.cancel_at_period_end for s in written)
    assert SentMail.objects.filter(kind="subscription_cancelled").count() == 3


def test_reconcile_leaves_subscriptions_of_customers_not_ours_alone(
    make_member, stripe_plans, standin, stripe_client
):
    status, made = control(
        standin,
        "/_standin/subscriptions/bulk",
        {"count": 5, "price": stripe_plans["month"].stripe_price_id},
    )
    assert status == 200, made
    # Another site's, on the same Stripe account, naming a member number that is one of ours here.
    member = make_member("someone@example.com")
    for subscription in made["subscriptions"]:
        stripe_client.v1.subscriptions.update(
            subscription["id"], params={"metadata": {"user_id": str(member.pk)}}
        )

    assert services.stripe_reconcile_subscriptions() is None  # one page, the last

    assert not Subscription.objects.exists()


def test_reconcile_of_ten_thousand_subscriptions_runs_in_bounded_memory(
    stripe_plans, standin, stripe_client
):
    ids = subscribers_at_stripe_and_here(standin, stripe_plans["month"], 10_000)
    changed = ids[::500]  # twenty, spread over the pages
    for subscription_id in changed:
        stripe_client.v1.subscriptions.cancel(subscription_id)
    # What one page of Stripe's subscriptions costs to hold: everything at once is a hundred.
    tracemalloc.start()
    one_page = stripe_api.subscriptions_page()
    page_size = tracemalloc.get_traced_memory()[0]
    del one_page
    tracemalloc.stop()

    tracemalloc.start()
    pages, cursor = 0, None
    while True:  # what the chain of tasks does, one task per turn
        cursor = services.stripe_reconcile_subscriptions(starting_after=cursor)
        pages += 1
        if cursor is None:
            break
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()

    assert pages == 100
    # A page and what working on it takes; all 10,000 at once would be a hundred pages.
    assert peak < 4 * page_size, (peak, page_size)
    written = Subscription.objects.filter(sync_ticket__gt=0)
    assert sorted(written.values_list("stripe_subscription_id", flat=True)) == sorted(changed)
    assert set(written.values_list("status", flat=True)) == {"canceled"}


def test_reconcile_reads_events_past_the_first_page(
    client, make_member, stripe_plans, standin, stripe_client, stripe_events
):
    member = make_member("oscar@example.com", trial="over")
    client.force_login(member)
    _, paid = pay(
        standin, client.post("/billing/checkout/", {"plan": stripe_plans["month"].pk})["Location"]
    )
    for number in range(105):  # each a customer.subscription.updated no webhook delivered
        stripe_client.v1.subscriptions.update(
            paid["subscription"], params={"metadata": {"note": str(number)}}
        )
    handled = [e for e in stripe_events.pending() if e["type"] in services.HANDLERS]
    assert len(handled) > 100  # more than one page of Stripe's list

    assert services.stripe_reconcile_events() == len(handled)

    assert WebhookEvent.objects.filter(processed_at__isnull=False).count() == len(handled)
    assert Subscription.objects.get(user=member).status == "active"
