"""The periodic billing jobs."""

from datetime import timedelta

import time_machine
from django.conf import settings
from django.utils import timezone

from billing import tasks
from billing.models import Subscription, WebhookEvent
from config.celery import app
from tests.billing.conftest import pay


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
