"""The free trial: it starts when the email is verified, lasts TRIAL_DAYS to the second, once per person."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.test import Client
from django.utils import timezone

from accounts.models import Membership, TrialClaim, User
from accounts.services import trial_start
from articles.models import Visibility
from tests.conftest import SECRET_SENTENCES
from tests.test_pages import paywall
from tests.test_signup_flow import NEW_PASSWORD, confirmation_path, sign_up

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


# --- the admin's "Extend trial by N days" ---


def extend(superuser, users, days, *, at=None):
    """Tick members in the admin's member list, choose "Extend trial by N days", type N, press Go."""
    client = Client()
    with time_machine.travel(at or timezone.now(), tick=False):
        client.force_login(superuser)
        return client.post(
            "/admin/accounts/user/",
            {
                "action": "extend_trial",
                "_selected_action": [u.pk for u in users],
                "days": days,
                "index": 0,
            },
            follow=True,
        )


def test_extending_an_ended_trial_reopens_access(superuser, make_member, articles, signed_up_at):
    oscar = make_member("oscar@example.com", trial="over")
    extended_at = signed_up_at + timedelta(days=60)
    assert PREMIUM not in premium_page_for(oscar, extended_at)

    response = extend(superuser, [oscar], 5, at=extended_at)

    assert "Extended 1 trial(s) by 5 day(s)." in response.content.decode()
    oscar.refresh_from_db()
    assert oscar.membership.trial_ends_at == extended_at + timedelta(
        days=5
    )  # five days from the extension
    assert PREMIUM in premium_page_for(oscar, extended_at + timedelta(days=5, seconds=-1))
    assert PREMIUM not in premium_page_for(oscar, extended_at + timedelta(days=5))


def test_extending_a_running_trial_adds_to_its_end(superuser, make_member):
    tina = make_member("tina@example.com", trial="active")
    ends_at = tina.membership.trial_ends_at

    extend(superuser, [tina], 3)

    tina.refresh_from_db()
    assert tina.membership.trial_ends_at == ends_at + timedelta(days=3)


@pytest.mark.parametrize("days", ["", "0", "-2", "seven", "366"])
def test_extending_by_an_invalid_number_of_days_changes_nothing(superuser, make_member, days):
    oscar = make_member("oscar@example.com", trial="over")
    ends_at = oscar.membership.trial_ends_at

    response = extend(superuser, [oscar], days)

    assert response.status_code == 200
    assert "Enter a number of days from 1 to 365" in response.content.decode()
    oscar.refresh_from_db()
    assert oscar.membership.trial_ends_at == ends_at


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs PostgreSQL's concurrent transactions"
)
@pytest.mark.django_db(transaction=True)
def test_two_accounts_of_one_person_verifying_at_the_same_moment_get_one_trial():
    accounts = [
        User.objects.create_user(e, "pw") for e in ("someone@gmail.com", "Some.One+x@gmail.com")
    ]
    both_ready = threading.Barrier(2)
    started = []

    def verify(user):
        try:
            both_ready.wait()
            started.append(trial_start(user=user))
        finally:
            connection.close()

    threads = [threading.Thread(target=verify, args=(user,)) for user in accounts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(started) == [False, True]
    assert TrialClaim.objects.count() == 1
    assert User.objects.filter(membership__trial_started_at__isnull=False).count() == 1


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


def change_member_in_admin(superuser, member, **trial):
    client = Client()
    client.force_login(superuser)
    form = {
        "email": member.email,
        "name": "",
        "is_active": "on",
        "trial_started_at_0": "",
        "trial_started_at_1": "",
        "trial_ends_at_0": "",
        "trial_ends_at_1": "",
        "date_joined_0": f"{member.date_joined:%Y-%m-%d}",
        "date_joined_1": f"{member.date_joined:%H:%M:%S}",
    }
    for field, moment in trial.items():
        form[f"{field}_0"], form[f"{field}_1"] = f"{moment:%Y-%m-%d}", f"{moment:%H:%M:%S}"
    return client.post(f"/admin/accounts/user/{member.pk}/change/", form)


def test_the_admin_refuses_a_trial_end_without_a_start(superuser, make_member):
    member = make_member("nora@example.com")

    response = change_member_in_admin(
        superuser, member, trial_ends_at=timezone.now() + timedelta(days=3)
    )

    assert response.status_code == 200
    assert "A trial needs both its start and its end (or neither)." in response.content.decode()
    member.refresh_from_db()
    assert member.membership.trial_ends_at is None


def test_the_admin_saves_a_trial_set_by_hand(superuser, make_member, articles):
    member = make_member("nora@example.com")
    start = timezone.now().replace(microsecond=0)

    response = change_member_in_admin(
        superuser, member, trial_started_at=start, trial_ends_at=start + timedelta(days=3)
    )

    assert response.status_code == 302
    member.refresh_from_db()
    assert member.membership.trial_ends_at == start + timedelta(days=3)
    assert PREMIUM in premium_page_for(member, start + timedelta(days=2))


def test_a_trial_end_without_a_start_in_the_database_is_no_trial_and_no_error(
    make_member, articles
):
    member = make_member("nora@example.com")
    Membership.objects.filter(pk=member.pk).update(trial_ends_at=timezone.now() + timedelta(days=3))
    client = Client()
    client.force_login(member)

    response = client.get("/articles/premium-article/")

    assert response.status_code == 200
    assert PREMIUM not in response.content.decode()


def test_extending_a_member_who_never_had_a_trial_gives_one_and_records_the_claim(
    superuser, make_member, articles, signed_up_at
):
    nora = make_member("nora@example.com")
    at = signed_up_at

    response = extend(superuser, [nora], 10, at=at)

    assert "Extended 1 trial(s) by 10 day(s)." in response.content.decode()
    nora.refresh_from_db()
    assert (nora.membership.trial_started_at, nora.membership.trial_ends_at) == (
        at,
        at + timedelta(days=10),
    )
    assert TrialClaim.objects.filter(user=nora).exists()
    assert PREMIUM in premium_page_for(nora, at + timedelta(days=9))
