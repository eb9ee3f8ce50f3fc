"""articles/newsletter.py: an article mailed to a newsletter's members, gated per recipient.

The workers' tasks run eagerly here, in this process, after each commit; the same send through a
real worker process, killed mid-send, is in tests/integration/worker/. Every assertion about what
a recipient got reads the raw MIME message, as their mail client would.
"""

import threading
from datetime import timedelta
from email import message_from_bytes

import pytest
import time_machine
from django.core import mail as outbox
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from accounts.models import Newsletter, NewsletterSubscription, Suppression, SuppressionReason, User
from accounts.services import complimentary_grant, trial_set
from articles import newsletter
from articles.models import (
    DeliveryStatus,
    NewsletterDelivery,
    NewsletterSend,
    SendStatus,
    Status,
    Visibility,
)
from billing.models import Subscription
from billing.services import membership_sync
from config.celery import app
from tests.conftest import SECRET_SENTENCES

PREMIUM = SECRET_SENTENCES[Visibility.PREMIUM]
MEMBERS = SECRET_SENTENCES[Visibility.MEMBERS]


@pytest.fixture
def eager(django_capture_on_commit_callbacks):
    """The workers' tasks, run at once in this process, after the commit that queued them."""
    app.conf.update(task_always_eager=True, task_eager_propagates=True)
    yield django_capture_on_commit_callbacks
    app.conf.update(task_always_eager=False, task_eager_propagates=False)


@pytest.fixture
def weekly(db):
    return Newsletter.objects.create(name="The Weekly Guide", slug="weekly", is_default=True)


@pytest.fixture
def on_the_list(make_member, weekly, plans):
    """One reader of each kind the inbox must tell apart, all on the weekly list."""
    now = timezone.now()
    members = {
        "in_trial": make_member("tina@example.com", trial="active"),
        "trial_over": make_member("oscar@example.com", trial="over"),
        "staff": make_member("stella@example.com", staff=True),
        "subscriber": make_member("sue@example.com", trial="over"),
        "complimentary": make_member("cora@example.com", trial="over"),
        "unverified": make_member("una@example.com", verified=False),
        "newsletter_only": make_member("nell@example.com"),
    }
    Subscription.objects.create(
        stripe_subscription_id="sub_sue",
        user=members["subscriber"],
        status="active",
        started_at=now - timedelta(days=10),
        current_period_end=now + timedelta(days=20),
        synced_at=now,
    )
    membership_sync(user_id=members["subscriber"].pk)
    complimentary_grant(
        user=members["complimentary"],
        until=now + timedelta(days=9),
        reason="Press",
        granted_by=None,
    )
    members["newsletter_only"].membership.newsletter_only = True
    members["newsletter_only"].membership.save(update_fields=["newsletter_only"])
    for member in members.values():
        NewsletterSubscription.objects.create(user=member, newsletter=weekly)
    return members


def send_now(eager, article, weekly, **options):
    with eager(execute=True):
        send = newsletter.send_create(article=article, newsletter=weekly, **options)
    send.refresh_from_db()
    return send


def raw(message) -> str:
    """The message as the recipient's mail client parses it: every part, decoded."""
    parsed = message_from_bytes(message.message().as_bytes())
    return "\n".join(
        part.get_payload(decode=True).decode() for part in parsed.walk() if not part.is_multipart()
    )


def received() -> dict[str, str]:
    return {message.to[0]: raw(message) for message in outbox.outbox}


def test_a_premium_article_carries_its_body_only_to_the_recipients_who_may_read_it(
    eager, articles, weekly, on_the_list
):
    send = send_now(eager, articles[Visibility.PREMIUM], weekly)

    got = received()
    entitled = {"tina@example.com", "stella@example.com", "sue@example.com", "cora@example.com"}
    assert set(got) == entitled | {"oscar@example.com", "nell@example.com"}  # una never verified
    for address, text in got.items():
        assert "The opening of premium-article" in text
        assert (PREMIUM in text) == (address in entitled), address
        if address not in entitled:
            assert "The body of premium-article" not in text
            assert "The rest of this article is for members" in text
            assert "Cancel online anytime" in text and "/articles/premium-article/" in text
    assert (send.status, send.recipients, send.sent, send.failed, send.suppressed) == (
        SendStatus.DONE,
        6,
        6,
        0,
        0,
    )
    assert (
        set(NewsletterDelivery.objects.filter(full_text=True).values_list("user__email", flat=True))
        == entitled
    )


