"""The newsletter as a reader meets it: sign up with an email, confirm, unsubscribe in one click,
choose on the account page; and a newsletter reader who sets a password becomes a member.

Views of accounts/views.py and the services under them; the mail is read raw.
"""

import re
from datetime import timedelta
from email import message_from_bytes

import pytest
import time_machine
from allauth.account.models import EmailAddress
from anymail.signals import AnymailTrackingEvent, tracking
from django.core import mail as outbox
from django.test import Client
from django.utils import timezone

from accounts.entitlements import State, for_user
from accounts.models import (
    Newsletter,
    NewsletterSubscription,
    Suppression,
    SuppressionReason,
    TrialClaim,
    User,
)
from accounts.services import unsubscribe_token
from config.celery import app


@pytest.fixture
def eager(django_capture_on_commit_callbacks):
    app.conf.update(task_always_eager=True, task_eager_propagates=True)
    yield django_capture_on_commit_callbacks
    app.conf.update(task_always_eager=False, task_eager_propagates=False)


@pytest.fixture
def lists(db):
    return {
        "weekly": Newsletter.objects.create(
            name="The Weekly Guide", slug="weekly", is_default=True
        ),
        "news": Newsletter.objects.create(name="Product news", slug="product-news"),
    }


def sign_up(eager, email, **fields):
    with eager(execute=True):
        return Client().post("/newsletter/subscribe/", {"email": email, **fields})


def link_in(message, path):
    text = (
        message_from_bytes(message.message().as_bytes())
        .get_payload()[0]
        .get_payload(decode=True)
        .decode()
    )
    return re.search(rf"http://127\.0\.0\.1:8000({path}[^\s]+/)", text).group(1)


def member(email):
    return User.objects.select_related("membership").get(email=email)


def test_an_anonymous_reader_subscribes_with_only_an_email_and_confirms_by_the_link(
    eager, lists, settings
):
    page = sign_up(eager, "Nell@Example.com")

    assert page.status_code == 200 and "Check your inbox" in page.content.decode()
    [confirmation] = outbox.outbox
    assert (
        confirmation.to == ["Nell@example.com"]
        and confirmation.subject == "Confirm your subscription to The Weekly Guide"
    )
    nell = member("Nell@example.com")
    assert not nell.has_usable_password() and not NewsletterSubscription.objects.exists()
    assert for_user(nell).state == State.UNVERIFIED  # unconfirmed: on no list, mailed nothing else

    link = link_in(confirmation, "/newsletter/confirm/")
    assert "Confirm my subscription" in Client().get(link).content.decode()
    assert not NewsletterSubscription.objects.exists()  # a GET (a mail scanner) changes nothing
    confirmed = Client().post(link)

    assert (
        "You're subscribed" in confirmed.content.decode()
        and "Set a password" in confirmed.content.decode()
    )
    nell = member("Nell@example.com")
    assert list(nell.newsletters.values_list("slug", flat=True)) == ["weekly"]
    assert for_user(nell).state == State.NEWSLETTER_ONLY  # a newsletter reader, not a member
    assert nell.membership.trial_started_at is None and not TrialClaim.objects.exists()
    assert len(outbox.outbox) == 1  # no welcome, no trial mail


def test_the_form_names_one_newsletter_and_says_the_same_whoever_owns_the_address(
    eager, lists, make_member
):
    make_member("oscar@example.com", trial="over")

    known = sign_up(eager, "oscar@example.com", newsletter="product-news")
    unknown = sign_up(eager, "someone@example.com", newsletter="product-news")

    assert known.content.decode().replace(
        "oscar@example.com", "X"
    ) == unknown.content.decode().replace("someone@example.com", "X")
    Client().post(link_in(outbox.outbox[0], "/newsletter/confirm/"))
    oscar = member("oscar@example.com")
    assert list(oscar.newsletters.values_list("slug", flat=True)) == ["product-news"]
    assert for_user(oscar).state == State.TRIAL_OVER  # a member stays what they were


def test_a_bad_address_a_missing_list_or_too_many_tries_get_a_clear_answer_and_change_nothing(
    eager, lists, settings
):
    bad = sign_up(eager, "not an address")
    assert bad.status_code == 400 and "Enter a valid email address." in bad.content.decode()
    missing = sign_up(eager, "ann@example.com", newsletter="daily")
    assert missing.status_code == 400 and "There is no such newsletter" in missing.content.decode()
    assert not User.objects.exists() and not outbox.outbox

    settings.ACCOUNT_RATE_LIMITS = {"newsletter_signup": "2/m/ip"}
    codes = [sign_up(eager, f"reader{n}@example.com").status_code for n in range(3)]
    assert codes == [200, 200, 429]
    assert User.objects.count() == 2


def test_a_second_sign_up_the_same_day_sends_no_second_confirmation(eager, lists):
    sign_up(eager, "nell@example.com")
    sign_up(eager, "nell@example.com")

    assert len(outbox.outbox) == 1 and User.objects.count() == 1


