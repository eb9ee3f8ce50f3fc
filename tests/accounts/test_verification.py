"""Verifying the address (allauth's mailed link; accounts/receivers.py) starts the free trial:
TRIAL_DAYS to the second from the click, once per person, whatever address they use."""

from datetime import timedelta

import pytest
import time_machine
from allauth.account.models import EmailAddress
from django.core import mail
from django.test import Client
from django.utils import timezone

from accounts.models import TrialClaim, User
from articles.models import Visibility
from tests.accounts.steps import NEW_PASSWORD, confirmation_path, sign_up
from tests.conftest import SECRET_SENTENCES
from tests.pages import paywall

# Signing up, then clicking the mailed link this much later: the trial counts from the click.
VERIFICATION_DELAY = timedelta(days=2, hours=8, minutes=45, seconds=30)
PREMIUM = SECRET_SENTENCES[Visibility.PREMIUM]


@pytest.fixture
def signed_up_at():
    """A month ahead of the clock as the test starts, so the fixtures' articles (live since an
    hour before) are live then."""
    return (timezone.now() + timedelta(days=30)).replace(hour=9, minute=30, second=0, microsecond=0)


@pytest.fixture
def verified_at(signed_up_at):
    return signed_up_at + VERIFICATION_DELAY


def join(client, email, *, verified_at) -> User:
    """Sign up at one moment, click the mailed link at another, then sign in, as a new member would.

    (allauth signs a member in by the link only within minutes of signing up.)
    """
    with time_machine.travel(verified_at - VERIFICATION_DELAY, tick=False):
        sign_up(client, email)
    link = confirmation_path(mail.outbox[-1])
    with time_machine.travel(verified_at, tick=False):
        client.get(link)
        client.post(link)
        client.post("/accounts/login/", {"login": email, "password": NEW_PASSWORD})
    user = User.objects.get(email=email.lower())
    assert client.session["_auth_user_id"] == str(user.pk)
    return user


def premium_page(client, at) -> str:
    with time_machine.travel(at, tick=False):
        return client.get("/articles/premium-article/").content.decode()


def premium_page_for(user, at) -> str:
    """The premium article as `user` sees it at `at`, signed in afresh then (sessions last two weeks)."""
    client = Client()
    with time_machine.travel(at, tick=False):
        client.force_login(user)
        return client.get("/articles/premium-article/").content.decode()


def test_sign_up_sends_a_verification_mail_and_the_link_starts_the_trial(client, articles, plans):
    response = sign_up(client, "Some.One+news@Example.com")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/confirm-email/"
    [message] = mail.outbox
    # allauth stores and mails addresses lower-cased; the +tag and dots stay as typed
    assert message.to == ["some.one+news@example.com"]
    user = User.objects.get(email="some.one+news@example.com")
    assert user.membership.trial_started_at is None  # not before verification

    response = client.get(confirmation_path(message))  # one click: the link confirms

    assert response.status_code == 302
    user.refresh_from_db()
    assert user.membership.trial_started_at is not None
    assert EmailAddress.objects.get(user=user).verified
    assert TrialClaim.objects.filter(user=user).exists()
    page = client.get("/articles/premium-article/").content.decode()
    assert SECRET_SENTENCES[Visibility.PREMIUM] in page
    assert client.session["_auth_user_id"] == str(user.pk)  # signed in by the link


def test_the_trial_starts_at_verification_not_at_sign_up(client, db, verified_at, signed_up_at):
    with time_machine.travel(signed_up_at, tick=False):
        sign_up(client, "tina@example.com")
    assert User.objects.get(email="tina@example.com").membership.trial_started_at is None

    link = confirmation_path(mail.outbox[-1])
    with time_machine.travel(verified_at, tick=False):
        client.post(link)

    user = User.objects.get(email="tina@example.com")
    assert user.membership.trial_started_at == verified_at
    assert user.membership.trial_ends_at == verified_at + timedelta(days=7)


def test_the_trial_ends_exactly_trial_days_after_verification(client, articles, plans, verified_at):
    user = join(client, "tina@example.com", verified_at=verified_at)
    ends_at = verified_at + timedelta(days=7)
    assert user.membership.trial_ends_at == ends_at

    one_second_before = premium_page(client, ends_at - timedelta(seconds=1))
    at_the_end = premium_page(client, ends_at)

    assert PREMIUM in one_second_before
    assert paywall(one_second_before) is None
    assert PREMIUM not in at_the_end
    assert "Subscribe" in paywall(at_the_end)
    assert "Start your free trial" not in paywall(at_the_end)


