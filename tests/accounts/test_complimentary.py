"""Complimentary access: staff grant it in the admin, it reads as premium until its end, and its end is recorded."""

from datetime import timedelta

import time_machine
from django.conf import settings
from django.utils import timezone

from accounts import tasks
from accounts.entitlements import State, for_user
from accounts.models import ComplimentaryAccess, User
from accounts.services import complimentary_grant
from config.celery import app


def test_the_complimentary_job_is_scheduled_and_registered():
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    app.loader.import_default_modules()
    assert "accounts.tasks.complimentary_end_due_task" in scheduled
    assert "accounts.tasks.complimentary_end_due_task" in app.tasks


def test_ended_complimentary_access_is_recorded_once(make_member):
    member = make_member("guest@example.com", trial="over")
    now = timezone.now()
    grant = complimentary_grant(
        user=member, until=now + timedelta(days=1), reason="Press", granted_by=None
    )

    assert tasks.complimentary_end_due_task() == 0
    with time_machine.travel(now + timedelta(days=1, minutes=1)):
        assert tasks.complimentary_end_due_task() == 1
        assert tasks.complimentary_end_due_task() == 0
    grant.refresh_from_db()
    assert grant.ended_at is not None


def test_staff_grant_complimentary_access_in_the_admin_and_are_recorded_as_granting_it(
    client, superuser, make_member
):
    client.force_login(superuser)
    member = make_member("guest@example.com", trial="over")
    until = timezone.now() + timedelta(days=30)

    response = client.post(
        "/admin/accounts/complimentaryaccess/add/",
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
    assert grant.granted_by == superuser and grant.reason == "Speaker at our conference"


def test_staff_grant_complimentary_access_to_members_from_the_member_list(
    client, superuser, make_member, articles
):
    client.force_login(superuser)
    member = make_member("guest@example.com", trial="over")
    until = (timezone.now() + timedelta(days=30)).date()

    response = client.post(
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
    assert grant.granted_by == superuser and grant.until.date() == until


def test_granting_complimentary_access_needs_a_future_date(client, superuser, make_member):
    client.force_login(superuser)
    member = make_member("guest@example.com", trial="over")

    response = client.post(
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


def test_staff_grant_in_the_admin_reaches_the_members_access_and_ending_it_now_takes_it_away(
    client, superuser, make_member
):
    client.force_login(superuser)
    member = make_member("guest@example.com", trial="over")
    until = timezone.now() + timedelta(days=30)
    client.post(
        "/admin/accounts/complimentaryaccess/add/",
        {
            "user": member.pk,
            "starts_at_0": timezone.now().strftime("%Y-%m-%d"),
            "starts_at_1": timezone.now().strftime("%H:%M:%S"),
            "until_0": until.strftime("%Y-%m-%d"),
            "until_1": until.strftime("%H:%M:%S"),
            "reason": "Speaker at our conference",
        },
    )

    def state():
        return for_user(User.objects.select_related("membership").get(pk=member.pk)).state

    assert state() == State.COMPLIMENTARY
    grant = ComplimentaryAccess.objects.get(user=member)
    client.post(
        "/admin/accounts/complimentaryaccess/",
        {"action": "end_now", "_selected_action": [grant.pk]},
    )
    assert state() == State.TRIAL_OVER


def test_a_later_grant_takes_over_when_the_job_records_the_earlier_ones_end(make_member):
    member = make_member("guest@example.com", trial="over")
    now = timezone.now()
    first = complimentary_grant(
        user=member, until=now + timedelta(days=1), reason="Panel", granted_by=None
    )
    complimentary_grant(
        user=member,
        starts_at=now + timedelta(days=3),
        until=now + timedelta(days=5),
        reason="Keynote",
        granted_by=None,
    )

    def state(at):
        return for_user(User.objects.select_related("membership").get(pk=member.pk), now=at).state

    assert state(timezone.now()) == State.COMPLIMENTARY
    assert state(first.until + timedelta(minutes=1)) == State.TRIAL_OVER  # the gap between them
    with time_machine.travel(now + timedelta(days=3, minutes=1)):
        tasks.complimentary_end_due_task()
        assert state(timezone.now()) == State.COMPLIMENTARY