def test_a_members_only_article_is_full_for_members_and_a_teaser_for_newsletter_only_readers(
    eager, articles, weekly, on_the_list
):
    send_now(eager, articles[Visibility.MEMBERS], weekly)

    got = received()
    assert MEMBERS in got["oscar@example.com"]  # trial over: still a member
    assert (
        MEMBERS not in got["nell@example.com"]
        and "The rest of this article is for members" in got["nell@example.com"]
    )


def test_every_newsletter_message_carries_one_click_unsubscribe_and_account_mail_does_not(
    eager, articles, weekly, on_the_list
):
    send_now(eager, articles[Visibility.PUBLIC], weekly)
    [message] = [m for m in outbox.outbox if m.to == ["oscar@example.com"]]
    headers = message_from_bytes(message.message().as_bytes())

    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = " ".join(headers["List-Unsubscribe"].split())  # unfolded, as a client reads it
    assert unsubscribe.startswith("<http://127.0.0.1:8000/newsletter/unsubscribe/")
    assert ">, <mailto:hello@example.com?subject=unsubscribe%20weekly>" in unsubscribe
    assert headers["From"] == "Masthead <hello@example.com>"
    assert message.alternatives[0][1] == "text/html" and message.body  # HTML and plain text

    outbox.outbox.clear()
    from accounts import mail

    mail.deliver(
        mail.PAYMENT_FAILED,
        user_id=on_the_list["trial_over"].pk,
        key="payment_failed:in_1",
        context={},
    )
    account_mail = message_from_bytes(outbox.outbox[0].message().as_bytes())
    assert (
        account_mail["List-Unsubscribe"] is None and account_mail["List-Unsubscribe-Post"] is None
    )


def test_an_address_suppressed_after_a_bounce_gets_nothing_and_is_counted(
    eager, articles, weekly, on_the_list
):
    Suppression.objects.create(email="OSCAR@example.com", reason=SuppressionReason.BOUNCED)

    send = send_now(eager, articles[Visibility.PUBLIC], weekly)

    assert "oscar@example.com" not in received()
    assert send.suppressed == 1 and send.sent == 5
    assert (
        NewsletterDelivery.objects.get(user=on_the_list["trial_over"]).status
        == DeliveryStatus.SUPPRESSED
    )


def test_a_member_who_unsubscribed_after_the_list_was_made_is_skipped(
    eager, articles, weekly, on_the_list
):
    with eager(execute=False) as queued:
        send = newsletter.send_create(article=articles[Visibility.PUBLIC], newsletter=weekly)
    newsletter.send_plan(send_id=send.pk)  # the list is made; the batches wait on the broker
    NewsletterSubscription.objects.filter(user=on_the_list["trial_over"]).delete()
    for first, last in newsletter._batches(send.pk):
        newsletter.send_batch(send_id=send.pk, first_id=first, last_id=last)

    assert "oscar@example.com" not in received() and len(queued) == 1
    assert (
        NewsletterDelivery.objects.get(user=on_the_list["trial_over"]).status
        == DeliveryStatus.SKIPPED
    )


def test_planning_twice_records_nobody_twice_and_a_batch_run_twice_mails_nobody_twice(
    eager, articles, weekly, on_the_list
):
    send = send_now(eager, articles[Visibility.PUBLIC], weekly)
    NewsletterSend.objects.filter(pk=send.pk).update(status=SendStatus.SENDING)

    assert newsletter.send_plan(send_id=send.pk) == 0
    for delivery in NewsletterDelivery.objects.all():
        assert (
            newsletter.send_batch(send_id=send.pk, first_id=delivery.pk, last_id=delivery.pk) == 0
        )
    assert NewsletterDelivery.objects.count() == 6 and len(outbox.outbox) == 6


