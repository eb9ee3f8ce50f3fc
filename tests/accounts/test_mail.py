"""Every member message, as the member receives it: subject, text and HTML, absolute links,
the address as typed, and never a word of an article's premium body; each sent once, after
the commit that recorded it, and again later if the mail server was down (accounts/mail.py)."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from celery.exceptions import Retry
from django.core import mail as outbox
from django.utils import timezone

from accounts import mail
from accounts.models import SentMail
from accounts.services import trial_start
from accounts.tasks import mail_requeue_unsent_task, mail_send_task
from tests.conftest import SECRET_SENTENCES

pytestmark = pytest.mark.django_db


SITE = "https://news.example.org"


BILLING_CONTEXT = {
    "plan_name": "Monthly",
    "amount": "£12.00",
    "period_end": "28 December 2026",
    "cancel_at": "28 December 2026",
}


# What each message must say, and the link it must carry, given BILLING_CONTEXT and a £12 plan.
EXPECTED = {
    mail.TRIAL_STARTED: (
        "Welcome to Masthead: your free trial has started",
        "runs until",
        f"{SITE}/",
    ),
    mail.TRIAL_ENDING: (
        "Your Masthead free trial ends on",
        "from £12.00 per month",
        f"{SITE}/pricing/",
    ),
    mail.TRIAL_ENDED: (
        "Your Masthead free trial has ended",
        "from £12.00 per month",
        f"{SITE}/pricing/",
    ),
    mail.PAYMENT_FAILED: (
        "Your Masthead payment did not go through",
        "payment of £12.00",
        f"{SITE}/account/",
    ),
    mail.PAYMENT_ACTION_REQUIRED: (  # without a hosted page's link: the account page
        "Confirm your Masthead payment",
        "It is a security check (3-D Secure)",
        f"{SITE}/account/",
    ),
    mail.PAYMENT_FAILED_FINAL: (  # without "ended": put on hold (unpaid), not cancelled
        "Your Masthead subscription is on hold: your payment did not go through",
        "payment of £12.00",
        f"{SITE}/account/",
    ),
    mail.SUBSCRIPTION_STARTED: (
        "your Masthead subscription has started",
        "renews on 28 December 2026",
        f"{SITE}/account/",
    ),
    mail.SUBSCRIPTION_CANCELLED: (
        "subscription has been cancelled",
        "until 28 December 2026",
        f"{SITE}/account/#resume",  # "changed your mind?": Resume, while it is pending
    ),
}


@pytest.fixture
def member(make_member):
    member = make_member("Ada.Lovelace+News@Example.org", trial="active")
    return member


def html_of(message) -> str:
    [(html, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    return html


@pytest.mark.parametrize("kind", EXPECTED)
def test_each_message_has_subject_text_and_html_with_absolute_links(
    kind, member, plans, articles, settings
):
    settings.SITE_URL = SITE
    subject, sentence, link = EXPECTED[kind]

    assert mail.deliver(kind, user_id=member.pk, key=f"{kind}:1", context=BILLING_CONTEXT) is True

    [message] = outbox.outbox
    html = html_of(message)
    assert message.to == [
        "Ada.Lovelace+News@example.org"
    ]  # as typed (Django lower-cases only the domain)
    assert subject in message.subject and "\n" not in message.subject
    assert sentence in message.body and sentence in " ".join(re.sub(r"<[^>]+>", "", html).split())
    assert link in message.body and f'href="{link}"' in html
    hrefs = re.findall(r'href="([^"]*)"', html)
    assert hrefs and all(href.startswith(f"{SITE}/") for href in hrefs)
    assert re.findall(r"https?://\S+", message.body) and all(
        url.startswith(f"{SITE}/") for url in re.findall(r"https?://\S+", message.body)
    )
    for secret in SECRET_SENTENCES.values():
        assert secret not in message.body and secret not in html


@pytest.mark.parametrize("kind", EXPECTED)
def test_each_message_reads_well_without_any_context(kind, make_member):
    member = make_member("bare@example.com")  # no trial dates, no plans, no billing values

    mail.deliver(kind, user_id=member.pk, key=f"{kind}:bare", context={})

    [message] = outbox.outbox
    for text in (message.subject, message.body, html_of(message)):
        assert "None" not in text and "{{" not in text and "{%" not in text
        assert " ." not in text.replace("\n", " ") and " ," not in text


def test_a_message_goes_once_per_key(member):
    assert (
        mail.deliver(mail.PAYMENT_FAILED, user_id=member.pk, key="payment_failed:in_42", context={})
        is True
    )
    assert (
        mail.deliver(mail.PAYMENT_FAILED, user_id=member.pk, key="payment_failed:in_42", context={})
        is False
    )
    assert (
        mail.deliver(mail.PAYMENT_FAILED, user_id=member.pk, key="payment_failed:in_43", context={})
        is True
    )
    assert len(outbox.outbox) == 2
    assert SentMail.objects.filter(sent_at__isnull=False).count() == 2


def test_queue_sends_after_commit_and_once(member, eager_tasks, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        mail.queue(
            mail.SUBSCRIPTION_STARTED,
            user_id=member.pk,
            key="subscription_started:sub_1",
            context=BILLING_CONTEXT,
        )
        mail.queue(
            mail.SUBSCRIPTION_STARTED,
            user_id=member.pk,
            key="subscription_started:sub_1",
            context=BILLING_CONTEXT,
        )
        assert outbox.outbox == []  # nothing before the commit
    assert len(callbacks) == 2
    assert [m.subject for m in outbox.outbox] == [
        "Welcome aboard: your Masthead subscription has started"
    ]


def test_queue_refuses_an_unknown_kind_or_a_context_that_is_not_json(member):
    with pytest.raises(ValueError, match="Unknown member mail 'trial_over'"):
        mail.queue("trial_over", user_id=member.pk, key="x")
    with pytest.raises(TypeError):
        mail.queue(
            mail.PAYMENT_FAILED, user_id=member.pk, key="y", context={"when": timezone.now()}
        )
    assert not SentMail.objects.exists()


def test_no_mail_to_a_member_who_deleted_their_account_meanwhile(member):
    mail.queue(mail.PAYMENT_FAILED, user_id=member.pk, key="payment_failed:in_7")
    member.delete()
    assert mail.deliver_recorded("payment_failed:in_7") is False
    assert mail.deliver(mail.PAYMENT_FAILED, user_id=member.pk, key="payment_failed:in_7") is False
    assert outbox.outbox == []


def test_starting_a_trial_sends_the_welcome_once(
    make_member, eager_tasks, django_capture_on_commit_callbacks
):
    member = make_member("newbie@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        assert trial_start(user=member) is True
    with django_capture_on_commit_callbacks(execute=True):
        assert trial_start(user=member) is False

    [message] = outbox.outbox
    assert message.to == ["newbie@example.com"]
    member.membership.refresh_from_db()
    ends = member.membership.trial_ends_at
    assert ends - timezone.now() > timedelta(days=6)
    assert f"runs until {ends:%-d %B %Y}" in message.body


def test_a_message_goes_through_a_provider_backend_unchanged(member, settings):
    settings.EMAIL_BACKEND = (
        "anymail.backends.test.EmailBackend"  # anymail's own stand-in for a provider
    )

    mail.deliver(
        mail.PAYMENT_FAILED, user_id=member.pk, key="payment_failed:in_9", context=BILLING_CONTEXT
    )

    [message] = outbox.outbox
    assert message.anymail_test_params["to"][0].addr_spec == "Ada.Lovelace+News@example.org"
    assert message.anymail_status.status == {"sent"}
    assert "http://127.0.0.1:8000/account/" in html_of(message)


def test_a_mail_server_that_is_down_leaves_the_message_for_later_and_it_goes_once(
    run_job, make_member, settings, django_capture_on_commit_callbacks
):
    reader = make_member("pat@example.com")
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = (
        "127.0.0.1",
        9,
        1,
    )  # nothing listens there
    with pytest.raises(Retry) as retry, django_capture_on_commit_callbacks(execute=True):
        mail.queue(
            mail.PAYMENT_FAILED,
            user_id=reader.pk,
            key="payment_failed:in_1",
            context={"amount": "£12.00"},
        )
    assert isinstance(
        retry.value.exc, ConnectionRefusedError
    )  # the task is retried later, with backoff
    assert SentMail.objects.get(key="payment_failed:in_1").sent_at is None

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"  # the server is back
    with time_machine.travel(datetime.now(UTC) + timedelta(minutes=11)):
        assert run_job(mail_requeue_unsent_task) == 1
        assert run_job(mail_requeue_unsent_task) == 0
    assert mail_send_task.delay(["payment_failed:in_1"]).get() == 0  # sent already: not again
    [message] = outbox.outbox
    assert message.to == ["pat@example.com"] and "£12.00" in message.body
