"""Mailing an article to a newsletter's members: planning the send, sending it in batches, the messages.

A send (NewsletterSend) goes in two steps, both on the workers:

- **Planning** records every recipient once (a NewsletterDelivery row, unique per send and
  member) by keyset pagination over the newsletter's list, a chunk of rows per statement, and
  queues one sending task per batch of rows: never one query of a million rows, never a task per
  recipient. Running it again records nobody twice.
- **Sending** mails a batch's rows that are still waiting, each in its own short transaction that
  marks the row sent (the UPDATE locks it), sends, and commits; a concurrent duplicate of the task
  waits on the row and then finds it done, a retried or redelivered task finds the sent ones done,
  and a transport error rolls the mark back. The one gap no database closes
  (as for account mail): a worker killed after the mail server accepted a message and before its
  commit sends that message again; every message carries a Message-ID made from the send and the
  member, so a provider or client can see it is the same message.
- **Or through a provider's batch API** (django-anymail with Mailgun or SparkPost, chosen by
  NEWSLETTER_TRANSPORT, articles/newsletter_transport.py): one call per version of the message
  (the full text, the teaser), the recipients' own parts sent as merge data and headers, with the
  same bookkeeping a call at a time (the call's rows marked, the call, the refused addresses marked
  from what the provider said of each, the commit) and the same gap, as wide as a call.

What each recipient gets is decided when their message is made, by the one entitlement policy:
the full article for readers who may read it then (trial, subscriber, grace, complimentary,
staff), the public intro and the paywall's offer for everyone else. A free member on the meter
(METERED_FREE_ARTICLES) gets the teaser too: decide() spends a read only on the article page, so
no message grants one, and none is spent by mail. Each version is rendered,
and flattened to MIME, once per send and process; only the per-recipient parts (address, greeting,
unsubscribe link, Message-ID, date) are filled in per message, and the teaser version is rendered
from the intro alone, so the premium body is never in it.
"""

import contextlib
import functools
import hashlib
import logging
import smtplib
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime
from email import message_from_bytes
from email.utils import formataddr, formatdate, parseaddr
from urllib.parse import urlsplit

from anymail.exceptions import AnymailRecipientsRefused
from anymail.message import AnymailMessage
from celery import signature
from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import connection, transaction
from django.db.models import Count, F, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from accounts.entitlements import for_user
from accounts.models import Membership, Newsletter, NewsletterSubscription, Suppression, User
from accounts.services import unsubscribe_token
from articles import markup
from articles.models import (
    Article,
    Audience,
    DeliveryStatus,
    NewsletterDelivery,
    NewsletterSend,
    SendStatus,
    Status,
)
from articles.newsletter_transport import BatchAPI, batch_api
from billing.models import Plan

log = logging.getLogger(__name__)

# Rows per planning statement: one round trip records this many recipients.
PLAN_CHUNK = 5000
# Messages between two updates of a send's progress (and two looks at whether it was paused).
PROGRESS_EVERY = 100
# Per-recipient parts of a rendered message, filled in per message. Letters and dashes only,
# so escaping leaves them as they are.
GREETING = "MASTHEAD-GREETING-3f9c"
GREETING_HTML = "MASTHEAD-GREETING-HTML-3f9c"  # the same, escaped for the HTML part
UNSUBSCRIBE = "MASTHEAD-UNSUBSCRIBE-URL-3f9c"


# The workers' tasks (articles/tasks.py), queued by name: the tasks import this module, as every
# task imports the service it runs.
PLAN_TASK = "articles.tasks.newsletter_plan_task"
BATCH_TASK = "articles.tasks.newsletter_send_batch_task"


def _queue(task: str, *args) -> None:
    signature(task, args=args).delay()


class CannotSend(Exception):
    """The send cannot be made as asked; the message says why, in the words staff read."""


class RepeatSend(CannotSend):
    """This article already went (or is going) to this newsletter: sending again needs a yes."""


# ---- making and starting a send ----------------------------------------------------------


