"""The access policy on its own: a pure function of a Membership's values and the clock.

No database here: each case builds an unsaved Membership, so these run in microseconds and
say exactly which values make which state. The pages, feeds and mail that ask the policy are
tested through the HTML they serve (tests/test_access_matrix.py and the views' own tests).
"""

from datetime import UTC, datetime, timedelta

import pytest

from accounts.entitlements import ANONYMOUS, Decision, Meter, State, Visibility, resolve
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


# ---- the meter (METERED_FREE_ARTICLES) ----------------------------------------------------

OVER = {**VERIFIED, "trial_started_at": NOW - 9 * DAY, "trial_ends_at": NOW - 2 * DAY}


class Premium:
    """A premium article as the policy sees it: visibility, meter and id."""

    def __init__(self, pk, meter=Meter.COUNTED):
        self.pk, self.meter, self.visibility = pk, meter, Visibility.PREMIUM


def metered(reads=(), **values):
    return resolve(Membership(**(values or OVER)), NOW, meter_reads=frozenset(reads))


@pytest.mark.parametrize(
    "values",
    [
        OVER,
        VERIFIED,  # no trial left to give, or trials off
        {**VERIFIED, "subscription_status": "canceled"},  # a lapsed subscriber falls back to it
        {**VERIFIED, "subscription_status": "unpaid"},
        {**VERIFIED, "newsletter_only": True},  # a confirmed newsletter reader
    ],
)
def test_free_members_get_the_months_allowance(values, settings):
    settings.METERED_FREE_ARTICLES = 3

    access = metered(**values)

    assert (access.meter_allowance, access.meter_left, access.is_metered) == (3, 3, True)


@pytest.mark.parametrize(
    "values",
    [
        {},  # unverified
        {**VERIFIED, "trial_started_at": NOW - DAY, "trial_ends_at": NOW + DAY},
        {**VERIFIED, "subscription_status": "active"},
        {**VERIFIED, "subscription_status": "past_due", "payment_failed_at": NOW - DAY},
        {**VERIFIED, "complimentary_from": NOW - DAY, "complimentary_until": NOW + DAY},
    ],
)
def test_unverified_trial_paying_and_complimentary_readers_are_not_metered(values, settings):
    settings.METERED_FREE_ARTICLES = 3

    assert not resolve(Membership(**values), NOW).is_metered
    assert not resolve(Membership(), NOW, staff=True).is_metered


def test_with_the_meter_off_a_free_member_reads_no_premium_article(settings):
    settings.METERED_FREE_ARTICLES = 0

    access = metered()

    assert not access.is_metered
    assert access.decide(Premium(1), spend=True) == Decision(full=False, reason=State.TRIAL_OVER)


def test_a_first_read_is_full_only_where_it_is_spent(settings):
    settings.METERED_FREE_ARTICLES = 3
    access = metered(reads=[7, 8])

    assert access.decide(Premium(1), spend=True) == Decision(full=True, spends_read=True)
    # search snippets, feeds and mail never spend a read: a teaser, for the member's own reason
    assert access.decide(Premium(1)) == Decision(full=False, reason=State.TRIAL_OVER)


def test_a_re_read_this_month_is_full_and_spends_nothing(settings):
    settings.METERED_FREE_ARTICLES = 3
    access = metered(reads=[7, 8, 9])

    assert access.decide(Premium(8), spend=True) == Decision(full=True)
    assert access.decide(Premium(8)) == Decision(full=True)


def test_with_the_allowance_used_a_new_article_is_a_teaser_saying_so(settings):
    settings.METERED_FREE_ARTICLES = 3
    access = metered(reads=[7, 8, 9])

    decision = access.decide(Premium(1), spend=True)

    assert decision == Decision(full=False, reason=State.ALLOWANCE_USED)
    assert decision.message == (
        "You have read this month's free articles. Subscribe to keep reading."
    )
    assert access.meter_left == 0


def test_an_exempt_article_is_free_to_metered_members_and_a_hard_one_never_metered(settings):
    settings.METERED_FREE_ARTICLES = 3
    fresh, used_up = metered(), metered(reads=[7, 8, 9])

    assert fresh.decide(Premium(1, Meter.EXEMPT), spend=True) == Decision(full=True)
    assert used_up.decide(Premium(1, Meter.EXEMPT)) == Decision(full=True)
    assert fresh.decide(Premium(1, Meter.HARD), spend=True) == Decision(
        full=False, reason=State.TRIAL_OVER
    )
    # and no one unmetered gains anything from either
    assert not ANONYMOUS.decide(Premium(1, Meter.EXEMPT)).full


def test_the_allowance_renews_at_the_start_of_the_next_calendar_month(settings):
    settings.METERED_FREE_ARTICLES = 3

    access = resolve(Membership(**OVER), datetime(2026, 12, 31, 23, 59, tzinfo=UTC))

    assert access.meter_renews_at == datetime(2027, 1, 1, tzinfo=UTC)