def test_the_paid_and_free_audiences_split_the_list(eager, articles, weekly, on_the_list):
    send_now(eager, articles[Visibility.PUBLIC], weekly, audience="paid")
    assert set(received()) == {"sue@example.com", "cora@example.com"}

    outbox.outbox.clear()
    send_now(eager, articles[Visibility.PUBLIC], weekly, audience="free", repeat=True)
    assert set(received()) == {
        "tina@example.com",
        "oscar@example.com",
        "stella@example.com",
        "nell@example.com",
    }


def test_a_draft_cannot_be_sent_and_a_second_send_needs_a_yes(
    eager, make_article, articles, weekly, on_the_list
):
    draft = make_article("draft-guide", status=Status.DRAFT)
    with pytest.raises(newsletter.CannotSend, match="A draft cannot be sent"):
        newsletter.send_create(article=draft, newsletter=weekly)

    send_now(eager, articles[Visibility.PUBLIC], weekly)
    with pytest.raises(newsletter.RepeatSend, match="was already sent to The Weekly Guide"):
        newsletter.send_create(article=articles[Visibility.PUBLIC], newsletter=weekly)
    assert NewsletterSend.objects.count() == 1


def test_a_send_at_publish_time_goes_when_the_article_goes_live_and_not_if_it_was_unpublished(
    eager, make_article, weekly, on_the_list
):
    live_at = timezone.now() + timedelta(hours=2)
    scheduled = make_article("tomorrows-guide", status=Status.SCHEDULED, publish_at=live_at)
    with pytest.raises(newsletter.CannotSend, match="goes live on"):
        newsletter.send_create(article=scheduled, newsletter=weekly)
    send = send_now(eager, scheduled, weekly, at_publish_time=True)
    assert send.status == SendStatus.SCHEDULED and not outbox.outbox

    with eager(execute=True):
        assert newsletter.sends_start_due() == 0  # not yet
    with time_machine.travel(live_at + timedelta(minutes=1)), eager(execute=True):
        assert newsletter.sends_start_due() == 1
    assert len(outbox.outbox) == 6

    unpublished = make_article("withdrawn-guide", status=Status.SCHEDULED, publish_at=live_at)
    later = send_now(eager, unpublished, weekly, at_publish_time=True)
    unpublished.status = Status.DRAFT
    unpublished.save()
    with time_machine.travel(live_at + timedelta(minutes=1)), eager(execute=True):
        assert newsletter.sends_start_due() == 0
    later.refresh_from_db()
    assert later.status == SendStatus.CANCELLED


def test_a_paused_send_stops_and_resumes_where_it_was_and_a_cancelled_one_sends_nothing_more(
    eager, articles, weekly, on_the_list, settings
):
    settings.NEWSLETTER_BATCH = 2
    with eager(execute=False):
        send = newsletter.send_create(article=articles[Visibility.PUBLIC], newsletter=weekly)
    newsletter.send_plan(send_id=send.pk)
    batches = list(newsletter._batches(send.pk))
    assert len(batches) == 3
    newsletter.send_batch(send_id=send.pk, first_id=batches[0][0], last_id=batches[0][1])
    assert newsletter.send_pause(send=send)

    assert (
        newsletter.send_batch(send_id=send.pk, first_id=batches[1][0], last_id=batches[1][1]) == 0
    )
    assert len(outbox.outbox) == 2
    with eager(execute=True):
        assert newsletter.send_resume(send=send)
    send.refresh_from_db()
    assert len(outbox.outbox) == 6 and len({m.to[0] for m in outbox.outbox}) == 6
    assert send.status == SendStatus.DONE

    outbox.outbox.clear()
    with eager(execute=False):
        again = newsletter.send_create(
            article=articles[Visibility.PUBLIC], newsletter=weekly, repeat=True
        )
    newsletter.send_plan(send_id=again.pk)
    assert newsletter.send_cancel(send=again)
    for first, last in newsletter._batches(again.pk):
        newsletter.send_batch(send_id=again.pk, first_id=first, last_id=last)
    assert not outbox.outbox
    assert NewsletterDelivery.objects.filter(send=again, status=DeliveryStatus.SKIPPED).count() == 6


