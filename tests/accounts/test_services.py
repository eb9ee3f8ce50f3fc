"""The members app's services: the free trial, once per person, and complimentary access,
each writing the member's Membership (accounts/services.py)."""

import threading
from datetime import UTC, timedelta

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from accounts import tasks
from accounts.entitlements import State, for_user
from accounts.models import Newsletter, SentMail, TrialClaim, User
from accounts.services import complimentary_grant, newsletter_signup, trial_start

# ---- the free trial ------------------------------------------------------------------


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


def test_in_card_mode_signing_up_starts_no_trial(settings, make_member):
    settings.TRIAL_MODE = "card"
    member = make_member("new@example.com")

    assert trial_start(user=member) is False
    assert not member.membership.has_had_trial() and not TrialClaim.objects.exists()


# ---- complimentary access -------------------------------------------------------------


def test_ended_complimentary_access_is_recorded_once(make_member):
    member = make_member("guest@example.com", trial="over")
    now = timezone.now()
    grant = complimentary_grant(
        user=member, until=now + timedelta(days=1), reason="Press", granted_by=None
    )

    assert tasks.complimentary_end_due_task() == 0
    with time_machine.travel(now + timedelta(days=1, minutes=1)):
        assert tasks.complimentary_end_due_task() == 1
        assert tasks.complimentary_end_due_task() == 0
    grant.refresh_from_db()
    assert grant.ended_at is not None


def test_a_later_grant_takes_over_when_the_job_records_the_earlier_ones_end(make_member):
    member = make_member("guest@example.com", trial="over")
    now = timezone.now()
    first = complimentary_grant(
        user=member, until=now + timedelta(days=1), reason="Panel", granted_by=None
    )
    complimentary_grant(
        user=member,
        starts_at=now + timedelta(days=3),
        until=now + timedelta(days=5),
        reason="Keynote",
        granted_by=None,
    )

    def state(at):
        return for_user(User.objects.select_related("membership").get(pk=member.pk), now=at).state

    assert state(timezone.now()) == State.COMPLIMENTARY
    assert state(first.until + timedelta(minutes=1)) == State.TRIAL_OVER  # the gap between them
    with time_machine.travel(now + timedelta(days=3, minutes=1)):
        tasks.complimentary_end_due_task()
        assert state(timezone.now()) == State.COMPLIMENTARY


def test_the_latest_ending_grant_in_force_sets_the_end_of_complimentary_access(make_member):
    member = make_member("guest@example.com", trial="over")
    now = timezone.now().replace(microsecond=0)
    grant = {"user": member, "granted_by": None, "starts_at": now - timedelta(days=1)}
    sooner = complimentary_grant(until=now + timedelta(days=3), reason="Panel", **grant)
    later = complimentary_grant(until=now + timedelta(days=30), reason="Press", **grant)
    complimentary_grant(
        user=member,
        granted_by=None,
        starts_at=now + timedelta(days=60),
        until=now + timedelta(days=90),
        reason="Later",
    )
    member = type(member).objects.select_related("membership").get(pk=member.pk)

    access = for_user(member, now=now)

    assert access.state == State.COMPLIMENTARY
    assert access.access_until == later.until  # an aware datetime on every database
    assert (
        access.access_until.tzinfo is not None
        and access.access_until.utcoffset() == UTC.utcoffset(None)
    )
    assert for_user(member, now=later.until).state == State.TRIAL_OVER
    assert for_user(member, now=sooner.until).access_until == later.until


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs PostgreSQL's concurrent transactions"
)
@pytest.mark.django_db(transaction=True)
def test_one_address_signed_up_for_the_newsletter_twice_at_once_makes_one_reader_and_one_mail():
    weekly = Newsletter.objects.create(name="The Weekly Guide", slug="weekly")
    both_ready = threading.Barrier(2)
    errors = []

    def sign_up():
        try:
            both_ready.wait()
            newsletter_signup(email="nell@example.com", newsletters=[weekly])
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=sign_up) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    assert User.objects.filter(email__iexact="nell@example.com").count() == 1
    assert SentMail.objects.filter(kind="newsletter_confirm").count() == 1
