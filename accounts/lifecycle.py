"""The background side of the membership: ending due trials, reminding before the end.

Access never waits on these: the entitlement policy compares trial_ends_at with the
clock. These sweeps record that a trial ended and send the mail that goes with it.

Both are set-based and chunked on membership_trial_due_idx (trial_ends_at, for trials not
yet marked ended), so their cost grows with the rows that are due, not with the
members. Both are safe to run twice, or twice at once: rows a concurrent sweep holds
are skipped (SKIP LOCKED on PostgreSQL), and every message has a unique SentMail key.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import BooleanField, ExpressionWrapper, Q
from django.utils import timezone

from accounts import mail
from accounts.models import Membership, SentMail

REMIND_BEFORE = timedelta(days=2)


def trial_mail_key(kind: str, user_id: int, trial_ends_at: datetime) -> str:
    """A trial's mail key names its end, so an extended trial gets its own reminder and end mail."""
    return f"{kind}:{user_id}:{trial_ends_at.isoformat()}"


def due_chunk(now: datetime, chunk: int):
    """The next `chunk` due trials, oldest end first, as (user id, trial_ends_at, paying), locked
    for this transaction.

    Reads membership_trial_due_idx in order and stops after `chunk` rows; rows another sweep
    has locked are skipped rather than waited for. `paying`: the member subscribed or was
    given access, so the trial's mail is not for them.
    """
    return (
        Membership.objects.trials_due(now)
        .order_by("trial_ends_at")
        .select_for_update(skip_locked=True)
        .values_list(
            "pk", "trial_ends_at", ExpressionWrapper(Membership.paying_q(now), BooleanField())
        )[:chunk]
    )


def trials_end_due(*, now: datetime | None = None, chunk: int | None = None) -> int:
    """Mark every due trial ended and record its trial-ended mail. Returns how many it ended.

    Members who subscribed during their trial (or were given access) get no trial-ended mail.

    Each chunk is one transaction: lock the next due rows (skipping rows another sweep
    holds) and mark them ended, record their mail, and queue it after commit. A sweep
    killed part-way leaves the committed chunks done and the rest due.
    """
    now = now or timezone.now()
    chunk = chunk or settings.TRIAL_SWEEP_CHUNK
    ended = 0
    while True:
        with transaction.atomic():
            due = _end_chunk(now, chunk)
            if not due:
                return ended
            recipients = [
                (pk, trial_mail_key(mail.TRIAL_ENDED, pk, ends))
                for pk, ends, paying in due
                if not paying
            ]
            mail.record(mail.TRIAL_ENDED, recipients)
            mail.enqueue_recorded([key for _, key in recipients])
        ended += len(due)


def _end_chunk(now: datetime, chunk: int) -> list[tuple[int, datetime, bool]]:
    """Lock the next due chunk and mark it ended; returns its rows as due_chunk() reads them."""
    rows = due_chunk(now, chunk)
    if connection.vendor != "postgresql":
        due = list(rows)
        Membership.objects.filter(pk__in=[pk for pk, _, _ in due]).update(trial_ended_at=now)
        return due
    # The same, as one statement around due_chunk()'s own SQL: the ORM's UPDATE of 5,000 listed
    # ids costs ten times this statement's time to build, a third of a million-row sweep's.
    sql, params = rows.query.sql_with_params()
    table = connection.ops.quote_name(Membership._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} AS m SET trial_ended_at = %s FROM ({sql}) AS due (id, ends, paying) "
            "WHERE m.user_id = due.id RETURNING due.id, due.ends, due.paying",
            [now, *params],
        )
        return cursor.fetchall()


def trials_remind_ending(*, now: datetime | None = None, chunk: int | None = None) -> int:
    """Record and queue the "trial ends in 2 days" mail for every trial ending within 2 days,
    except to members who have already subscribed (or were given access).

    Once per trial: a trial already reminded is skipped, and two runs at once record
    the same key, which sends one message. Returns how many reminders it recorded.
    """
    now = now or timezone.now()
    chunk = chunk or settings.TRIAL_SWEEP_CHUNK
    ending = (
        Membership.objects.filter(
            trial_ended_at__isnull=True,
            trial_ends_at__gt=now,
            trial_ends_at__lte=now + REMIND_BEFORE,
        )
        .exclude(Membership.paying_q(now))
        .order_by("trial_ends_at", "pk")
        .values_list("pk", "trial_ends_at")
    )
    reminded, after = 0, None
    while True:
        page = ending
        if after:  # keyset pagination: the next page starts after the last row seen
            page = page.filter(
                Q(trial_ends_at__gt=after[1]) | Q(trial_ends_at=after[1], pk__gt=after[0])
            )
        rows = list(page[:chunk])
        if not rows:
            return reminded
        after = rows[-1]
        keys = {trial_mail_key(mail.TRIAL_ENDING, pk, ends): pk for pk, ends in rows}
        new = sorted(
            set(keys) - set(SentMail.objects.filter(key__in=keys).values_list("key", flat=True))
        )
        with transaction.atomic():
            mail.record(mail.TRIAL_ENDING, [(keys[key], key) for key in new])
            mail.enqueue_recorded(new)
        reminded += len(new)


def mail_requeue_unsent(
    *, now: datetime | None = None, older_than=timedelta(minutes=10), max_age=timedelta(days=2)
) -> int:
    """Queue again the recorded messages that have not gone out. Returns how many.

    They were queued once after their commit; this catches a crash between that
    commit and the queueing, or a task that ran out of retries. Messages older than
    max_age are left unsent for a person to look at, rather than sent days late.
    """
    now = now or timezone.now()
    unsent = (
        SentMail.objects.filter(
            sent_at__isnull=True, created_at__lte=now - older_than, created_at__gt=now - max_age
        )
        .order_by("created_at")
        .values_list("key", flat=True)
    )
    batch, queued = [], 0
    for key in unsent.iterator(chunk_size=mail.MAIL_BATCH):
        batch.append(key)
        if len(batch) == mail.MAIL_BATCH:
            mail.enqueue_recorded(batch)  # outside a transaction: queued at once
            queued, batch = queued + len(batch), []
    mail.enqueue_recorded(batch)
    return queued + len(batch)
