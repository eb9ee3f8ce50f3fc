"""The trial's periodic jobs one at a time, run eagerly in this process (accounts/lifecycle.py,
through the tasks beat queues). Time is moved with time_machine; the real worker process is in
tests/integration/worker/."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail as outbox
from django.db import connection

from accounts import entitlements, lifecycle, mail
from accounts.models import Membership, SentMail, User
from accounts.services import complimentary_grant, trial_set
from accounts.tasks import (
    mail_requeue_unsent_task,
    trials_end_due_task,
    trials_remind_ending_task,
)

pytestmark = pytest.mark.django_db


NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def member_with_trial(email, *, ends_in):
    member = User.objects.create_user(email)
    trial_set(
        user_id=member.pk, started_at=NOW + ends_in - timedelta(days=7), ends_at=NOW + ends_in
    )
    return User.objects.select_related("membership").get(pk=member.pk)


@time_machine.travel(NOW, tick=False)
def test_the_reminder_goes_once_even_when_the_job_runs_twice(run_job, plans):
    member = member_with_trial("rita@example.com", ends_in=timedelta(days=1, hours=12))

    assert run_job(trials_remind_ending_task) == 1
    assert run_job(trials_remind_ending_task) == 0

    [message] = outbox.outbox
    assert message.to == ["rita@example.com"]
    assert message.subject == "Your Masthead free trial ends on 2 December"
    assert "subscribe from £12.00 per month" in message.body
    assert "http://127.0.0.1:8000/pricing/" in message.body
    assert SentMail.objects.get().key == f"trial_ending:{member.pk}:2026-12-02T21:00:00+00:00"


def test_two_overlapping_reminder_runs_send_one_message(run_job):
    member_with_trial("olive@example.com", ends_in=timedelta(days=1))
    with time_machine.travel(NOW, tick=False):
        # the second run starts before the first has queued anything
        assert lifecycle.trials_remind_ending() == 1
        assert lifecycle.trials_remind_ending() == 0
        run_job(mail_requeue_unsent_task, 0)
        run_job(mail_requeue_unsent_task, 0)
    assert len(outbox.outbox) == 1


def test_no_reminder_until_two_days_before_the_end(run_job):
    member_with_trial("early@example.com", ends_in=timedelta(days=5))
    with time_machine.travel(NOW, tick=False):
        assert run_job(trials_remind_ending_task) == 0
    with time_machine.travel(NOW + timedelta(days=3, minutes=1), tick=False):
        assert run_job(trials_remind_ending_task) == 1
    assert [m.to for m in outbox.outbox] == [["early@example.com"]]


def test_an_extended_trial_is_reminded_again_before_its_new_end(run_job):
    member = member_with_trial("ext@example.com", ends_in=timedelta(days=1))
    with time_machine.travel(NOW, tick=False):
        run_job(trials_remind_ending_task)
        trial_set(
            user_id=member.pk,
            started_at=member.membership.trial_started_at,
            ends_at=member.membership.trial_ends_at + timedelta(days=7),
        )
    with time_machine.travel(NOW + timedelta(days=7), tick=False):
        run_job(trials_remind_ending_task)
    assert len(outbox.outbox) == 2


def test_the_sweep_ends_due_trials_only_and_mails_each_once(run_job):
    due = member_with_trial("due@example.com", ends_in=-timedelta(minutes=1))
    due_to_the_microsecond = member_with_trial(
        "micro@example.com", ends_in=-timedelta(seconds=1, microseconds=5)
    )
    member_with_trial("running@example.com", ends_in=timedelta(hours=1))
    User.objects.create_user("never@example.com")
    with time_machine.travel(NOW, tick=False):
        assert run_job(trials_end_due_task) == 2
        assert run_job(trials_end_due_task) == 0

    ended = dict(User.objects.values_list("email", "membership__trial_ended_at"))
    assert ended == {
        "due@example.com": NOW,
        "micro@example.com": NOW,
        "running@example.com": None,
        "never@example.com": None,
    }
    assert sorted((m.to[0], m.subject) for m in outbox.outbox) == [
        ("due@example.com", "Your Masthead free trial has ended"),
        ("micro@example.com", "Your Masthead free trial has ended"),
    ]
    # the keys name the trial's end, so an extended trial gets its own mail
    assert set(SentMail.objects.values_list("key", flat=True)) == {
        lifecycle.trial_mail_key(mail.TRIAL_ENDED, member.pk, member.membership.trial_ends_at)
        for member in (due, due_to_the_microsecond)
    }


@pytest.mark.parametrize(
    ("job", "ends_in"),
    [(trials_remind_ending_task, timedelta(days=1)), (trials_end_due_task, -timedelta(minutes=1))],
)
@time_machine.travel(NOW, tick=False)
def test_members_who_subscribed_or_were_given_access_during_their_trial_get_no_trial_mail(
    run_job, make_subscription, job, ends_in
):
    def subscribe(member, status):  # two days ago, at the frozen NOW
        make_subscription(member, status, started_at=NOW - timedelta(days=2))

    subscribe(member_with_trial("payer@example.com", ends_in=ends_in), "active")
    subscribe(member_with_trial("grace@example.com", ends_in=ends_in), "past_due")
    given = member_with_trial("guest@example.com", ends_in=ends_in)
    complimentary_grant(user=given, until=NOW + timedelta(days=30), reason="Press", granted_by=None)
    subscribe(member_with_trial("lapsed@example.com", ends_in=ends_in), "canceled")
    member_with_trial("free@example.com", ends_in=ends_in)

    run_job(job)

    assert sorted(m.to[0] for m in outbox.outbox) == ["free@example.com", "lapsed@example.com"]
    if job is trials_end_due_task:
        assert (
            Membership.objects.filter(trial_ended_at=NOW).count() == 5
        )  # every due trial is recorded as ended


def test_a_sweep_that_has_not_run_does_not_keep_access_open(make_member):
    reader = make_member("late@example.com", trial="over")  # trial over, sweep never ran
    assert reader.membership.trial_ended_at is None
    assert entitlements.for_user(reader).has_premium is False


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the partial index is read by PostgreSQL's planner"
)
def test_the_sweep_reads_the_partial_index_of_due_trials():
    with connection.cursor() as cursor:
        cursor.execute(
            "SET LOCAL enable_seqscan = off"
        )  # a tiny table would be scanned whole anyway
    plan = lifecycle.due_chunk(NOW, 1000).explain()
    assert "membership_trial_due_idx" in plan
