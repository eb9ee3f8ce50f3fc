"""articles/newsletter_transport.py: a newsletter batch as one call of a provider's batch API.

Sent through django-anymail's own test backend, which records each call as the provider would get
it (recipients, merge data, per-recipient headers, the body) in `mail.outbox`, and answers with the
statuses a test gives it through anymail's `pre_send` signal. What a recipient reads is the call's
body with their merge data put in its merge fields, as the provider does. The same send through
Django's SMTP backend, a message per recipient, is tests/articles/test_newsletter.py.
"""

import dataclasses
import json
import threading
import time
from collections import Counter

import pytest
from anymail.backends.mailgun import EmailBackend as MailgunBackend
from anymail.backends.sparkpost import EmailBackend as SparkPostBackend
from anymail.exceptions import AnymailAPIError
from anymail.message import AnymailRecipientStatus
from anymail.signals import pre_send
from django.core import mail as outbox
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.utils import timezone

from accounts.models import NewsletterSubscription, Suppression, SuppressionReason
from articles import newsletter
from articles.models import (
    DeliveryStatus,
    NewsletterDelivery,
    NewsletterSend,
    SendStatus,
    Visibility,
)
from articles.newsletter_transport import BATCH_APIS, batch_api
from tests.articles import test_newsletter as cast

PREMIUM = cast.PREMIUM
eager, weekly, on_the_list, send_now = cast.eager, cast.weekly, cast.on_the_list, cast.send_now

ENTITLED = {"tina@example.com", "stella@example.com", "sue@example.com", "cora@example.com"}
TEASER = {"oscar@example.com", "nell@example.com"}  # una never verified her address: not listed


@pytest.fixture(autouse=True)
def batch_api_backend(settings):
    """Mail through anymail's test provider; NEWSLETTER_TRANSPORT left at its default, auto."""
    settings.EMAIL_BACKEND = "anymail.backends.test.EmailBackend"
    settings.ANYMAIL = {}


@pytest.fixture
def provider_says():
    """provider_says(answer) -> what the test provider answers each call: answer(addresses) gives
    {address: status} (anymail's statuses), or an AnymailAPIError for a call that fails."""
    answers = []

    def answer_calls(sender, message, esp_name, **kwargs):
        statuses = answers[0](list(message.to))
        if isinstance(statuses, AnymailAPIError):
            message.anymail_test_response = statuses  # the test backend raises it, as a call would
            return
        message.anymail_test_response = {
            "recipient_status": {
                address: AnymailRecipientStatus(message_id=f"m-{address}", status=status)
                for address, status in statuses.items()
            }
        }

    def set_answer(answer):
        answers[:] = [answer]

    pre_send.connect(answer_calls, weak=False, dispatch_uid="provider_says")
    yield set_answer
    pre_send.disconnect(dispatch_uid="provider_says")


def calls() -> list:
    """The calls the provider accepted, in order."""
    return [m for m in outbox.outbox if m.anymail_status.status]


def as_received(call, address: str) -> tuple[str, str]:
    """The text and HTML parts of the call as the provider makes them for one recipient: every
    merge field filled with the recipient's value."""
    params = call.anymail_test_params
    text, html = params["text_body"], params["html_body"]
    for key, value in params["merge_data"][address].items():
        field = BATCH_APIS["Test"].merge_field(key)
        text, html = text.replace(field, value), html.replace(field, value)
    return text, html


