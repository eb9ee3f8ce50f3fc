"""The one place that decides what a reader may read.

`resolve(membership, now, staff=...)` is the policy: a pure function of the member's
Membership row (the values that decide access) and the clock, with no query and no side
effect. `for_user(user)` applies it to a signed-in (or anonymous) reader; the middleware
does that lazily, once per request, and the authentication backends load the Membership
with the member, so it costs no query of its own. `ReaderAccess.decide(article)` answers
"full or teaser, and why not". Views, templates, feeds, search and mail ask this module;
nothing else looks at trials or subscriptions to decide what to show.

The meter (METERED_FREE_ARTICLES) is part of the policy: free members read that many premium
articles a calendar month. The ids of the ones they read this month come with the member
(accounts.backends), so deciding stays pure; recording a first read is the article page's
(accounts.services.meter_read_record), the only caller that asks decide(..., spend=True).
"""

from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from django.conf import settings
from django.db import models
from django.utils import timezone

from accounts.models import Membership, SubscriptionStatus, meter_month


class Visibility(models.TextChoices):
    """Who may read an article's body: the tiers this policy decides between."""

    PUBLIC = "public", "Public: everyone reads it all"
    MEMBERS = "members", "Members: any signed-in, verified member"
    PREMIUM = "premium", "Premium: trial, subscribers and staff"


class Meter(models.TextChoices):
    """How a premium article meets the meter (METERED_FREE_ARTICLES): ignored for the other tiers."""

    COUNTED = "counted", "Counts: free members may spend one of the month's free reads on it"
    EXEMPT = "exempt", "Exempt: free members read it in full without spending a read"
    HARD = "hard", "Hard paywall: never read on the meter"


class State(StrEnum):
    """Where a reader stands, from the paywall's point of view."""

    ANONYMOUS = "anonymous"
    UNVERIFIED = "unverified"  # signed in, email not yet verified
    NEWSLETTER_ONLY = (
        "newsletter_only"  # confirmed a newsletter sign-up: no password, no account yet
    )
    TRIAL = "trial"
    TRIAL_OVER = "trial_over"
    NO_SUBSCRIPTION = "no_subscription"  # verified, no trial left to give (one per person)
    STAFF = "staff"
    SUBSCRIBER = (
        "subscriber"  # trialing or active at Stripe (a cancelled one until its period ends)
    )
    GRACE = "payment_grace"  # a payment failed: full access for PAYMENT_GRACE_DAYS, with a banner
    COMPLIMENTARY = "complimentary"  # granted by staff until a date
    PAYMENT_FAILED = "payment_failed"  # grace over, or Stripe gave up (unpaid)
    PAYMENT_INCOMPLETE = "payment_incomplete"  # the first payment has not gone through
    CANCELLED = "cancelled"  # the subscription has ended
    PAUSED = "paused"
    # Not a reader's state but a reason for a teaser: a metered member used the month's reads.
    ALLOWANCE_USED = "allowance_used"


# Why a reader gets the teaser, in the reader's words.
REASONS = {
    State.ANONYMOUS: "Sign in or start your free trial to read this article.",
    State.UNVERIFIED: "Verify your email address to start reading.",
    State.NEWSLETTER_ONLY: "Set a password to finish your account and start your free trial.",
    State.TRIAL_OVER: "Your free trial has ended. Subscribe to keep reading.",
    State.NO_SUBSCRIPTION: "Subscribe to read this article.",
    State.PAYMENT_FAILED: "Your last payment didn't go through. Update your card to keep reading.",
    State.PAYMENT_INCOMPLETE: "Your payment hasn't gone through yet. Confirm it to start reading.",
    State.CANCELLED: "Your subscription has ended. Subscribe again to keep reading.",
    State.PAUSED: "Your subscription is paused. Resume it to keep reading.",
    State.ALLOWANCE_USED: "You have read this month's free articles. Subscribe to keep reading.",
}

# The same, where the site offers no free trial (TRIAL_DAYS = 0).
NO_TRIAL_REASONS = {
    **REASONS,
    State.ANONYMOUS: "Sign in or subscribe to read this article.",
    State.NEWSLETTER_ONLY: "Set a password to finish your account, then subscribe to read this article.",
}