def send_create(
    *,
    article: Article,
    newsletter: Newsletter,
    audience: str = Audience.ALL,
    at_publish_time: bool = False,
    created_by: User | None = None,
    repeat: bool = False,
) -> NewsletterSend:
    """Record a send of `article` to `newsletter`'s members, now or when the article goes live.

    Raises CannotSend for a draft, or an article not live yet when sending now; RepeatSend when
    this article already went to this newsletter and `repeat` is not set. The workers plan it
    once the caller's transaction commits (or at its time, through `sends_start_due`).
    """
    now = timezone.now()
    if article.status == Status.DRAFT:
        raise CannotSend("A draft cannot be sent: publish or schedule the article first.")
    if at_publish_time:
        send_at = max(article.publish_at, now)
    elif not article.is_live(now):
        raise CannotSend(
            f"This article goes live on {timezone.localtime(article.publish_at):%-d %B %Y at %H:%M}: "
            "send it at its publish time, or publish it first."
        )
    else:
        send_at = now
    with transaction.atomic():
        # The article's row is held while we look for an earlier send, so a double click (two
        # requests at once) makes one send: the second waits, then finds the first's.
        Article.objects.select_for_update().filter(pk=article.pk).values_list(
            "pk", flat=True
        ).first()
        earlier = NewsletterSend.objects.filter(article=article, newsletter=newsletter).exclude(
            status=SendStatus.CANCELLED
        )
        if earlier.exists() and not repeat:
            raise RepeatSend(
                f"“{article.title}” was already sent to {newsletter.name}. Send it again only if you "
                "mean every member to get it twice."
            )
        send = NewsletterSend.objects.create(
            article=article,
            newsletter=newsletter,
            audience=audience,
            send_at=send_at,
            created_by=created_by,
        )
        if send_at <= now:
            transaction.on_commit(lambda: _queue(PLAN_TASK, send.pk))
    return send


def sends_start_due(*, now: datetime | None = None) -> int:
    """Start the scheduled sends whose time has come (every minute, from beat). Returns how many.

    A send whose article is no longer live (unpublished meanwhile) is cancelled rather than sent.
    """
    now = now or timezone.now()
    started = 0
    for send in NewsletterSend.objects.filter(
        status=SendStatus.SCHEDULED, send_at__lte=now
    ).select_related("article"):
        if not send.article.is_live(now):
            NewsletterSend.objects.filter(pk=send.pk, status=SendStatus.SCHEDULED).update(
                status=SendStatus.CANCELLED, finished_at=now
            )
            log.warning("Newsletter send %s cancelled: its article is not live", send.pk)
            continue
        _queue(PLAN_TASK, send.pk)
        started += 1
    return started


# ---- planning ------------------------------------------------------------------------------


def recipients(send: NewsletterSend, now: datetime, *, after: int = 0):
    """The send's list as member ids, ordered, from the member after `after` on: members on the
    newsletter with a verified address, active, and in the send's audience. Who may read the full
    text is decided later, per message.

    Read from the members' side, with the bound on each of the three tables: PostgreSQL carries
    no range across a join, and with the bound on the list alone every chunk merge-joined the
    members from the first one on, so planning took time in the square of the list's length.
    """
    members = User.objects.filter(
        pk__gt=after,
        is_active=True,
        membership__user_id__gt=after,
        membership__email_verified_at__isnull=False,
        newsletter_subscriptions__newsletter_id=send.newsletter_id,
        newsletter_subscriptions__user_id__gt=after,
    )
    paying = Q(membership__in=Membership.objects.filter(Membership.paying_q(now)))
    if send.audience == Audience.PAID:
        members = members.filter(paying)
    elif send.audience == Audience.FREE:
        members = members.exclude(paying)
    return members.order_by("pk").values_list("pk", flat=True)


def send_plan(*, send_id: int) -> int:
    """Record the send's recipients and queue their batches. Returns how many it recorded now.

    Safe to run twice, or after a crash part-way: rows already recorded are left alone, and
    every batch is queued for the rows still waiting.
    """
    with transaction.atomic():
        send = NewsletterSend.objects.select_for_update().get(pk=send_id)
        if send.status in (SendStatus.PAUSED, SendStatus.CANCELLED, SendStatus.DONE):
            return 0
        send.status, send.started_at = SendStatus.PLANNING, send.started_at or timezone.now()
        send.save(update_fields=["status", "started_at"])
    now = timezone.now()
    recorded, after = 0, 0
    while True:
        with transaction.atomic():
            chunk = recipients(send, now, after=after)[:PLAN_CHUNK]
            ids, last = _record(send, chunk)
            if last is None:
                break
            after = last
            recorded += len(ids)
            NewsletterSend.objects.filter(pk=send.pk).update(recipients=F("recipients") + len(ids))
    with transaction.atomic():
        # every waiting row, those recorded by an earlier run that stopped part-way included
        for first, last in _batches(send.pk):
            transaction.on_commit(
                lambda first=first, last=last: _queue(BATCH_TASK, send.pk, first, last)
            )
        NewsletterSend.objects.filter(pk=send.pk, status=SendStatus.PLANNING).update(
            status=SendStatus.SENDING
        )
    send_finish_if_done(send_id=send.pk)
    return recorded


