"""Member mail: one function per message, and `queue()` to send any of them from a job or view.

Each message renders templates/emails/<kind>-subject.txt, <kind>-body.txt and
<kind>-body.html. Links are absolute, built from settings.SITE_URL. Mail is never
sent inside a request: callers `queue()` a message, which records it (SentMail)
in their transaction and hands it to the Celery worker once that commits.

Other apps add to a message's context through the `rendering` signal (billing adds the
entry price that the trial mails quote), so this module needs nothing from them.

No message carries an article's premium body: they are about the membership only.
"""

import json
from datetime import datetime

from celery import signature
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import connection, transaction
from django.dispatch import Signal
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from psycopg.types.json import Jsonb

from accounts.models import SentMail, User

TRIAL_STARTED = "trial_started"
TRIAL_ENDING = "trial_ending"
TRIAL_ENDED = "trial_ended"
PAYMENT_FAILED = "payment_failed"
PAYMENT_ACTION_REQUIRED = "payment_action_required"
# Stripe's retries all failed: the subscription was cancelled, or put on hold (unpaid).
PAYMENT_FAILED_FINAL = "payment_failed_final"
SUBSCRIPTION_STARTED = "subscription_started"
SUBSCRIPTION_CANCELLED = "subscription_cancelled"
NEWSLETTER_CONFIRM = "newsletter_confirm"

BULK = 100  # record() writes more messages than this in one statement of two arrays
MAIL_BATCH = 1000  # recorded messages per sending task: one publish per thousand, not per message

# The worker's task that sends recorded messages (accounts/tasks.py). Queued by its name: the
# tasks import this module, as every task imports the service it runs.
SEND_TASK = "accounts.tasks.mail_send_task"

# Sent as a message is rendered, with sender=<kind> and user=<member>; each receiver returns
# a dict of extra template context (or None). The module's own names win over theirs.
rendering = Signal()


def queue(kind: str, *, user_id: int, key: str, context: dict | None = None) -> None:
    """Send message `kind` to the member once per `key`, after the current transaction commits.

    Nothing is sent if the transaction rolls back. Queuing the same key twice (a job
    that runs twice, a webhook delivered twice) sends one message. `context` holds
    small display values (plan name, amount, dates as text); it must be JSON.
    """
    if kind not in SENDERS:
        raise ValueError(f"Unknown member mail {kind!r}; expected one of {', '.join(SENDERS)}.")
    context = dict(context or {})
    json.dumps(context)  # fail here, in the caller, rather than in the worker
    record(kind, [(user_id, key)], context=context)
    enqueue_recorded([key])


def record(kind: str, recipients: list[tuple[int, str]], *, context: dict | None = None) -> None:
    """Write the SentMail rows for (user_id, key) pairs; keys already recorded are left alone.

    One INSERT for the lot, so a sweep can record a chunk of messages at once.
    """
    if not recipients:
        return
    now = timezone.now()
    if connection.vendor == "postgresql" and len(recipients) > BULK:
        # Two arrays instead of a model per row: about ten times faster than bulk_create
        # when a sweep records thousands of messages at once. A request's one message goes
        # through the ORM below.
        user_ids, keys = zip(*recipients, strict=True)
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {SentMail._meta.db_table} (key, kind, user_id, context, created_at) "
                "SELECT key, %s, user_id, %s, %s FROM unnest(%s::text[], %s::bigint[]) AS r(key, user_id) "
                "ON CONFLICT (key) DO NOTHING",
                [kind, Jsonb(context or {}), now, list(keys), list(user_ids)],
            )
        return
    SentMail.objects.bulk_create(
        [
            SentMail(key=key, kind=kind, user_id=user_id, context=context or {}, created_at=now)
            for user_id, key in recipients
        ],
        ignore_conflicts=True,
    )


def enqueue_recorded(keys: list[str]) -> None:
    """Queue the sending of recorded messages, in batches, once the current transaction commits.

    A sweep that ends a million trials queues a thousand tasks, not a million.
    """
    for start in range(0, len(keys), MAIL_BATCH):
        batch = list(keys[start : start + MAIL_BATCH])
        transaction.on_commit(lambda batch=batch: signature(SEND_TASK, args=[batch]).delay())


