"""The background side of the membership: ending due trials, reminding before the end.

Access never waits on these: the entitlement module compares trial_ends_at with the
clock. These sweeps record that a trial ended and send the mail that goes with it.

Both are set-based and chunked on user_trial_due_idx (trial_ends_at, for trials not
yet marked ended), so their cost grows with the rows that are due, not with the
members. Both are safe to run twice, or twice at once: rows a concurrent sweep holds
are skipped (SKIP LOCKED on PostgreSQL), and every message has a unique SentMail key.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from accounts import mail
from accounts.models import SentMail, User

REMIND_BEFORE = timedelta(days=2)


def paying(now: datetime):
    """Members (as a filter on User) who subscribed or were given access: their trial's mail is not for them."""
    from billing.models import PAYING_STATUSES, ComplimentaryAccess, Subscription

    subscribed = Subscription.objects.filter(user=OuterRef("pk"), status__in=PAYING_STATUSES)
    given = ComplimentaryAccess.objects.current(now).filter(user=OuterRef("pk"))
    return Q(Exists(subscribed)) | Q(Exists(given))


def trial_mail_key(kind: str, user_id: int, trial_ends_at: datetime) -> str:
    """A trial's mail key names its end, so an extended trial gets its own reminder and end mail."""
    return f"{kind}:{user_id}:{trial_ends_at.isoformat()}"


def due_chunk(now: datetime, chunk: int):
    """The next `chunk` due trials, oldest end first, as (id, trial_ends_at), locked for this transaction.

    Reads user_trial_due_idx in order and stops after `chunk` rows; rows another sweep
    has locked are skipped rather than waited for.
    """
    return (
        User.objects.trials_due(now)
        .order_by("trial_ends_at")
        .select_for_update(skip_locked=True)
        .values_list("pk", "trial_ends_at")[:chunk]
    )


def trials_end_due(*, now: datetime | None = None, chunk: int | None = None) -> int:
    """Mark every due trial ended and record its trial-ended mail. Returns how many it ended.

    Members who subscribed during their trial (or were given access) get no trial-ended mail.

    Each chunk is one transaction: lock the next due ids (skipping rows another
    sweep holds), mark them ended, record their mail, and queue it after commit.
    A sweep killed part-way leaves the committed chunks done and the rest due.
    """
    now = now or timezone.now()
    chunk = chunk or settings.TRIAL_SWEEP_CHUNK
    end_chunk = _end_chunk_postgresql if connection.vendor == "postgresql" else _end_chunk
    ended = 0
    while True:
        with transaction.atomic():
            count, keys = end_chunk(now, chunk)
            if not count:
                return ended
            mail.enqueue_recorded(keys)
        ended += count


def _end_chunk(now: datetime, chunk: int) -> tuple[int, list[str]]:
    """One chunk, portably: returns how many trials it ended and the mail keys it recorded."""
    due = list(due_chunk(now, chunk))
    User.objects.filter(pk__in=[pk for pk, _ in due], trial_ended_at__isnull=True).update(
        trial_ended_at=now
    )
    unpaid = set(
        User.objects.filter(pk__in=[pk for pk, _ in due])
        .exclude(paying(now))
        .values_list("pk", flat=True)
    )
    keys = [(pk, trial_mail_key(mail.TRIAL_ENDED, pk, ends)) for pk, ends in due if pk in unpaid]
    mail.record(mail.TRIAL_ENDED, keys)
    return len(due), [key for _, key in keys]


# trial_mail_key() in SQL: "kind:id:" + the end in Python's isoformat(), in UTC.
ISO_SQL = (
    "to_char(ended.trial_ends_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS')"
    " || CASE WHEN date_part('microseconds', ended.trial_ends_at)::int %% 1000000 <> 0"
    " THEN to_char(ended.trial_ends_at AT TIME ZONE 'UTC', '.US') ELSE '' END || '+00:00'"
)


def _end_chunk_postgresql(now: datetime, chunk: int) -> tuple[int, list[str]]:
    """The same chunk as _end_chunk, as one statement: with a million trials due at once,
    the round trips and a Python object per row would be most of the sweep's time."""
    from billing.models import PAYING_STATUSES, ComplimentaryAccess, Subscription

    due_sql, due_params = due_chunk(now, chunk).query.sql_with_params()
    user, sent = User._meta.db_table, SentMail._meta.db_table
    subscription, given = Subscription._meta.db_table, ComplimentaryAccess._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH ended AS (
                UPDATE {user} SET trial_ended_at = %s
                WHERE id = ANY(ARRAY(SELECT due.pk FROM ({due_sql}) AS due)) AND trial_ended_at IS NULL
                RETURNING id, trial_ends_at
            ), recorded AS (
                INSERT INTO {sent} (key, kind, user_id, context, created_at)
                SELECT %s || ':' || ended.id || ':' || {ISO_SQL}, %s, ended.id, '{{}}', %s FROM ended
                WHERE NOT EXISTS (SELECT 1 FROM {subscription} WHERE user_id = ended.id AND status = ANY(%s))
                  AND NOT EXISTS (SELECT 1 FROM {given} WHERE user_id = ended.id AND starts_at <= %s AND until > %s)
                ON CONFLICT (key) DO NOTHING
                RETURNING key
            )
            SELECT (SELECT count(*) FROM ended), ARRAY(SELECT key FROM recorded)
            """,
            [
                now,
                *due_params,
                mail.TRIAL_ENDED,
                mail.TRIAL_ENDED,
                now,
                [str(status) for status in PAYING_STATUSES],
                now,
                now,
            ],
        )
        return cursor.fetchone()


def trials_remind_ending(*, now: datetime | None = None, chunk: int | None = None) -> int:
    """Record and queue the "trial ends in 2 days" mail for every trial ending within 2 days,
    except to members who have already subscribed (or were given access).

    Once per trial: a trial already reminded is skipped, and two runs at once record
    the same key, which sends one message. Returns how many reminders it recorded.
    """
    now = now or timezone.now()
    chunk = chunk or settings.TRIAL_SWEEP_CHUNK
    ending = (
        User.objects.filter(
            trial_ended_at__isnull=True,
            trial_ends_at__gt=now,
            trial_ends_at__lte=now + REMIND_BEFORE,
        )
        .exclude(paying(now))
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