PREMIUM_STATES = {State.TRIAL, State.STAFF, State.SUBSCRIBER, State.GRACE, State.COMPLIMENTARY}
LAPSED_STATES = {State.PAYMENT_FAILED, State.PAYMENT_INCOMPLETE, State.CANCELLED, State.PAUSED}
MEMBER_STATES = PREMIUM_STATES | LAPSED_STATES | {State.TRIAL_OVER, State.NO_SUBSCRIPTION}
# Free members, who read METERED_FREE_ARTICLES premium articles a month: verified, no trial or
# subscription in force (a lapsed one falls back to the meter); confirmed newsletter readers too.
METERED_STATES = LAPSED_STATES | {State.TRIAL_OVER, State.NO_SUBSCRIPTION, State.NEWSLETTER_ONLY}


@dataclass(frozen=True)
class Decision:
    full: bool
    reason: State | None = None  # the reader's state when the answer is "teaser"
    # Full only once a read of the month's allowance is recorded (accounts.services.
    # meter_read_record): only the article page, asked with spend=True, answers this.
    spends_read: bool = False

    @property
    def message(self) -> str:
        return _reasons().get(self.reason, "") if self.reason else ""


@dataclass(frozen=True)
class ReaderAccess:
    state: State
    trial_ends_at: datetime | None = None
    access_until: datetime | None = None  # when full access ends, if it is known to end
    subscription_status: str = ""  # of the member's current subscription, if they have one
    # The meter, for a metered member while METERED_FREE_ARTICLES is on: the month's allowance,
    # the ids of the articles read on it this month (loaded with the member), and the month.
    meter_allowance: int = 0
    meter_reads: frozenset[int] = frozenset()
    meter_month: date | None = None

    @property
    def message(self) -> str:
        """Why this reader gets teasers, in their words ("" when they read in full)."""
        return _reasons().get(self.state, "")

    @property
    def needs_card_update(self) -> bool:
        """A payment failed: the site asks the member to update their card."""
        return self.state in (State.GRACE, State.PAYMENT_FAILED)

    @property
    def has_premium(self) -> bool:
        return self.state in PREMIUM_STATES

    @property
    def is_member(self) -> bool:
        """Signed in with a verified email: enough for members-only articles."""
        return self.state in MEMBER_STATES

    @property
    def is_trialing(self) -> bool:
        return self.state == State.TRIAL

    def trial_days_left(self, now=None) -> int:
        if not self.is_trialing:
            return 0
        left = self.trial_ends_at - (now or timezone.now())
        return max(0, left.days + (1 if left.seconds or left.microseconds else 0))

    @property
    def is_metered(self) -> bool:
        return self.meter_allowance > 0

    @property
    def meter_left(self) -> int:
        """Free reads left this month (as loaded: a read recorded since is not counted)."""
        return max(0, self.meter_allowance - len(self.meter_reads))

    @property
    def meter_renews_at(self) -> datetime | None:
        """When the month's reads renew: midnight starting the next calendar month."""
        if self.meter_month is None:
            return None
        next_month = (self.meter_month + timedelta(days=32)).replace(day=1)
        return timezone.make_aware(datetime.combine(next_month, time.min))

    def decide(self, article, *, spend: bool = False) -> Decision:
        """Full text or teaser for this article, from its visibility, meter and id.

        A metered member reads a counted premium article in full if they read it already this
        month; a first read is full only where it can be spent (spend=True: the article page,
        which records it and then shows it). Everywhere else (search snippets, feeds, mail)
        it is a teaser, so no read is ever spent, or granted, but by opening the article.
        """
        if article.visibility == Visibility.PUBLIC:
            return Decision(full=True)
        allowed = self.is_member if article.visibility == Visibility.MEMBERS else self.has_premium
        if allowed:
            return Decision(full=True)
        if article.visibility == Visibility.PREMIUM and self.is_metered:
            meter = getattr(article, "meter", Meter.COUNTED)
            if meter == Meter.EXEMPT or (meter == Meter.COUNTED and article.pk in self.meter_reads):
                return Decision(full=True)
            if meter == Meter.COUNTED and not self.meter_left:
                return Decision(full=False, reason=State.ALLOWANCE_USED)
            if meter == Meter.COUNTED and spend:
                return Decision(full=True, spends_read=True)
        return Decision(full=False, reason=self.state)


ANONYMOUS = ReaderAccess(State.ANONYMOUS)