def _record(send: NewsletterSend, chunk) -> tuple[list[int], int | None]:
    """Record one chunk of recipients; returns the new rows' ids and the chunk's last member id."""
    if connection.vendor != "postgresql":
        members = list(chunk)
        if not members:
            return [], None
        before = set(
            NewsletterDelivery.objects.filter(send=send, user_id__in=members).values_list(
                "user_id", flat=True
            )
        )
        rows = [
            NewsletterDelivery(send=send, user_id=member)
            for member in members
            if member not in before
        ]
        NewsletterDelivery.objects.bulk_create(rows, ignore_conflicts=True)
        new = NewsletterDelivery.objects.filter(
            send=send, user_id__in=[row.user_id for row in rows]
        )
        return list(new.values_list("pk", flat=True)), members[-1]
    # One statement around the chunk's own ORM-built SQL: a model per row would be most of the
    # planning's time at a million recipients.
    sql, params = chunk.query.sql_with_params()
    table = connection.ops.quote_name(NewsletterDelivery._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH chunk (user_id) AS ({sql}), recorded AS ("
            f" INSERT INTO {table} (send_id, user_id, status, error)"
            " SELECT %s, chunk.user_id, %s, '' FROM chunk"
            " ON CONFLICT (send_id, user_id) DO NOTHING RETURNING id)"
            " SELECT (SELECT max(user_id) FROM chunk), ARRAY(SELECT id FROM recorded ORDER BY id)",
            [*params, send.pk, DeliveryStatus.PENDING],
        )
        last, ids = cursor.fetchone()
    return ids, last


def _batches(send_id: int) -> list[tuple[int, int]]:
    """(first id, last id) of each batch of the send's waiting rows, NEWSLETTER_BATCH rows each.

    One statement numbers the waiting rows and returns only each batch's ends. A keyset query
    per batch read the send's rows from its first one on each time (PostgreSQL takes the send's
    index, then sorts), so queueing a million recipients' batches took time in the square of
    their number.
    """
    waiting = NewsletterDelivery.objects.filter(send_id=send_id, status=DeliveryStatus.PENDING)
    sql, params = waiting.values_list("id").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT min(id), max(id) FROM ("
            f" SELECT id, (row_number() OVER (ORDER BY id) - 1) / %s AS batch FROM ({sql}) AS waiting"
            ") AS numbered GROUP BY batch ORDER BY batch",
            [settings.NEWSLETTER_BATCH, *params],
        )
        return cursor.fetchall()


# ---- sending ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def send_batch(*, send_id: int, first_id: int, last_id: int) -> int:
    """Mail the send's waiting rows from first_id to last_id, each once. Returns how many went.

    Stops at once when the send is paused or cancelled (its rows stay waiting, for a resume).
    A transport error (the mail server, the network) leaves the rest waiting and is raised, so
    the task retries; a refused recipient is recorded as failed and the batch goes on.
    """
    send = NewsletterSend.objects.select_related("article", "newsletter").get(pk=send_id)
    if send.status not in (SendStatus.PLANNING, SendStatus.SENDING):
        return 0
    rows = NewsletterDelivery.objects.filter(
        send_id=send_id, pk__gte=first_id, pk__lte=last_id, status=DeliveryStatus.PENDING
    )
    waiting = list(rows.order_by("pk").values_list("pk", "user_id"))
    members = [member for _, member in waiting]
    on_list = set(
        NewsletterSubscription.objects.filter(
            newsletter_id=send.newsletter_id, user_id__in=members
        ).values_list("user_id", flat=True)
    )
    # The members and what decides their access, read as the batch starts (seconds before each
    # message); the policy then compares their timestamps with the clock at each message.
    users = User.objects.select_related("membership").in_bulk(members)
    suppressed = set(
        Suppression.objects.filter(email__in=[u.email.lower() for u in users.values()]).values_list(
            "email", flat=True
        )
    )
    versions = {full: _rendered(send, full=full) for full in (True, False)}
    api = batch_api()
    if api is not None and not any(
        api.mistakes_for_fields(v.subject, v.text, v.html) for v in versions.values()
    ):
        went = _send_by_api(
            send, waiting, users, api, versions=versions, on_list=on_list, suppressed=suppressed
        )
        send_finish_if_done(send_id=send_id)
        return went
    templates = {full: _template(send, version) for full, version in versions.items()}
    counts, went = Counter(), 0
    mailer = get_connection()
    try:
        # One connection for the batch: send_messages() on a backend not yet open opens and
        # closes one for each call, a connect, EHLO and QUIT for every message.
        mailer.open()
        for number, (row_id, member) in enumerate(waiting):
            if number and number % PROGRESS_EVERY == 0:
                went += _count(send_id, counts)  # the admin's progress bar moves as it goes
                if _stopped(send_id):
                    break
            status = _deliver(
                send,
                row_id,
                users.get(member),
                mailer,
                versions=versions,
                templates=templates,
                on_list=on_list,
                suppressed=suppressed,
            )
            if status:
                counts[status] += 1
    finally:
        mailer.close()
        went += _count(send_id, counts)
    send_finish_if_done(send_id=send_id)
    return went


def _count(send_id: int, counts: Counter) -> int:
    """Add a batch's counts so far to the send's, and start counting afresh; returns how many went.

    Only for the progress shown while the send runs: a worker killed between two of these loses
    its last few, so the send's figures are counted again from its rows when it is done.
    """
    sent = counts[DeliveryStatus.SENT]
    if counts:
        NewsletterSend.objects.filter(pk=send_id).update(
            sent=F("sent") + sent,
            failed=F("failed") + counts[DeliveryStatus.FAILED],
            suppressed=F("suppressed")
            + counts[DeliveryStatus.SUPPRESSED]
            + counts[DeliveryStatus.SKIPPED],
        )
    counts.clear()
    return sent


def _deliver(send, row_id, user, mailer, *, versions, templates, on_list, suppressed) -> str | None:
    """One recipient, in one transaction: claim the row, mail it (or not), commit.

    The row is marked first, by one UPDATE that also locks it (a duplicate of this task waits,
    then finds it done); the message goes; the commit follows at once. A transport error rolls
    the mark back, so the row waits for the retry; a refused recipient is marked failed instead.
    """
    with transaction.atomic():
        if user is None or user.pk not in on_list:
            status, error = DeliveryStatus.SKIPPED, "no longer on the newsletter"
        elif user.email.lower() in suppressed:
            status, error = DeliveryStatus.SUPPRESSED, ""
        else:
            full = for_user(user).decide(send.article).full  # by the one policy, at this moment
            message = _filled(send, versions[full], templates[full], _recipient(send, user))
            if not _claim(row_id, DeliveryStatus.SENT, full_text=full, sent_at=timezone.now()):
                return None  # sent by a duplicate of this task meanwhile
            try:
                mailer.send_messages([message])
            except smtplib.SMTPRecipientsRefused as refused:
                NewsletterDelivery.objects.filter(pk=row_id).update(
                    status=DeliveryStatus.FAILED,
                    full_text=None,
                    sent_at=None,
                    error=str(refused)[:300],
                )
                return DeliveryStatus.FAILED
            return DeliveryStatus.SENT
        return status if _claim(row_id, status, error=error) else None


# ---- or a call to the provider's batch API per version ----------------------------------------


def _send_by_api(send, waiting, users, api: BatchAPI, *, versions, on_list, suppressed) -> int:
    """The batch through the provider's batch API (articles/newsletter_transport.py): one call
    for the recipients who get the full text and one for those who get the teaser (more only past
    the provider's recipients a call), so the premium body never travels in a call with a teaser
    reader in it. Returns how many went.

    The bookkeeping is the per-message path's, a call at a time: in one transaction the call's
    rows are marked sent (which locks them), the call is made, the addresses the provider refused
    are marked failed from what it said of each, and the transaction commits. A duplicate of this
    task waits on the rows and then finds them done; a retried one finds them done; an error of the
    call (the provider or the network down) rolls the marks back and is raised, so the task
    retries those rows. The gap no database closes is the same, and as wide as a call: a worker
    killed after the provider accepted the call and before the commit mails that call's
    recipients again. The messages carry the provider's Message-IDs, not ours.
    """
    skipped, suppressed_ids, by_version = [], [], {True: [], False: []}
    for row_id, member in waiting:
        user = users.get(member)
        if user is None or user.pk not in on_list:
            skipped.append(row_id)
        elif user.email.lower() in suppressed:
            suppressed_ids.append(row_id)
        else:  # by the one policy, as the calls are made
            by_version[for_user(user).decide(send.article).full].append((row_id, user))
    counts = Counter()
    with transaction.atomic():
        waiting_rows = NewsletterDelivery.objects.filter(status=DeliveryStatus.PENDING)
        counts[DeliveryStatus.SKIPPED] = waiting_rows.filter(pk__in=skipped).update(
            status=DeliveryStatus.SKIPPED, error="no longer on the newsletter"
        )
        counts[DeliveryStatus.SUPPRESSED] = waiting_rows.filter(pk__in=suppressed_ids).update(
            status=DeliveryStatus.SUPPRESSED
        )
    went = _count(send.pk, counts)
    mailer = get_connection()
    try:
        mailer.open()  # one HTTP session for the batch's calls
        for full, rows in by_version.items():
            for call in _calls(rows, api.max_recipients):
                if _stopped(send.pk):
                    return went
                went += _count(
                    send.pk, _deliver_call(send, api, versions[full], full, call, mailer)
                )
    finally:
        mailer.close()
    return went


def _calls(rows: list, size: int) -> list[list]:
    """The rows in calls of at most `size`, no address twice in one call: a provider's merge data
    is keyed by address."""
    calls: list[tuple[list, set]] = []
    for row in rows:
        address = row[1].email.lower()
        for call, addresses in calls:
            if len(call) < size and address not in addresses:
                break
        else:
            call, addresses = [], set()
            calls.append((call, addresses))
        call.append(row)
        addresses.add(address)
    return [call for call, _ in calls]


REFUSED = {"rejected", "invalid", "failed"}  # anymail's statuses of an address not taken


def _deliver_call(send, api: BatchAPI, version: Rendered, full: bool, rows, mailer) -> Counter:
    """One call of the batch API, in one transaction: claim its rows, call, mark the refused."""
    counts = Counter()
    with transaction.atomic():
        # locked in the order of their ids, so two duplicates of a task cannot deadlock
        claimed = set(
            NewsletterDelivery.objects.select_for_update()
            .filter(pk__in=[row_id for row_id, _ in rows], status=DeliveryStatus.PENDING)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        if not claimed:
            return counts  # mailed by a duplicate of this task meanwhile
        NewsletterDelivery.objects.filter(pk__in=claimed).update(
            status=DeliveryStatus.SENT, full_text=full, sent_at=timezone.now(), error=""
        )
        recipients = [
            (row_id, _recipient(send, user)) for row_id, user in rows if row_id in claimed
        ]
        message = _batch_message(send, api, version, [to for _, to in recipients])
        # every address refused raises (as SMTP's SMTPRecipientsRefused): the statuses say how
        with contextlib.suppress(AnymailRecipientsRefused):
            mailer.send_messages([message])
        status = message.anymail_status
        said = {address.lower(): result.status for address, result in status.recipients.items()}
        failed = defaultdict(list)
        for row_id, to in recipients:
            if status.status is None:  # never posted (an anymail pre_send receiver cancelled it)
                failed[f"not handed to {api.esp_name}"].append(row_id)
            elif said.get(to.email.lower()) in REFUSED:
                # "unknown" (SparkPost's word for a call only partly taken) counts as sent: the
                # provider has the message, and its webhooks report the bounces
                failed[f"{said[to.email.lower()]} by {api.esp_name}"].append(row_id)
        for error, ids in failed.items():
            NewsletterDelivery.objects.filter(pk__in=ids).update(
                status=DeliveryStatus.FAILED, full_text=None, sent_at=None, error=error
            )
            counts[DeliveryStatus.FAILED] += len(ids)
        counts[DeliveryStatus.SENT] = len(recipients) - counts[DeliveryStatus.FAILED]
    return counts


def _claim(row_id: int, status: str, *, full_text=None, sent_at=None, error: str = "") -> bool:
    """Mark a waiting row, locking it until the transaction ends; False if it was not waiting.

    The one statement a message costs besides its transaction, written out because the ORM's
    update() spent more time building it (0.45 ms) than the database did running it.
    """
    table = connection.ops.quote_name(NewsletterDelivery._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET status = %s, full_text = %s, sent_at = %s, error = %s"
            " WHERE id = %s AND status = %s",
            [status, full_text, sent_at, error, row_id, DeliveryStatus.PENDING],
        )
        return cursor.rowcount == 1


def _stopped(send_id: int) -> bool:
    status = NewsletterSend.objects.filter(pk=send_id).values_list("status", flat=True).first()
    return status not in (SendStatus.PLANNING, SendStatus.SENDING)


def send_finish_if_done(*, send_id: int) -> bool:
    """Mark the send done once it has been planned and no row is waiting, with its figures
    counted from its rows (exact, whatever happened to the workers on the way)."""
    rows = NewsletterDelivery.objects.filter(send_id=send_id)
    if rows.filter(status=DeliveryStatus.PENDING).exists():
        return False
    figures = rows.aggregate(
        sent=Count("pk", filter=Q(status=DeliveryStatus.SENT)),
        failed=Count("pk", filter=Q(status=DeliveryStatus.FAILED)),
        suppressed=Count(
            "pk", filter=Q(status__in=[DeliveryStatus.SUPPRESSED, DeliveryStatus.SKIPPED])
        ),
    )
    return bool(
        NewsletterSend.objects.filter(pk=send_id, status=SendStatus.SENDING).update(
            status=SendStatus.DONE, finished_at=timezone.now(), **figures
        )
    )


# ---- pause, resume, cancel -------------------------------------------------------------------


def send_pause(*, send: NewsletterSend) -> bool:
    """Stop after the messages in hand; what is waiting stays waiting."""
    return bool(
        NewsletterSend.objects.filter(
            pk=send.pk, status__in=[SendStatus.PLANNING, SendStatus.SENDING]
        ).update(status=SendStatus.PAUSED)
    )


def send_resume(*, send: NewsletterSend) -> bool:
    """Go on from where the send was paused: plan again (nobody is recorded twice), which queues
    every batch still waiting."""
    if not NewsletterSend.objects.filter(pk=send.pk, status=SendStatus.PAUSED).update(
        status=SendStatus.SCHEDULED
    ):
        return False
    transaction.on_commit(lambda: _queue(PLAN_TASK, send.pk))
    return True


def send_cancel(*, send: NewsletterSend) -> bool:
    """Stop for good: nothing more is sent, and what was waiting is recorded as skipped."""
    with transaction.atomic():
        cancelled = NewsletterSend.objects.filter(
            pk=send.pk,
            status__in=[
                SendStatus.SCHEDULED,
                SendStatus.PLANNING,
                SendStatus.SENDING,
                SendStatus.PAUSED,
            ],
        ).update(status=SendStatus.CANCELLED, finished_at=timezone.now())
        if cancelled:
            NewsletterDelivery.objects.filter(send=send, status=DeliveryStatus.PENDING).update(
                status=DeliveryStatus.SKIPPED, error="the send was cancelled"
            )
    return bool(cancelled)


# ---- the messages ------------------------------------------------------------------------------

_renders: dict[tuple, Rendered] = {}


def _rendered(send: NewsletterSend, *, full: bool) -> Rendered:
    """The send's message for readers who may read the article in full, or for everyone else,
    rendered once per article version in this process, with the per-recipient parts left as marks."""
    key = (send.pk, send.article.pk, send.article.updated_at, full)
    if key not in _renders:
        if len(_renders) > 50:
            _renders.clear()
        _renders[key] = render_version(send.article, send.newsletter, full=full)
    return _renders[key]


def render_version(article: Article, newsletter: Newsletter, *, full: bool) -> Rendered:
    """The message as a reader with access (full) or without (the teaser) gets it.

    The teaser is made from the public fields only: the body is not even read for it.
    """
    site = settings.SITE_URL
    context = {
        "article": article,
        "newsletter": newsletter,
        "full": full,
        "intro_html": markup.render(article.intro),
        "body_html": markup.render(_body(article)) if full else None,
        "article_url": site + article.get_absolute_url(),
        "signup_url": site + reverse("account_signup") + f"?next={article.get_absolute_url()}",
        "pricing_url": site + reverse("billing:pricing"),
        "account_url": site + reverse("accounts:account"),
        "from_plan": None if full else Plan.objects.from_price(),
        "trial_days": settings.TRIAL_DAYS,
        "site_name": settings.SITE_NAME,
        "site_url": site,
        "greeting": GREETING,
        "unsubscribe_url": UNSUBSCRIBE,
    }
    subject = " ".join(render_to_string("emails/newsletter-subject.txt", context).split())
    return Rendered(
        subject=subject,
        text=render_to_string("emails/newsletter-body.txt", context),
        html=render_to_string(
            "emails/newsletter-body.html", {**context, "greeting": GREETING_HTML}
        ),
    )


def _body(article: Article) -> str:
    return Article.objects.filter(pk=article.pk).values_list("body", flat=True).get()


def unsubscribe_url(user_id: int, newsletter_id: int) -> str:
    token = unsubscribe_token(user_id=user_id, newsletter_id=newsletter_id)
    return _unsubscribe_prefix() + token + "/"


@functools.cache
def _unsubscribe_prefix() -> str:
    """The unsubscribe URL up to its token, worked out once (reverse() per message cost 0.17 ms)."""
    return settings.SITE_URL + reverse(
        "accounts:newsletter_unsubscribe", args=["TOKEN"]
    ).removesuffix("TOKEN/")


@dataclass(frozen=True)
class Recipient:
    """What differs from one recipient's message to the next."""

    email: str
    greeting: str
    greeting_html: str
    unsubscribe: str
    message_id: str
    date: str = ""  # set by Django when the message is flattened, unless given


# The recipient of a version's flattened template: marks, each found and filled in per message.
MARKS = Recipient(
    email="masthead-recipient-3f9c@example.invalid",
    greeting=GREETING,
    greeting_html=GREETING_HTML,
    unsubscribe=UNSUBSCRIBE,
    message_id="<masthead-message-id-3f9c@example.invalid>",
    date="MASTHEAD-DATE-3f9c",
)


def _recipient(send: NewsletterSend, user: User) -> Recipient:
    domain = urlsplit(settings.SITE_URL).hostname or "localhost"
    digest = hashlib.sha256(f"{settings.SECRET_KEY}:{send.pk}:{user.pk}".encode()).hexdigest()[:24]
    greeting = f"Hello {user.name.split()[0]}," if user.name.strip() else "Hello,"
    return Recipient(
        email=user.email,
        greeting=greeting,
        greeting_html=escape(greeting),
        unsubscribe=unsubscribe_url(user.pk, send.newsletter_id),
        message_id=f"<newsletter.{send.pk}.{digest}@{domain}>",
    )


def _message(
    send: NewsletterSend, version: Rendered, to: Recipient, *, subject_prefix: str = ""
) -> EmailMultiAlternatives:
    """A recipient's message: the version for them, with their greeting and unsubscribe link."""
    newsletter = send.newsletter
    _, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    domain = urlsplit(settings.SITE_URL).hostname or "localhost"
    headers = {
        # RFC 2369 and RFC 8058: one click in the mail client unsubscribes, without signing in
        "List-Unsubscribe": _list_unsubscribe(to.unsubscribe, address, newsletter.slug),
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        "List-Id": f"{newsletter.name} <{newsletter.slug}.{domain}>",
        "Message-ID": to.message_id,
    }
    if to.date:
        headers["Date"] = to.date
    message = EmailMultiAlternatives(
        subject=subject_prefix + version.subject,
        body=version.text.replace(GREETING, to.greeting).replace(UNSUBSCRIBE, to.unsubscribe),
        from_email=formataddr((newsletter.sender_name or settings.SITE_NAME, address)),
        to=[to.email],
        headers=headers,
    )
    message.attach_alternative(
        version.html.replace(GREETING_HTML, to.greeting_html).replace(
            UNSUBSCRIBE, escape(to.unsubscribe)
        ),
        "text/html",
    )
    return message


def _list_unsubscribe(url: str, address: str, slug: str) -> str:
    return f"<{url}>, <mailto:{address}?subject=unsubscribe%20{slug}>"


def _batch_message(
    send: NewsletterSend, api: BatchAPI, version: Rendered, recipients: list[Recipient]
) -> AnymailMessage:
    """One call's message: the version with the provider's merge fields where each recipient's
    parts go, and those parts for each recipient as merge data and a List-Unsubscribe header."""
    newsletter = send.newsletter
    _, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    domain = urlsplit(settings.SITE_URL).hostname or "localhost"
    greeting, unsubscribe = api.merge_field("greeting"), api.merge_field("unsubscribe_url")
    if api.escapes_html:
        greeting_html, unsubscribe_html = greeting, unsubscribe
    else:  # merged as given: the HTML part takes values escaped here
        greeting_html = api.merge_field("greeting_html")
        unsubscribe_html = api.merge_field("unsubscribe_url_html")
    message = AnymailMessage(
        subject=version.subject,
        body=version.text.replace(GREETING, greeting).replace(UNSUBSCRIBE, unsubscribe),
        from_email=formataddr((newsletter.sender_name or settings.SITE_NAME, address)),
        to=[to.email for to in recipients],
        headers={
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "List-Id": f"{newsletter.name} <{newsletter.slug}.{domain}>",
        },
    )
    message.attach_alternative(
        version.html.replace(GREETING_HTML, greeting_html).replace(UNSUBSCRIBE, unsubscribe_html),
        "text/html",
    )
    message.merge_data = {}
    for to in recipients:
        values = {"greeting": to.greeting, "unsubscribe_url": to.unsubscribe}
        if not api.escapes_html:
            values["greeting_html"] = to.greeting_html
            values["unsubscribe_url_html"] = escape(to.unsubscribe)
        message.merge_data[to.email] = values
    message.merge_headers = {
        to.email: {"List-Unsubscribe": _list_unsubscribe(to.unsubscribe, address, newsletter.slug)}
        for to in recipients
    }
    return message


# ---- each version flattened once ---------------------------------------------------------------
#
# Turning a message into MIME is most of a message's cost (about 2.6 ms, measured: headers folded,
# a multipart walked); within one send only the recipient's parts differ. So each version is
# flattened once with MARKS in those places, and each recipient's bytes are the template's with
# their parts filled in. Used only when the template holds every mark as written: a body encoded
# quoted-printable (a line over 998 characters) could break one, and then that version is built
# per recipient the ordinary way. Backends that ask nothing of message() (django-anymail's, which
# send through an API) read the message's ordinary attributes, which are filled in as well.


class _Flat:
    """A message already flattened to bytes: all that Django's mail backends ask of message()."""

    def __init__(self, data: bytes):
        self.data = data

    def as_bytes(self, unixfrom=False, linesep="\n", policy=None) -> bytes:
        return self.data if linesep == "\n" else self.data.replace(b"\n", linesep.encode())

    def as_string(self, unixfrom=False, maxheaderlen=0, policy=None) -> str:
        return self.data.decode()

    def get_charset(self):
        return None  # utf-8, as Django's console and file backends then assume

    def __getattr__(self, name):  # anything else a caller asks (a test reading a header): parsed
        return getattr(message_from_bytes(self.data), name)


class _Filled(EmailMultiAlternatives):
    """A recipient's message whose flattened form was filled in from its version's template."""

    flat: bytes = b""

    def message(self, *args, **kwargs):
        return _Flat(self.flat)


def _template(send: NewsletterSend, version: Rendered) -> bytes | None:
    """The version flattened with MARKS in the recipient's places, or None if a mark did not survive."""
    data = _message(send, version, MARKS).message().as_bytes()
    marks = [
        MARKS.email,
        MARKS.greeting,
        MARKS.greeting_html,
        MARKS.unsubscribe,
        MARKS.message_id,
        MARKS.date,
    ]
    encoded = (b"Content-Transfer-Encoding: quoted-printable", b"Content-Transfer-Encoding: base64")
    if any(e in data for e in encoded) or not all(m.encode() in data for m in marks):
        return None
    # a recipient's name may be any language's: the parts say 8bit, which ASCII is too
    return data.replace(b"Content-Transfer-Encoding: 7bit", b"Content-Transfer-Encoding: 8bit")


def _filled(send: NewsletterSend, version: Rendered, template: bytes | None, to: Recipient):
    """The recipient's message, flattened from the template when there is one."""
    message = _message(send, version, to)
    if template is None or not to.email.isascii():
        return message  # Django flattens it when it is sent
    data = template
    for mark, value in [
        (MARKS.email, to.email),
        (MARKS.greeting, to.greeting),
        (MARKS.greeting_html, to.greeting_html),
        (MARKS.unsubscribe, to.unsubscribe),
        (MARKS.message_id, to.message_id),
        (MARKS.date, formatdate(localtime=settings.EMAIL_USE_LOCALTIME)),
    ]:
        data = data.replace(mark.encode(), value.encode())
    message.__class__ = _Filled
    message.flat = data
    return message


def send_test(*, article: Article, newsletter: Newsletter, email: str) -> int:
    """Mail `email` the send as its owner would get it, marked as a test. Returns how many messages.

    Staff get both versions (the full text and the teaser) to check them; anyone else gets what
    the policy lets them read, and an address that is no member's gets the teaser: a test send is
    no way round the paywall.
    """
    user = User.objects.select_related("membership").filter(email__iexact=email.strip()).first()
    send = NewsletterSend(article=article, newsletter=newsletter, pk=0)
    if user is None:
        user = User(email=email.strip(), pk=0)
        versions = [False]
    elif user.is_staff:
        versions = [True, False]
    else:
        versions = [for_user(user).decide(article).full]
    messages = [
        _message(
            send,
            render_version(article, newsletter, full=full),
            _recipient(send, user),
            subject_prefix=f"[Test: {'full text' if full else 'teaser'}] ",
        )
        for full in versions
    ]
    return get_connection().send_messages(messages) or 0