def test_each_version_goes_in_one_call_to_exactly_the_readers_it_is_for(
    eager, articles, weekly, on_the_list, client
):
    on_the_list["staff"].name = "<Stella> Ng"  # markup in a name stays text
    on_the_list["staff"].save(update_fields=["name"])

    send = send_now(eager, articles[Visibility.PREMIUM], weekly)

    full, teaser = calls()
    assert set(full.to) == ENTITLED and set(teaser.to) == TEASER
    for call in (full, teaser):
        params = call.anymail_test_params
        assert params["is_batch_send"]  # a message per recipient, none seeing the others
        assert set(params["merge_data"]) == set(params["merge_headers"]) == set(call.to)
        assert params["extra_headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert "%recipient.greeting%" in params["text_body"]
        assert "%recipient.greeting_html%" in params["html_body"]
    assert PREMIUM in full.body and PREMIUM in full.alternatives[0][0]
    assert PREMIUM not in teaser.body and PREMIUM not in teaser.alternatives[0][0]
    assert "The body of premium-article" not in teaser.body
    assert "The rest of this article is for members" in teaser.body

    text, html = as_received(full, "stella@example.com")
    assert "Hello <Stella>," in text and PREMIUM in text
    assert "Hello &lt;Stella&gt;," in html and "<Stella>" not in html and PREMIUM in html
    text, html = as_received(teaser, "nell@example.com")
    assert "Hello," in text and "%recipient." not in text + html and PREMIUM not in text + html

    urls = {
        address: values["unsubscribe_url"]
        for call in (full, teaser)
        for address, values in call.merge_data.items()
    }
    assert len(set(urls.values())) == 6  # each recipient's own link
    for call in (full, teaser):
        for address, headers in call.merge_headers.items():
            assert headers == {
                "List-Unsubscribe": f"<{urls[address]}>, "
                "<mailto:hello@example.com?subject=unsubscribe%20weekly>"
            }
            assert all(urls[address] in part for part in as_received(call, address))
    # the link in Nell's header unsubscribes her, and only her, with one click
    response = client.post(urls["nell@example.com"], {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert set(
        NewsletterSubscription.objects.filter(newsletter=weekly).values_list(
            "user__email", flat=True
        )
    ) == (ENTITLED | TEASER) - {"nell@example.com"} | {"una@example.com"}

    assert (send.status, send.recipients, send.sent, send.failed, send.suppressed) == (
        SendStatus.DONE,
        6,
        6,
        0,
        0,
    )
    rows = NewsletterDelivery.objects.filter(send=send)
    assert {r.user.email: r.full_text for r in rows} == {
        **dict.fromkeys(ENTITLED, True),
        **dict.fromkeys(TEASER, False),
    }
    assert all(r.status == DeliveryStatus.SENT and r.sent_at for r in rows)

    ids = sorted(r.pk for r in rows)
    assert newsletter.send_batch(send_id=send.pk, first_id=ids[0], last_id=ids[-1]) == 0
    assert len(calls()) == 2  # run again, the batch mails nobody twice


def test_a_batch_larger_than_a_call_takes_as_few_calls_as_it_can(
    eager, articles, weekly, on_the_list, monkeypatch
):
    three = dataclasses.replace(BATCH_APIS["Test"], max_recipients=3)
    monkeypatch.setitem(BATCH_APIS, "Test", three)

    send_now(eager, articles[Visibility.PREMIUM], weekly)

    assert [len(call.to) for call in calls()] == [3, 1, 2]
    for call in calls():
        assert set(call.to) <= (ENTITLED if PREMIUM in call.body else TEASER)


def test_suppressed_and_unsubscribed_addresses_are_in_no_call(eager, articles, weekly, on_the_list):
    Suppression.objects.create(email="OSCAR@example.com", reason=SuppressionReason.COMPLAINED)
    with eager(execute=False):
        send = newsletter.send_create(article=articles[Visibility.PREMIUM], newsletter=weekly)
    newsletter.send_plan(send_id=send.pk)  # the list is made; then Sue leaves it
    NewsletterSubscription.objects.filter(user=on_the_list["subscriber"]).delete()
    for first, last in newsletter._batches(send.pk):
        newsletter.send_batch(send_id=send.pk, first_id=first, last_id=last)

    addressed = {address for call in calls() for address in call.to}
    assert addressed == (ENTITLED | TEASER) - {"oscar@example.com", "sue@example.com"}
    status = dict(NewsletterDelivery.objects.values_list("user__email", "status"))
    assert status["oscar@example.com"] == DeliveryStatus.SUPPRESSED
    assert status["sue@example.com"] == DeliveryStatus.SKIPPED
    send.refresh_from_db()
    assert (send.status, send.sent, send.suppressed) == (SendStatus.DONE, 4, 2)


def test_addresses_the_provider_refuses_are_recorded_failed_and_the_rest_sent(
    eager, articles, weekly, on_the_list, provider_says
):
    def answer(addresses):
        if set(addresses) == TEASER:  # every address of the call refused: anymail raises
            return dict.fromkeys(addresses, "rejected")
        return {a: "invalid" if a == "sue@example.com" else "queued" for a in addresses}

    provider_says(answer)

    send = send_now(eager, articles[Visibility.PREMIUM], weekly)

    rows = {
        r.user.email: (r.status, r.error, r.full_text)
        for r in NewsletterDelivery.objects.select_related("user")
    }
    assert rows["sue@example.com"] == (DeliveryStatus.FAILED, "invalid by Test", None)
    assert rows["oscar@example.com"] == (DeliveryStatus.FAILED, "rejected by Test", None)
    assert rows["nell@example.com"] == (DeliveryStatus.FAILED, "rejected by Test", None)
    assert rows["tina@example.com"] == (DeliveryStatus.SENT, "", True)
    assert (send.status, send.sent, send.failed) == (SendStatus.DONE, 3, 3)


def test_a_call_that_fails_leaves_its_rows_waiting_and_the_retry_mails_only_them(
    eager, articles, weekly, on_the_list, provider_says
):
    def provider_down_for_teasers(addresses):
        if set(addresses) == TEASER:
            return AnymailAPIError("503 Service Unavailable")
        return dict.fromkeys(addresses, "sent")

    provider_says(provider_down_for_teasers)
    with eager(execute=False):
        send = newsletter.send_create(article=articles[Visibility.PREMIUM], newsletter=weekly)
    newsletter.send_plan(send_id=send.pk)
    [(first, last)] = newsletter._batches(send.pk)

    with pytest.raises(AnymailAPIError):  # the task retries on it (MAIL_RETRY)
        newsletter.send_batch(send_id=send.pk, first_id=first, last_id=last)

    waiting = NewsletterDelivery.objects.filter(status=DeliveryStatus.PENDING)
    assert set(waiting.values_list("user__email", flat=True)) == TEASER
    provider_says(lambda addresses: dict.fromkeys(addresses, "sent"))
    newsletter.send_batch(send_id=send.pk, first_id=first, last_id=last)  # the retry

    full, teaser = calls()
    assert set(full.to) == ENTITLED and set(teaser.to) == TEASER  # each address once
    send.refresh_from_db()
    assert (send.status, send.sent) == (SendStatus.DONE, 6)


def test_an_article_whose_text_looks_like_merge_fields_goes_message_by_message(
    eager, make_article, weekly, on_the_list
):
    article = make_article("templating-for-editors", visibility=Visibility.PUBLIC)
    article.intro = "Mailgun fills in %recipient.name% for you."
    article.save()

    send_now(eager, article, weekly)

    assert len(calls()) == 6 and all(len(call.to) == 1 for call in calls())
    assert all(not call.anymail_test_params["is_batch_send"] for call in calls())
    assert all("%recipient.name%" in call.body for call in calls())


def test_per_message_sends_a_message_per_recipient_through_the_same_provider(
    eager, articles, weekly, on_the_list, settings
):
    settings.NEWSLETTER_TRANSPORT = "per-message"

    send_now(eager, articles[Visibility.PREMIUM], weekly)

    assert sorted(call.to[0] for call in calls()) == sorted(ENTITLED | TEASER)
    for call in calls():
        assert (PREMIUM in call.body) == (call.to[0] in ENTITLED)
        assert "List-Unsubscribe" in call.extra_headers


def test_which_transport_follows_the_backend_and_a_batch_asked_of_smtp_is_refused(settings):
    assert batch_api() == BATCH_APIS["Test"]
    settings.EMAIL_BACKEND = "anymail.backends.mailgun.EmailBackend"
    assert batch_api() == BATCH_APIS["Mailgun"]
    settings.EMAIL_BACKEND = "anymail.backends.postmark.EmailBackend"  # merges only templates
    assert batch_api() is None

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    assert batch_api() is None
    settings.NEWSLETTER_TRANSPORT = "anymail-batch"
    with pytest.raises(ImproperlyConfigured, match="NEWSLETTER_TRANSPORT=anymail-batch needs"):
        batch_api()


@pytest.mark.parametrize("esp", ["Mailgun", "SparkPost"])
def test_the_providers_own_payload_carries_each_recipients_parts(
    articles, weekly, on_the_list, esp
):
    """Built by anymail's real backend for the provider (nothing is posted): where the merge
    fields are, and the values and headers for each recipient."""
    backend = {"Mailgun": MailgunBackend, "SparkPost": SparkPostBackend}[esp](api_key="key-x")
    members = [on_the_list["in_trial"], on_the_list["staff"]]
    members[1].name = "<Stella> Ng"
    send = NewsletterSend.objects.create(
        article=articles[Visibility.PREMIUM], newsletter=weekly, send_at=timezone.now()
    )
    version = newsletter.render_version(send.article, weekly, full=True)
    assert not BATCH_APIS[esp].mistakes_for_fields(version.subject, version.text, version.html)
    recipients = [newsletter._recipient(send, member) for member in members]
    message = newsletter._batch_message(send, BATCH_APIS[esp], version, recipients)

    payload = backend.build_message_payload(message, backend.send_defaults)
    payload.serialize_data()
    header = (
        f"<{recipients[1].unsubscribe}>, <mailto:hello@example.com?subject=unsubscribe%20weekly>"
    )
    data = payload.data
    if esp == "Mailgun":  # merged as given: the HTML part takes the escaped greeting
        stella = json.loads(data["recipient-variables"])["stella@example.com"]
        assert stella["greeting"] == "Hello <Stella>,"
        assert stella["greeting_html"] == "Hello &lt;Stella&gt;,"
        assert stella["h:List-Unsubscribe"] == header
        assert data["h:List-Unsubscribe"] == "%recipient.h:List-Unsubscribe%"
        text, html = data["text"], data["html"]
        assert "%recipient.greeting%" in text and "%recipient.greeting_html%" in html
    else:  # SparkPost escapes what it merges into HTML: the HTML part takes the plain value
        stella = data["recipients"][1]["substitution_data"]
        assert stella["greeting"] == "Hello <Stella>," and "greeting_html" not in stella
        assert stella["Header__List_Unsubscribe"] == header
        assert data["content"]["headers"]["List-Unsubscribe"] == "{{Header__List_Unsubscribe}}"
        text, html = data["content"]["text"], data["content"]["html"]
        assert "{{greeting}}" in text and "{{greeting}}" in html
    assert PREMIUM in text and PREMIUM in html


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs PostgreSQL's concurrent transactions"
)
@pytest.mark.django_db(transaction=True)
def test_two_copies_of_a_batch_at_once_mail_each_address_once(articles, weekly, on_the_list):
    """A redelivered task running beside the first: the second waits on the rows the first has
    claimed for its call, then finds them done."""
    send = NewsletterSend.objects.create(
        article=articles[Visibility.PREMIUM],
        newsletter=weekly,
        send_at=timezone.now(),
        status=SendStatus.SENDING,
    )
    rows = NewsletterDelivery.objects.bulk_create(
        NewsletterDelivery(send=send, user=member)
        for member in on_the_list.values()
        if member.membership.email_verified_at
    )

    def slow_call(sender, message, esp_name, **kwargs):
        time.sleep(0.3)  # the provider's round trip, the rows locked meanwhile

    def run():
        try:
            newsletter.send_batch(send_id=send.pk, first_id=rows[0].pk, last_id=rows[-1].pk)
        finally:
            connection.close()

    pre_send.connect(slow_call, weak=False, dispatch_uid="slow_call")
    try:
        copies = [threading.Thread(target=run) for _ in range(2)]
        for copy in copies:
            copy.start()
        for copy in copies:
            copy.join(timeout=30)
    finally:
        pre_send.disconnect(dispatch_uid="slow_call")

    addressed = Counter(address for call in calls() for address in call.to)
    assert set(addressed) == ENTITLED | TEASER and set(addressed.values()) == {1}
    send.refresh_from_db()
    assert (send.status, send.sent) == (SendStatus.DONE, 6)