def for_user(user, now: datetime | None = None) -> ReaderAccess:
    """The reader's access now (or at `now`): anonymous, or what their Membership says."""
    if not user.is_authenticated:
        return ANONYMOUS
    # Loaded with the member (accounts.backends, the admin's list); a member created without
    # one (a bulk insert) reads as one with no records: unverified.
    membership = getattr(user, "membership", None) or Membership()
    now = now or timezone.now()
    # This month's meter reads, loaded with the member too (accounts.backends); a member
    # loaded without them (mail, the admin) has spent none that counts here, which can
    # only turn a re-read into a teaser, never a teaser into a read.
    reads = getattr(user, "meter_reads_loaded", None)
    if reads is None or reads[0] != meter_month(now):
        reads = (None, ())
    return resolve(membership, now, staff=user.is_staff, meter_reads=frozenset(reads[1]))


def resolve(
    membership: Membership,
    now: datetime,
    *,
    staff: bool = False,
    meter_reads: frozenset[int] = frozenset(),
) -> ReaderAccess:
    """The policy: a signed-in reader's access from their Membership's values and the clock.

    Trial ends, period ends, grace ends and complimentary ends are compared with `now`, so
    access changes on time even if the background job that records the change has not run.
    `meter_reads` are the ids of the articles the member read on the meter in `now`'s month.
    Reads no database and no clock of its own.
    """
    access = _resolve(membership, now, staff=staff)
    if access.state in METERED_STATES and settings.METERED_FREE_ARTICLES:
        return replace(
            access,
            meter_allowance=settings.METERED_FREE_ARTICLES,
            meter_reads=meter_reads,
            meter_month=meter_month(now),
        )
    return access


def _resolve(m: Membership, now: datetime, *, staff: bool) -> ReaderAccess:
    if staff:
        return ReaderAccess(State.STAFF)
    if m.email_verified_at is None:
        return ReaderAccess(State.UNVERIFIED)
    status = m.subscription_status
    if _within(now, m.complimentary_from, m.complimentary_until):
        return ReaderAccess(
            State.COMPLIMENTARY, access_until=m.complimentary_until, subscription_status=status
        )
    state, until = _subscription_state(m, now) if status else (None, None)
    if state in PREMIUM_STATES:
        return ReaderAccess(state, access_until=until, subscription_status=status)
    if _within(now, m.trial_started_at, m.trial_ends_at):
        return ReaderAccess(State.TRIAL, trial_ends_at=m.trial_ends_at, subscription_status=status)
    if state:
        return ReaderAccess(state, trial_ends_at=m.trial_ends_at, subscription_status=status)
    if m.newsletter_only:
        return ReaderAccess(
            State.NEWSLETTER_ONLY
        )  # a reader of the free newsletter, not yet a member
    if m.has_had_trial():
        return ReaderAccess(State.TRIAL_OVER, trial_ends_at=m.trial_ends_at)
    return ReaderAccess(State.NO_SUBSCRIPTION)


def _within(now: datetime, start: datetime | None, end: datetime | None) -> bool:
    return start is not None and end is not None and start <= now < end


def grace_ends_at(payment_failed_at: datetime | None) -> datetime | None:
    """When full access ends after a failed payment: PAYMENT_GRACE_DAYS after the failure."""
    if payment_failed_at is None:
        return None
    return payment_failed_at + timedelta(days=settings.PAYMENT_GRACE_DAYS)


def _subscription_state(m: Membership, now: datetime) -> tuple[State, datetime | None]:
    """The policy for Stripe's statuses: (state, when full access ends if it is known to end)."""
    status = m.subscription_status
    if status in (SubscriptionStatus.TRIALING, SubscriptionStatus.ACTIVE):
        if m.subscription_ends_at is None or now < m.subscription_ends_at:
            return State.SUBSCRIBER, m.subscription_ends_at  # a cancelled one reads on until then
        return State.CANCELLED, None
    if status == SubscriptionStatus.PAST_DUE:
        grace_end = grace_ends_at(m.payment_failed_at)
        if grace_end is None or now < grace_end:
            return State.GRACE, grace_end
        return State.PAYMENT_FAILED, None
    if status == SubscriptionStatus.UNPAID:
        return State.PAYMENT_FAILED, None
    if status == SubscriptionStatus.INCOMPLETE:
        return State.PAYMENT_INCOMPLETE, None
    if status == SubscriptionStatus.PAUSED:
        return State.PAUSED, None
    return State.CANCELLED, None  # canceled, incomplete_expired


def _reasons() -> dict:
    return REASONS if settings.TRIAL_DAYS else NO_TRIAL_REASONS
