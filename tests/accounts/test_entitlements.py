"""The access policy on its own: a pure function of a Membership's values and the clock.

No database here: each case builds an unsaved Membership, so these run in microseconds and
say exactly which values make which state. The pages, feeds and mail that ask the policy are
tested through the HTML they serve (tests/test_access_matrix.py and the views' own tests).
"""

from datetime import UTC, datetime, timedelta

import pytest

from accounts.entitlements import ANONYMOUS, State, Visibility, resolve
from accounts.models import Membership

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)
VERIFIED = {"email_verified_at": NOW - 30 * DAY}


class Article:
    def __init__(self, visibility):
        self.visibility = visibility


def state(**values) -> State:
    return resolve(Membership(**values), NOW).state


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({}, State.UNVERIFIED),
        ({"trial_started_at": NOW - DAY, "trial_ends_at": NOW + DAY}, State.UNVERIFIED),
        (VERIFIED, State.NO_SUBSCRIPTION),
        ({**VERIFIED, "trial_started_at": NOW - DAY, "trial_ends_at": NOW + DAY}, State.TRIAL),
        ({**VERIFIED, "trial_started_at": NOW - 8 * DAY, "trial_ends_at": NOW}, State.TRIAL_OVER),
        (
            {**VERIFIED, "trial_started_at": NOW + DAY, "trial_ends_at": NOW + 8 * DAY},
            State.TRIAL_OVER,
        ),
        ({**VERIFIED, "trial_ends_at": NOW + DAY}, State.NO_SUBSCRIPTION),  # an end without a start
        ({**VERIFIED, "subscription_status": "active"}, State.SUBSCRIBER),
        ({**VERIFIED, "subscription_status": "trialing"}, State.SUBSCRIBER),
        (
            {**VERIFIED, "subscription_status": "active", "subscription_ends_at": NOW + DAY},
            State.SUBSCRIBER,
        ),
        (
            {**VERIFIED, "subscription_status": "active", "subscription_ends_at": NOW},
            State.CANCELLED,
        ),
        (
            {**VERIFIED, "subscription_status": "past_due", "payment_failed_at": NOW - DAY},
            State.GRACE,
        ),
        (
            {**VERIFIED, "subscription_status": "past_due", "payment_failed_at": NOW - 7 * DAY},
            State.PAYMENT_FAILED,
        ),
        ({**VERIFIED, "subscription_status": "unpaid"}, State.PAYMENT_FAILED),
        ({**VERIFIED, "subscription_status": "incomplete"}, State.PAYMENT_INCOMPLETE),
        ({**VERIFIED, "subscription_status": "paused"}, State.PAUSED),
        ({**VERIFIED, "subscription_status": "canceled"}, State.CANCELLED),
        ({**VERIFIED, "subscription_status": "incomplete_expired"}, State.CANCELLED),
        (
            {**VERIFIED, "complimentary_from": NOW - DAY, "complimentary_until": NOW + DAY},
            State.COMPLIMENTARY,
        ),
        (
            {**VERIFIED, "complimentary_from": NOW - DAY, "complimentary_until": NOW},
            State.NO_SUBSCRIPTION,
        ),
        (
            {**VERIFIED, "complimentary_from": NOW + DAY, "complimentary_until": NOW + 2 * DAY},
            State.NO_SUBSCRIPTION,
        ),
    ],
)
def test_each_set_of_values_makes_one_state(values, expected, settings):
    settings.PAYMENT_GRACE_DAYS = 7
    assert state(**values) == expected


def test_grants_outrank_subscriptions_which_outrank_a_trial_whose_state_outranks_a_lapse():
    trial = {"trial_started_at": NOW - DAY, "trial_ends_at": NOW + DAY}
    comp = {"complimentary_from": NOW - DAY, "complimentary_until": NOW + DAY}
    assert state(**VERIFIED, **trial, subscription_status="canceled", **comp) == State.COMPLIMENTARY
    assert state(**VERIFIED, **trial, subscription_status="active") == State.SUBSCRIBER
    assert state(**VERIFIED, **trial, subscription_status="canceled") == State.TRIAL
    over = {"trial_started_at": NOW - 9 * DAY, "trial_ends_at": NOW - 2 * DAY}
    assert state(**VERIFIED, **over, subscription_status="canceled") == State.CANCELLED


def test_staff_read_everything_whatever_their_records():
    assert resolve(Membership(), NOW, staff=True).state == State.STAFF


def test_access_ends_at_the_moment_its_timestamp_passes_without_any_job(settings):
    settings.PAYMENT_GRACE_DAYS = 3
    grace = Membership(**VERIFIED, subscription_status="past_due", payment_failed_at=NOW)
    assert resolve(grace, NOW + 3 * DAY - timedelta(microseconds=1)).state == State.GRACE
    assert resolve(grace, NOW + 3 * DAY).state == State.PAYMENT_FAILED
    assert resolve(grace, NOW).access_until == NOW + 3 * DAY


def test_zero_grace_days_means_a_failed_payment_ends_access_at_once(settings):
    settings.PAYMENT_GRACE_DAYS = 0
    assert (
        state(**VERIFIED, subscription_status="past_due", payment_failed_at=NOW)
        == State.PAYMENT_FAILED
    )


@pytest.mark.parametrize(
    ("reader", "public", "members", "premium"),
    [
        (State.ANONYMOUS, True, False, False),
        (State.UNVERIFIED, True, False, False),
        (State.TRIAL_OVER, True, True, False),
        (State.CANCELLED, True, True, False),
        (State.PAYMENT_FAILED, True, True, False),
        (State.TRIAL, True, True, True),
        (State.GRACE, True, True, True),
        (State.COMPLIMENTARY, True, True, True),
        (State.SUBSCRIBER, True, True, True),
        (State.STAFF, True, True, True),
    ],
)
def test_each_state_reads_the_visibilities_it_may(reader, public, members, premium):
    access = ANONYMOUS if reader == State.ANONYMOUS else type(ANONYMOUS)(reader)
    decisions = [
        access.decide(Article(v))
        for v in (Visibility.PUBLIC, Visibility.MEMBERS, Visibility.PREMIUM)
    ]
    assert [d.full for d in decisions] == [public, members, premium]
    assert all(d.reason == (None if d.full else reader) for d in decisions)


def test_days_left_counts_a_part_day_as_a_day():
    access = resolve(
        Membership(
            **VERIFIED, trial_started_at=NOW - DAY, trial_ends_at=NOW + 3 * DAY + timedelta(hours=2)
        ),
        NOW,
    )
    assert access.trial_days_left(NOW) == 4
    assert access.trial_days_left(NOW + 3 * DAY + timedelta(hours=1)) == 1