def deliver(kind: str, *, user_id: int, key: str, context: dict | None = None) -> bool:
    """Send the message under `key` unless it has gone already. Returns whether it sent.

    Records the message first if it was not recorded (a task queued by hand), then
    sends it as `deliver_recorded` does.
    """
    with transaction.atomic():
        if not User.objects.filter(pk=user_id).exists():
            return False  # the member deleted their account meanwhile (and the rows with it)
        record(kind, [(user_id, key)], context=context)
        return deliver_recorded(key)


def deliver_recorded(key: str) -> bool:
    """Send the recorded message under `key` unless it has gone already. Returns whether it sent.

    The row is locked and marked sent in the transaction that sends, so a transport
    error rolls the mark back (the task retries), and a rerun after success, or a
    duplicate task running at the same time, sends nothing. The one gap no database
    can close: a crash after the mail server accepted the message and before the
    commit sends that message again on retry.
    """
    with transaction.atomic():
        row = SentMail.objects.select_for_update().filter(key=key, sent_at__isnull=True).first()
        if row is None:
            return False  # sent already, or the member's account is gone
        user = User.objects.select_related("membership").get(pk=row.user_id)
        SENDERS[row.kind](user, row.context)
        row.sent_at = timezone.now()
        row.save(update_fields=["sent_at"])
    return True


# One function per message. Each takes the member and the context the caller queued.


def send_trial_started(user: User, context: dict) -> None:
    _send(TRIAL_STARTED, user, context, trial_ends_at=_trial_end(user, context))


def send_trial_ending(user: User, context: dict) -> None:
    _send(TRIAL_ENDING, user, context, trial_ends_at=_trial_end(user, context))


def send_trial_ended(user: User, context: dict) -> None:
    _send(TRIAL_ENDED, user, context, trial_ends_at=_trial_end(user, context))


def send_payment_failed(user: User, context: dict) -> None:
    _send(PAYMENT_FAILED, user, context)


def send_payment_action_required(user: User, context: dict) -> None:
    _send(PAYMENT_ACTION_REQUIRED, user, context)


def send_payment_failed_final(user: User, context: dict) -> None:
    _send(PAYMENT_FAILED_FINAL, user, context)


def send_subscription_started(user: User, context: dict) -> None:
    _send(SUBSCRIPTION_STARTED, user, context)


def send_subscription_cancelled(user: User, context: dict) -> None:
    _send(SUBSCRIPTION_CANCELLED, user, context)


def send_newsletter_confirm(user: User, context: dict) -> None:
    _send(NEWSLETTER_CONFIRM, user, context)


SENDERS = {
    TRIAL_STARTED: send_trial_started,
    TRIAL_ENDING: send_trial_ending,
    TRIAL_ENDED: send_trial_ended,
    PAYMENT_FAILED: send_payment_failed,
    PAYMENT_ACTION_REQUIRED: send_payment_action_required,
    PAYMENT_FAILED_FINAL: send_payment_failed_final,
    SUBSCRIPTION_STARTED: send_subscription_started,
    SUBSCRIPTION_CANCELLED: send_subscription_cancelled,
    NEWSLETTER_CONFIRM: send_newsletter_confirm,
}


def _trial_end(user: User, context: dict) -> datetime | None:
    """The trial end the message is about: the one queued with it, else the member's current one."""
    queued = context.get("trial_ends_at")
    return (
        parse_datetime(queued) if isinstance(queued, str) else None
    ) or user.membership.trial_ends_at


def _send(kind: str, user: User, context: dict, **extra) -> None:
    site = settings.SITE_URL
    added = {}
    for _, values in rendering.send(sender=kind, user=user):
        added.update(values or {})
    ctx = {
        **context,  # the caller's display values first: our own names below always win
        **added,
        "user": user,
        "site_name": settings.SITE_NAME,
        "site_url": site,
        "account_url": f"{site}/account/",
        "pricing_url": f"{site}/pricing/",
        **extra,
    }
    subject = " ".join(render_to_string(f"emails/{kind}-subject.txt", ctx).split())
    text = render_to_string(f"emails/{kind}-body.txt", ctx)
    html = render_to_string(f"emails/{kind}-body.html", ctx)
    message = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, [user.email])
    message.attach_alternative(html, "text/html")
    message.send()
