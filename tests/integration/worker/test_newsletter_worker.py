"""A newsletter send through a real worker process, killed in the middle and started again.

What each member got is read from the raw messages the worker wrote (Django's file backend): the
premium body only in the messages of members who may read it, every message with one-click
unsubscribe, every member mailed, and nobody mailed twice but for the one gap no database closes
(articles/newsletter.py): a message the transport had taken just before the kill, whose row had not
yet committed, goes again; that is at most one message for each pool process killed.
"""

from collections import Counter
from datetime import timedelta

import pytest
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from accounts.models import Membership, Newsletter, NewsletterSubscription, User
from articles import newsletter
from articles.models import NewsletterSend, SendStatus, Visibility
from articles.tasks import newsletter_plan_task
from tests.conftest import SECRET_SENTENCES
from tests.integration.worker.conftest import needs_postgres, wait_until

pytestmark = [needs_postgres, pytest.mark.django_db(transaction=True)]

PREMIUM = SECRET_SENTENCES[Visibility.PREMIUM]
MEMBERS = 150
KILLED_PROCESSES = (
    2  # the first worker's pool (--concurrency 2), each with at most one message in hand
)


def on_the_list(count: int) -> tuple[Newsletter, set[str]]:
    """count verified members on the weekly list, a third of them in their trial (who may read
    premium articles); returns the list and the addresses of those who may read."""
    now = timezone.now()
    weekly = Newsletter.objects.create(name="The Weekly Guide", slug="weekly")
    users = User.objects.bulk_create(
        User(email=f"reader{n}@example.com", password=make_password(None)) for n in range(count)
    )
    Membership.objects.bulk_create(
        Membership(
            user=user,
            email_verified_at=now - timedelta(days=30),
            trial_started_at=now - timedelta(days=10 if n % 3 else 1),
            trial_ends_at=now + (timedelta(days=6) if n % 3 == 0 else -timedelta(days=3)),
        )
        for n, user in enumerate(users)
    )
    NewsletterSubscription.objects.bulk_create(
        NewsletterSubscription(user=user, newsletter=weekly) for user in users
    )
    return weekly, {user.email for n, user in enumerate(users) if n % 3 == 0}


def body_of(message) -> str:
    return "\n".join(
        part.get_payload(decode=True).decode() for part in message.walk() if not part.is_multipart()
    )


def test_a_killed_worker_started_again_mails_every_member_once_with_what_they_may_read(
    make_worker, articles
):
    weekly, entitled = on_the_list(MEMBERS)
    first = make_worker(NEWSLETTER_BATCH=10)
    first.start(queues=[first.newsletter_queue])
    with transaction.atomic():
        send = newsletter.send_create(article=articles[Visibility.PREMIUM], newsletter=weekly)
    progress = NewsletterSend.objects.filter(pk=send.pk)

    wait_until(lambda: progress.get().sent >= 20, what="the send to get going")
    first.kill()
    sent_at_kill = progress.get().sent
    assert sent_at_kill < MEMBERS, "the kill should land in the middle of the send"

    # Started again, and the send re-planned (as the broker would redeliver the killed worker's
    # batches after its visibility timeout, or staff would pause and resume it): nobody is
    # recorded twice, and every member still waiting is mailed.
    second = make_worker(NEWSLETTER_BATCH=10)
    second.start()
    newsletter_plan_task.delay(send.pk)
    wait_until(
        lambda: progress.get().status == SendStatus.DONE, timeout=90, what="the send to finish"
    )
    second.drain()

    messages = first.mails() + second.mails()
    recipients = Counter(message["To"] for message in messages)
    assert len(recipients) == MEMBERS, "every member got the newsletter"
    twice = [address for address, times in recipients.items() if times > 1]
    assert max(recipients.values()) <= 2 and len(twice) <= KILLED_PROCESSES, (
        f"mailed twice: {twice}"
    )
    for message in messages:
        text = body_of(message)
        assert (PREMIUM in text) == (message["To"] in entitled), message["To"]
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert "/newsletter/unsubscribe/" in message["List-Unsubscribe"]
    done = progress.get()
    assert (done.recipients, done.sent, done.failed) == (
        MEMBERS,
        MEMBERS,
        0,
    )  # counted from the rows