def test_a_test_send_gives_staff_both_versions_and_nobody_else_more_than_they_may_read(
    eager, articles, weekly, on_the_list
):
    premium = articles[Visibility.PREMIUM]
    assert newsletter.send_test(article=premium, newsletter=weekly, email="stella@example.com") == 2
    staff_copies = {m.subject: raw(m) for m in outbox.outbox}
    assert PREMIUM in staff_copies["[Test: full text] Premium Article"]
    assert PREMIUM not in staff_copies["[Test: teaser] Premium Article"]

    outbox.outbox.clear()
    newsletter.send_test(article=premium, newsletter=weekly, email="oscar@example.com")
    newsletter.send_test(article=premium, newsletter=weekly, email="stranger@example.com")
    assert [m.subject for m in outbox.outbox] == ["[Test: teaser] Premium Article"] * 2
    assert all(PREMIUM not in raw(m) for m in outbox.outbox)


def test_access_is_judged_when_the_message_is_made_not_when_the_list_was(
    eager, articles, weekly, on_the_list
):
    with eager(execute=False):
        send = newsletter.send_create(article=articles[Visibility.PREMIUM], newsletter=weekly)
    newsletter.send_plan(send_id=send.pk)
    tina = on_the_list["in_trial"]
    trial_set(
        user_id=tina.pk,
        started_at=timezone.now() - timedelta(days=8),
        ends_at=timezone.now() - timedelta(minutes=1),
    )
    for first, last in newsletter._batches(send.pk):
        newsletter.send_batch(send_id=send.pk, first_id=first, last_id=last)

    assert PREMIUM not in received()["tina@example.com"]  # her trial ended between list and send


@pytest.mark.django_db(
    transaction=True
)  # the command commits, as it does in production, then follows
def test_the_command_queues_a_send_follows_it_and_refuses_what_it_cannot_do(
    articles, weekly, on_the_list, capsys
):
    app.conf.update(task_always_eager=True, task_eager_propagates=True)
    try:
        call_command("send_newsletter", "premium-article", "--newsletter", "weekly", "--wait")
        printed = capsys.readouterr().out
        assert "of “Premium Article” to The Weekly Guide is queued" in printed
        assert "6/6 sent 6, failed 0, suppressed 0 (Sent)" in printed

        from django.core.management import CommandError

        with pytest.raises(CommandError, match="Add --again"):
            call_command("send_newsletter", "premium-article", "--newsletter", "weekly")
        with pytest.raises(CommandError, match="No newsletter 'daily' \\(there are: weekly\\)"):
            call_command("send_newsletter", "premium-article", "--newsletter", "daily")
        with pytest.raises(CommandError, match="No article with the slug 'nope'"):
            call_command("send_newsletter", "nope", "--newsletter", "weekly")

        outbox.outbox.clear()
        call_command(
            "send_newsletter",
            "premium-article",
            "--newsletter",
            "weekly",
            "--test-to",
            "oscar@example.com",
        )
        assert [m.to for m in outbox.outbox] == [["oscar@example.com"]]
        assert PREMIUM not in raw(outbox.outbox[0])
    finally:
        app.conf.update(task_always_eager=False, task_eager_propagates=False)


def test_staff_send_from_the_article_page_preview_both_versions_and_follow_the_progress(
    eager, client, articles, weekly, on_the_list
):
    client.force_login(User.objects.create_superuser("boss@example.com", "pw"))
    premium = articles[Visibility.PREMIUM]
    page = client.get(f"/admin/articles/article/{premium.pk}/change/").content.decode()
    assert f'href="/admin/articles/article/{premium.pk}/newsletter/">Send as newsletter' in page

    form = client.get(f"/admin/articles/article/{premium.pk}/newsletter/").content.decode()
    full_url = f"/admin/articles/article/{premium.pk}/newsletter/{weekly.pk}/preview/full/"
    assert full_url in form
    assert PREMIUM in client.get(full_url).content.decode()
    teaser = client.get(full_url.replace("full", "teaser")).content.decode()
    assert PREMIUM not in teaser and "The rest of this article is for members" in teaser

    fields = {"newsletter": weekly.pk, "audience": "all", "when": "now"}
    with eager(execute=True):
        response = client.post(
            f"/admin/articles/article/{premium.pk}/newsletter/", {**fields, "send": "Send"}
        )
    send = NewsletterSend.objects.get()
    assert response["Location"] == f"/admin/articles/newslettersend/{send.pk}/change/"
    progress = client.get(response["Location"]).content.decode()
    assert '<progress value="6" max="6"' in progress and "Sent" in progress

    again = client.post(
        f"/admin/articles/article/{premium.pk}/newsletter/", {**fields, "send": "Send"}
    )
    assert "was already sent to The Weekly Guide" in again.content.decode()
    assert NewsletterSend.objects.count() == 1