def test_a_forged_or_expired_confirmation_link_changes_nothing(eager, lists):
    sign_up(eager, "nell@example.com")
    link = link_in(outbox.outbox[0], "/newsletter/confirm/")

    forged = Client().post(link.replace("/confirm/", "/confirm/x"))
    with time_machine.travel(timezone.now() + timedelta(days=8)):
        expired = Client().post(link)

    for response in (forged, expired):
        assert (
            response.status_code == 400 and "That link does not work" in response.content.decode()
        )
    assert not NewsletterSubscription.objects.exists()
    assert not EmailAddress.objects.filter(verified=True).exists()


def test_a_newsletter_reader_who_sets_a_password_becomes_a_member_and_their_trial_starts(
    eager, lists
):
    sign_up(eager, "nell@example.com")
    Client().post(link_in(outbox.outbox[0], "/newsletter/confirm/"))
    outbox.outbox.clear()

    reader = Client()
    with eager(execute=True):
        reader.post("/accounts/password/reset/", {"email": "nell@example.com"})
        reset = re.search(
            r"http://[^/]+(/accounts/password/reset/key/[^\s]+)", outbox.outbox[0].body
        ).group(1)
        form = reader.get(reset, follow=True)
        reader.post(
            form.redirect_chain[-1][0],
            {"password1": "a long new password 42", "password2": "a long new password 42"},
        )

    nell = member("nell@example.com")
    assert nell.has_usable_password() and not nell.membership.newsletter_only
    assert for_user(nell).state == State.TRIAL
    assert outbox.outbox[-1].subject == "Welcome to Masthead: your free trial has started"


def test_one_click_unsubscribes_without_signing_in_and_a_second_click_changes_nothing(
    lists, make_member
):
    oscar = make_member("oscar@example.com", trial="over")
    NewsletterSubscription.objects.create(user=oscar, newsletter=lists["weekly"])
    NewsletterSubscription.objects.create(user=oscar, newsletter=lists["news"])
    url = f"/newsletter/unsubscribe/{unsubscribe_token(user_id=oscar.pk, newsletter_id=lists['weekly'].pk)}/"

    page = Client().get(url).content.decode()
    assert '<button type="submit" class="button button--large">Unsubscribe</button>' in page
    assert oscar.newsletters.count() == 2  # looking changes nothing

    clicks = [Client().post(url, {"List-Unsubscribe": "One-Click"}) for _ in range(2)]

    assert [c.status_code for c in clicks] == [200, 200]
    assert list(oscar.newsletters.values_list("slug", flat=True)) == ["product-news"]
    by_hand = Client().post(url)
    assert "You're unsubscribed" in by_hand.content.decode()


def test_a_forged_unsubscribe_link_changes_nothing(lists, make_member):
    oscar = make_member("oscar@example.com")
    NewsletterSubscription.objects.create(user=oscar, newsletter=lists["weekly"])
    token = unsubscribe_token(user_id=oscar.pk, newsletter_id=lists["weekly"].pk)
    forged = token.replace(token[-5:], "AAAAA")

    response = Client().post(
        f"/newsletter/unsubscribe/{forged}/", {"List-Unsubscribe": "One-Click"}
    )

    assert response.status_code == 400 and oscar.newsletters.count() == 1


def test_members_choose_their_newsletters_on_the_account_page(client, lists, make_member):
    tina = make_member("tina@example.com", trial="active")
    NewsletterSubscription.objects.create(user=tina, newsletter=lists["weekly"])
    client.force_login(tina)

    page = client.get("/account/").content.decode()
    assert re.search(r'<input type="checkbox" name="newsletters" value="\d+"[^>]*checked', page)
    assert "Product news" in page
    client.post("/account/email-preferences/", {"newsletters": [lists["news"].pk]})

    assert list(tina.newsletters.values_list("slug", flat=True)) == ["product-news"]
    client.post("/account/email-preferences/", {})
    assert not tina.newsletters.exists()
    nonsense = client.post("/account/email-preferences/", {"newsletters": ["x"]}, follow=True)
    assert "could not be saved" in nonsense.content.decode() and not tina.newsletters.exists()


def test_a_new_member_who_signs_up_gets_the_default_newsletters(eager, lists, client):
    with eager(execute=True):
        client.post(
            "/accounts/signup/",
            {
                "email": "new@example.com",
                "password1": "a long new password 42",
                "password2": "a long new password 42",
            },
        )

    assert list(member("new@example.com").newsletters.values_list("slug", flat=True)) == ["weekly"]


def test_a_bounce_or_complaint_the_provider_reports_suppresses_the_address(db):
    for event_type, address in [
        ("bounced", "Gone@Example.com"),
        ("complained", "angry@example.com"),
        ("opened", "fan@example.com"),
    ]:
        event = AnymailTrackingEvent(
            event_type=event_type, recipient=address, description="550 no such user"
        )
        tracking.send(sender=object, event=event, esp_name="Postmark")

    assert dict(Suppression.objects.values_list("email", "reason")) == {
        "gone@example.com": SuppressionReason.BOUNCED,
        "angry@example.com": SuppressionReason.COMPLAINED,
    }
    assert Suppression.objects.get(email="gone@example.com").detail == "Postmark: 550 no such user"
