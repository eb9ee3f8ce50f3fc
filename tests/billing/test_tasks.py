"""The periodic billing jobs, and staff granting complimentary access."""

from datetime import timedelta

import time_machine
from django.conf import settings
from django.utils import timezone

from billing import tasks
from billing.models import ComplimentaryAccess, Subscription, WebhookEvent
from config.celery import app
from tests.billing.conftest import pay


def test_every_billing_job_is_scheduled_and_registered():
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    app.loader.import_default_modules()
    for name in ("end_due_complimentary_access", "end_due_payment_grace", "reconcile_with_stripe"):
        assert f"billing.tasks.{name}" in scheduled
        assert f"billing.tasks.{name}" in app.tasks


def test_ended_complimentary_access_is_recorded_once(make_member):
    member = make_member("guest@example.com", trial="over")
    now = timezone.now()
    grant = ComplimentaryAccess.objects.create(
        user=member, until=now + timedelta(days=1), reason="Press"
    )

    assert tasks.end_due_complimentary_access() == 0
    with time_machine.travel(now + timedelta(days=1, minutes=1)):
        assert tasks.end_due_complimentary_access() == 1
        assert tasks.end_due_complimentary_access() == 0
    grant.refresh_from_db()
    assert grant.ended_at is not None


def test_a_grace_period_that_ran_out_is_recorded_once(make_member, settings):
    settings.PAYMENT_GRACE_DAYS = 7
    member = make_member("late@example.com", trial="over")
    now = timezone.now()
    subscription = Subscription.objects.create(
        stripe_subscription_id="sub_late",
        user=member,
        status="past_due",
        started_at=now - timedelta(days=40),
        current_period_end=now + timedelta(days=28),
        first_failed_payment_at=now,
        synced_at=now,
    )

    with time_machine.travel(now + timedelta(days=6)):
        assert tasks.end_due_payment_grace() == 0
    with time_machine.travel(now + timedelta(days=7, minutes=1)):
        assert tasks.end_due_payment_grace() == 1
        assert tasks.end_due_payment_grace() == 0
    subscription.refresh_from_db()
    assert subscription.grace_ended_at is not None


def test_reconcile_applies_events_no_webhook_delivered_and_only_once(
    client, make_member, stripe_plans, standin
):
    member = make_member("oscar@example.com", trial="over")
    client.force_login(member)
    pay(standin, client.post("/billing/checkout/", {"plan": stripe_plans["month"].pk})["Location"])
    assert not Subscription.objects.exists()  # the webhooks were lost, the reader never came back

    processed = tasks.reconcile_with_stripe()

    assert processed == 3  # customer.subscription.created, invoice.paid, checkout.session.completed
    assert Subscription.objects.get(user=member).status == "active"
    assert WebhookEvent.objects.filter(processed_at__isnull=False).count() == 3
    assert tasks.reconcile_with_stripe() == 0


def test_staff_grant_complimentary_access_in_the_admin_and_are_recorded_as_granting_it(
    admin_client, admin_user, make_member
):
    member = make_member("guest@example.com", trial="over")
    until = timezone.now() + timedelta(days=30)

    response = admin_client.post(
        "/admin/billing/complimentaryaccess/add/",
        {
            "user": member.pk,
            "starts_at_0": timezone.now().strftime("%Y-%m-%d"),
            "starts_at_1": timezone.now().strftime("%H:%M:%S"),
            "until_0": until.strftime("%Y-%m-%d"),
            "until_1": until.strftime("%H:%M:%S"),
            "reason": "Speaker at our conference",
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    grant = ComplimentaryAccess.objects.get(user=member)
    assert grant.granted_by == admin_user and grant.reason == "Speaker at our conference"


def test_staff_grant_complimentary_access_to_members_from_the_member_list(
    admin_client, admin_user, make_member, articles
):
    member = make_member("guest@example.com", trial="over")
    until = (timezone.now() + timedelta(days=30)).date()

    response = admin_client.post(
        "/admin/accounts/user/",
        {
            "action": "grant_complimentary_access",
            "_selected_action": [member.pk],
            "until": until.isoformat(),
            "days": "",
        },
        follow=True,
    )

    assert (
        f"Granted complimentary access to 1 member(s) until {until:%-d %B %Y}."
        in response.content.decode()
    )
    grant = ComplimentaryAccess.objects.get(user=member)
    assert grant.granted_by == admin_user and grant.until.date() == until


def test_granting_complimentary_access_needs_a_future_date(admin_client, make_member):
    member = make_member("guest@example.com", trial="over")

    response = admin_client.post(
        "/admin/accounts/user/",
        {
            "action": "grant_complimentary_access",
            "_selected_action": [member.pk],
            "until": "2001-01-01",
            "days": "",
        },
        follow=True,
    )

    assert "Choose a date in the future" in response.content.decode()
    assert not ComplimentaryAccess.objects.exists()