def test_a_reader_without_access_to_the_admin_cannot_preview_the_full_text(
    client, articles, weekly, on_the_list
):
    client.force_login(on_the_list["subscriber"])
    premium = articles[Visibility.PREMIUM]

    response = client.get(
        f"/admin/articles/article/{premium.pk}/newsletter/{weekly.pk}/preview/full/"
    )

    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def parts(data: bytes) -> tuple[dict, list[str]]:
    parsed = message_from_bytes(data)
    headers = {
        k: " ".join(v.split()) for k, v in parsed.items() if k not in ("Date", "Content-Type")
    }
    return headers, [
        p.get_payload(decode=True).decode() for p in parsed.walk() if not p.is_multipart()
    ]


@pytest.mark.parametrize("long_line", [False, True])
def test_a_message_filled_in_from_its_versions_template_is_the_message_django_would_make(
    articles, weekly, on_the_list, long_line
):
    article = articles[Visibility.PREMIUM]
    if (
        long_line
    ):  # a body line over 998 characters is quoted-printable: no template, made per message
        article.intro = "word " * 400
        article.save()
    member = on_the_list["in_trial"]
    member.name = "<Zoë> O'Brien"  # any language's letters, and markup that must stay text
    send = NewsletterSend.objects.create(article=article, newsletter=weekly, send_at=timezone.now())
    version = newsletter.render_version(article, weekly, full=True)
    template = newsletter._template(send, version)
    to = newsletter._recipient(send, member)

    filled = newsletter._filled(send, version, template, to).message().as_bytes()
    ordinary = newsletter._message(send, version, to).message().as_bytes()

    assert (template is None) == long_line
    assert parts(filled) == parts(ordinary)
    headers, (text, html) = parts(filled)
    assert headers["To"] == "tina@example.com" and "Hello <Zoë>," in text
    assert "Hello &lt;Zoë&gt;," in html and "<Zoë>" not in html
    assert PREMIUM in text and PREMIUM in html


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs PostgreSQL's concurrent transactions"
)
@pytest.mark.django_db(transaction=True)
def test_a_double_click_on_send_makes_one_send(articles, weekly):
    both_ready = threading.Barrier(2)
    outcomes = []

    def click():
        try:
            both_ready.wait()
            newsletter.send_create(
                article=articles[Visibility.PUBLIC], newsletter=weekly, at_publish_time=True
            )
            outcomes.append("sent")
        except newsletter.RepeatSend:
            outcomes.append("asked to confirm")
        finally:
            connection.close()

    threads = [threading.Thread(target=click) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes) == ["asked to confirm", "sent"]
    assert NewsletterSend.objects.count() == 1


def test_the_mail_has_the_sites_typographic_quotes_and_dashes_in_both_parts(
    eager, make_article, weekly, on_the_list
):
    article = make_article(
        "typeset", visibility=Visibility.PUBLIC, intro='It\'s "here" -- at last.'
    )

    send_now(eager, article, weekly)

    parsed = message_from_bytes(outbox.outbox[0].message().as_bytes())
    parts = [p for p in parsed.walk() if not p.is_multipart()]
    assert {p.get_content_type() for p in parts} == {"text/plain", "text/html"}
    for part in parts:
        assert "It’s “here” – at last." in part.get_payload(decode=True).decode()  # noqa: RUF001 (the marks under test)
