"""The trial's end and member mail on a real Celery worker process (Redis in CI).

Tasks are queued as beat queues them (`.delay()` on the periodic task); the worker
runs them against this test's database and writes its mail to files that we count.
"""

from collections import Counter
from datetime import timedelta

import pytest
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from accounts import mail
from accounts.models import Membership, SentMail, User
from accounts.services import trial_set
from accounts.tasks import mail_requeue_unsent_task, trials_end_due_task
from tests.integration.worker.conftest import needs_postgres, wait_until

pytestmark = [needs_postgres, pytest.mark.django_db(transaction=True)]


def make_due_trials(count: int, *, prefix="due") -> list[User]:
    now = timezone.now()
    password = make_password(None)
    members = User.objects.bulk_create(
        User(email=f"{prefix}{n}@example.com", password=password) for n in range(count)
    )
    Membership.objects.bulk_create(
        Membership(
            user=member,
            email_verified_at=now - timedelta(days=7),
            trial_started_at=now - timedelta(days=7, minutes=n % 50),
            trial_ends_at=now - timedelta(minutes=n % 50 + 1),
        )
        for n, member in enumerate(members)
    )
    return members


def test_a_due_trial_is_ended_and_exactly_one_trial_ended_mail_goes_out(make_worker):
    member = make_due_trials(1, prefix="Ada.Lovelace+news")[0]
    still_trialing = User.objects.create_user("tina@example.com")
    trial_set(
        user_id=still_trialing.pk,
        started_at=timezone.now(),
        ends_at=timezone.now() + timedelta(days=3),
    )
    worker = make_worker()
    worker.start()

    trials_end_due_task.delay()
    wait_until(
        lambda: SentMail.objects.filter(sent_at__isnull=False).exists(), what="the trial-ended mail"
    )
    trials_end_due_task.delay()  # the next beat: nothing left to do
    mail_requeue_unsent_task.delay(older_than_seconds=0)
    worker.drain()

    member.refresh_from_db()
    still_trialing.refresh_from_db()
    assert member.membership.trial_ended_at is not None
    assert still_trialing.membership.trial_ended_at is None
    [message] = worker.mails()
    assert message["To"] == "Ada.Lovelace+news0@example.com"
    assert message["Subject"] == "Your Masthead free trial has ended"


def test_a_worker_killed_mid_sweep_loses_nothing_and_sends_nothing_twice(make_worker):
    due = 300
    make_due_trials(due)
    # First worker: the sweeps only, three rows per transaction, killed part-way through.
    sweeper = make_worker(TRIAL_SWEEP_CHUNK=3)
    sweeper.start(queues=[sweeper.default_queue])
    ended = User.objects.filter(membership__trial_ended_at__isnull=False)

    trials_end_due_task.delay()
    wait_until(lambda: ended.count() >= 30, what="the sweep to get going")
    sweeper.kill()
    ended_at_kill = ended.count()
    assert 0 < ended_at_kill < due, "the kill should land in the middle of the sweep"

    # Restarted (all queues): the next beat of each periodic job finishes the work.
    worker = make_worker(TRIAL_SWEEP_CHUNK=3)
    worker.start()
    trials_end_due_task.delay()
    mail_requeue_unsent_task.delay(older_than_seconds=0)
    wait_until(
        lambda: (
            SentMail.objects.filter(kind=mail.TRIAL_ENDED, sent_at__isnull=False).count() == due
        ),
        what=f"{due} trial-ended mails",
    )
    worker.drain()

    assert not Membership.objects.trials_due(timezone.now()).exists()
    assert SentMail.objects.filter(kind=mail.TRIAL_ENDED).count() == due
    recipients = Counter(message["To"] for message in worker.mails())
    assert len(recipients) == due, "every member got their mail"
    assert set(recipients.values()) == {1}, "nobody got it twice"


def test_mail_queued_in_a_transaction_that_rolls_back_never_reaches_the_worker(make_worker):
    [member] = make_due_trials(1, prefix="paul")
    worker = make_worker()
    worker.start()

    def queue_then_fail():
        with transaction.atomic():
            mail.queue(
                mail.PAYMENT_FAILED,
                user_id=member.pk,
                key="payment_failed:in_rolled_back",
                context={"amount": "£1.00"},
            )
            raise RuntimeError("the webhook's transaction fails")

    with pytest.raises(RuntimeError, match="the webhook's transaction fails"):
        queue_then_fail()
    mail.queue(
        mail.PAYMENT_FAILED,
        user_id=member.pk,
        key="payment_failed:in_committed",
        context={"amount": "£2.00"},
    )
    wait_until(lambda: worker.mails(), what="the committed message")
    mail_requeue_unsent_task.delay(
        older_than_seconds=0
    )  # the rolled-back one is not waiting anywhere either
    worker.drain()

    [message] = worker.mails()
    assert "£2.00" in message.get_payload(0).get_payload(decode=True).decode()
    assert list(SentMail.objects.values_list("key", flat=True)) == ["payment_failed:in_committed"]