def test_no_background_job_is_needed_for_the_trial_to_end(client, articles, plans, verified_at):
    user = join(client, "tina@example.com", verified_at=verified_at)

    page = premium_page(client, user.membership.trial_ends_at + timedelta(minutes=5))

    user.refresh_from_db()
    assert user.membership.trial_ended_at is None  # nothing has processed the end...
    assert PREMIUM not in page  # ...and access ended all the same


def test_trial_days_from_settings_sets_the_length(client, articles, plans, settings, verified_at):
    settings.TRIAL_DAYS = 14

    user = join(client, "tina@example.com", verified_at=verified_at)

    assert user.membership.trial_ends_at == verified_at + timedelta(days=14)
    assert PREMIUM in premium_page_for(user, verified_at + timedelta(days=13, hours=23))
    after = premium_page_for(user, verified_at + timedelta(days=14))
    assert PREMIUM not in after
    assert "Subscribe" in paywall(after)


def test_with_trial_days_zero_verifying_gives_no_trial_and_keeps_the_claim_unused(
    client, articles, plans, settings, verified_at
):
    settings.TRIAL_DAYS = 0

    user = join(client, "tina@example.com", verified_at=verified_at)

    assert user.membership.trial_started_at is None
    assert TrialClaim.objects.count() == 0  # if trials are turned on later, Tina still gets hers
    article = premium_page(client, verified_at + timedelta(minutes=1))
    assert PREMIUM not in article
    assert "Subscribe" in paywall(article)
    assert "trial has ended" not in article  # she never had one


def test_a_second_sign_up_by_the_same_gmail_user_gets_no_trial(articles, plans, verified_at):
    first = join(Client(), "someone@gmail.com", verified_at=verified_at)
    second_client = Client()

    second = join(
        second_client, "Some.One+x@gmail.com", verified_at=verified_at + timedelta(days=1)
    )

    assert first.membership.trial_started_at == verified_at
    assert second.email == "some.one+x@gmail.com"  # the account keeps the address as given
    assert second.membership.trial_started_at is None
    assert TrialClaim.objects.count() == 1
    article = premium_page(second_client, verified_at + timedelta(days=1, hours=1))
    assert PREMIUM not in article
    assert "Subscribe" in paywall(article)
    assert "free trial" not in paywall(article)
    with time_machine.travel(verified_at + timedelta(days=1, hours=1), tick=False):
        account = second_client.get("/account/").content.decode()
    assert "No subscription yet" in account
    assert "Subscribe" in account


def test_the_claim_outlives_a_deleted_account(articles, plans, verified_at):
    first = join(Client(), "someone@gmail.com", verified_at=verified_at)
    first.delete()
    assert TrialClaim.objects.filter(user__isnull=True).count() == 1

    client = Client()
    again = join(client, "someone@gmail.com", verified_at=verified_at + timedelta(days=30))

    assert again.membership.trial_started_at is None
    assert TrialClaim.objects.count() == 1
    assert PREMIUM not in premium_page(client, verified_at + timedelta(days=30, hours=1))


def test_a_different_person_still_gets_a_trial(articles, plans, verified_at):
    join(Client(), "someone@gmail.com", verified_at=verified_at)

    other = join(Client(), "someone.else@gmail.com", verified_at=verified_at)

    assert other.membership.trial_started_at == verified_at
    assert TrialClaim.objects.count() == 2


def test_verifying_a_second_address_does_not_restart_the_trial(client, articles, verified_at):
    user = join(client, "tina@example.com", verified_at=verified_at)
    with time_machine.travel(verified_at + timedelta(days=3), tick=False):
        client.post("/accounts/email/", {"action_add": "", "email": "tina.work@example.com"})
        client.post(confirmation_path(mail.outbox[-1]))

    user.refresh_from_db()
    assert user.emailaddress_set.filter(email="tina.work@example.com", verified=True).exists()
    assert user.membership.trial_started_at == verified_at
    assert user.membership.trial_ends_at == verified_at + timedelta(days=7)
