"""The one place that decides what a reader may read.

`for_user(user)` resolves a reader's access once (the middleware does it lazily, per
request); `ReaderAccess.decide(article)` answers "full or teaser, and why not".
Views, templates, feeds, search and mail ask this module; nothing else looks at
trials or subscriptions to decide what to show.
"""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from allauth.account.models import EmailAddress
from django.utils import timezone


class State(StrEnum):
    """Where a reader stands, from the paywall's point of view."""

    ANONYMOUS = "anonymous"
    UNVERIFIED = "unverified"  # signed in, email not yet verified
    TRIAL = "trial"
    TRIAL_OVER = "trial_over"
    NO_SUBSCRIPTION = "no_subscription"  # verified, no trial left to give (one per person)
    STAFF = "staff"


# Why a reader gets the teaser, in the reader's words.
REASONS = {
    State.ANONYMOUS: "Sign in or start your free trial to read this article.",
    State.UNVERIFIED: "Verify your email address to start reading.",
    State.TRIAL_OVER: "Your free trial has ended. Subscribe to keep reading.",
    State.NO_SUBSCRIPTION: "Subscribe to read this article.",
}

PREMIUM_STATES = {State.TRIAL, State.STAFF}
MEMBER_STATES = PREMIUM_STATES | {State.TRIAL_OVER, State.NO_SUBSCRIPTION}


@dataclass(frozen=True)
class Decision:
    full: bool
    reason: State | None = None  # the reader's state when the answer is "teaser"

    @property
    def message(self) -> str:
        return REASONS.get(self.reason, "") if self.reason else ""


@dataclass(frozen=True)
class ReaderAccess:
    state: State
    trial_ends_at: datetime | None = None

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

    def decide(self, article) -> Decision:
        """Full text or teaser for this article. Needs only its visibility."""
        from articles.models import Visibility

        if article.visibility == Visibility.PUBLIC:
            return Decision(full=True)
        if article.visibility == Visibility.MEMBERS:
            allowed = self.is_member
        else:
            allowed = self.has_premium
        return Decision(full=True) if allowed else Decision(full=False, reason=self.state)


def for_user(user, now=None, *, verified: bool | None = None) -> ReaderAccess:
    """Resolve a reader's access from their records and the clock.

    Trial ends are compared with the clock here, so access ends on time even if the
    background job that records the end has not run. `verified` may be passed by a
    caller that has already annotated it (the admin's member list), to save a query.
    """
    now = now or timezone.now()
    if not user.is_authenticated:
        return ReaderAccess(State.ANONYMOUS)
    if user.is_staff:
        return ReaderAccess(State.STAFF)
    if verified is None:
        verified = EmailAddress.objects.filter(user=user, verified=True).exists()
    if not verified:
        return ReaderAccess(State.UNVERIFIED)
    if user.is_trialing(now):
        return ReaderAccess(State.TRIAL, trial_ends_at=user.trial_ends_at)
    if user.has_had_trial():
        return ReaderAccess(State.TRIAL_OVER, trial_ends_at=user.trial_ends_at)
    return ReaderAccess(State.NO_SUBSCRIPTION)
