"""A newsletter send through a provider's batch API, by a real worker, killed and started again.

The worker runs django-anymail's real Mailgun backend (NEWSLETTER_TRANSPORT=anymail-batch), its
API URL pointed at a local HTTP sink that stands in for Mailgun's network, as the benchmark's SMTP
sink stands in for a mail server: it records each call's form fields and answers as Mailgun does
("Queued. Thank you."), slowly enough that the kill can land during a call. Each call must hold
one version only (the premium body only in calls to members who may read it), every member must
be addressed, and nobody twice but for the documented gap (articles/newsletter.py): the calls a
killed process had made and not yet committed go again, at most one call per pool process.
"""

import json
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest
from django.db import transaction

from articles import newsletter
from articles.models import NewsletterDelivery, NewsletterSend, SendStatus, Visibility
from articles.tasks import newsletter_plan_task
from tests.conftest import SECRET_SENTENCES
from tests.integration.worker.conftest import needs_postgres, wait_until
from tests.integration.worker.test_newsletter_worker import on_the_list

pytestmark = [needs_postgres, pytest.mark.django_db(transaction=True)]

PREMIUM = SECRET_SENTENCES[Visibility.PREMIUM]
MEMBERS = 150
BATCH = 10
KILLED_PROCESSES = 2  # the first worker's pool (--concurrency 2), each with at most one call


class MailgunSink:
    """A local stand-in for Mailgun's sending endpoint: records every call, answers "Queued"."""

    def __init__(self, delay: float):
        self.calls: list[dict[str, list[str]]] = []
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"])).decode()
                sink.calls.append(parse_qs(body, keep_blank_values=True))
                time.sleep(delay)  # a provider's round trip: a kill can land in it
                answer = json.dumps({"id": f"<{len(sink.calls)}@sink>", "message": "Queued."})
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(answer.encode())

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/v3"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()


@pytest.fixture
def mailgun():
    sink = MailgunSink(delay=0.15)
    yield sink
    sink.close()


def test_a_killed_worker_sending_by_batch_api_mails_each_version_to_its_readers_once(
    make_worker, articles, mailgun
):
    weekly, entitled = on_the_list(MEMBERS)
    through_mailgun = {
        "NEWSLETTER_BATCH": BATCH,
        "NEWSLETTER_TRANSPORT": "anymail-batch",
        "EMAIL_BACKEND": "anymail.backends.mailgun.EmailBackend",
        "ANYMAIL_MAILGUN_API_KEY": "key-test",
        "ANYMAIL_MAILGUN_API_URL": mailgun.url,
    }
    first = make_worker(**through_mailgun)
    first.start(queues=[first.newsletter_queue])
    with transaction.atomic():
        send = newsletter.send_create(article=articles[Visibility.PREMIUM], newsletter=weekly)
    progress = NewsletterSend.objects.filter(pk=send.pk)

    wait_until(lambda: progress.get().sent >= 30, what="the send to get going")
    first.kill()
    assert progress.get().sent < MEMBERS, "the kill should land in the middle of the send"

    second = make_worker(**through_mailgun)
    second.start()
    newsletter_plan_task.delay(send.pk)  # as a redelivery, or a pause and resume, would
    wait_until(
        lambda: progress.get().status == SendStatus.DONE, timeout=90, what="the send to finish"
    )
    second.drain()

    addressed = Counter()
    for call in mailgun.calls:
        to = call["to"]
        assert 0 < len(to) <= BATCH
        full = PREMIUM in call["html"][0]
        assert set(to) <= entitled if full else not set(to) & entitled, "one version per call"
        assert (PREMIUM in call["text"][0]) == full
        assert "The opening of premium-article" in call["text"][0]
        assert "%recipient.greeting%" in call["text"][0]
        assert "%recipient.unsubscribe_url_html%" in call["html"][0]
        assert call["h:List-Unsubscribe"] == ["%recipient.h:List-Unsubscribe%"]
        assert call["h:List-Unsubscribe-Post"] == ["List-Unsubscribe=One-Click"]
        variables = json.loads(call["recipient-variables"][0])
        assert set(variables) == set(to)
        links = {v["h:List-Unsubscribe"] for v in variables.values()}
        assert len(links) == len(to)  # each recipient's own
        assert all(
            link.startswith("<http://127.0.0.1:8000/newsletter/unsubscribe/") for link in links
        )
        addressed.update(to)

    assert len(addressed) == MEMBERS, "every member was addressed"
    twice = [address for address, times in addressed.items() if times > 1]
    assert max(addressed.values()) <= 2 and len(twice) <= KILLED_PROCESSES * BATCH, twice
    done = progress.get()
    assert (done.recipients, done.sent, done.failed) == (MEMBERS, MEMBERS, 0)
    assert NewsletterDelivery.objects.filter(send=send, full_text=True).count() == len(entitled)
