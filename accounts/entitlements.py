"""The one place that decides what a reader may read.

`for_user(user)` resolves a reader's access once (the middleware does it lazily, per
request); `ReaderAccess.decide(article)` answers "full or teaser, and why not".
Views, templates, feeds, search and mail ask this module; nothing else looks at
trials or subscriptions to decide what to show.
"""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from functools import cache, cached_property

from allauth.account.models import EmailAddress
from django.conf import settings
from django.db import connection
from django.utils import timezone


class State(StrEnum):
    """Where a reader stands, from the paywall's point of view."""

    ANONYMOUS = "anonymous"
    UNVERIFIED = "unverified"  # signed in, email not yet verified
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


# Why a reader gets the teaser, in the reader's words.
REASONS = {
    State.ANONYMOUS: "Sign in or start your free trial to read this article.",
    State.UNVERIFIED: "Verify your email address to start reading.",
    State.TRIAL_OVER: "Your free trial has ended. Subscribe to keep reading.",
    State.NO_SUBSCRIPTION: "Subscribe to read this article.",
    State.PAYMENT_FAILED: "Your last payment didn't go through. Update your card to keep reading.",
    State.PAYMENT_INCOMPLETE: "Your payment hasn't gone through yet. Subscribe again to keep reading.",
    State.CANCELLED: "Your subscription has ended. Subscribe again to keep reading.",
    State.PAUSED: "Your subscription is paused. Resume it to keep reading.",
}

# The same, where the site offers no free trial (TRIAL_DAYS = 0).
NO_TRIAL_REASONS = {**REASONS, State.ANONYMOUS: "Sign in or subscribe to read this article."}

# What the policy reads from the member's current subscription (billing.Subscription).
SUBSCRIPTION_FIELDS = (
    "id",
    "status",
    "current_period_end",
    "cancel_at_period_end",
    "first_failed_payment_at",
)

PREMIUM_STATES = {State.TRIAL, State.STAFF, State.SUBSCRIBER, State.GRACE, State.COMPLIMENTARY}
LAPSED_STATES = {State.PAYMENT_FAILED, State.PAYMENT_INCOMPLETE, State.CANCELLED, State.PAUSED}
MEMBER_STATES = PREMIUM_STATES | LAPSED_STATES | {State.TRIAL_OVER, State.NO_SUBSCRIPTION}


@dataclass(frozen=True)
class Decision:
    full: bool
    reason: State | None = None  # the reader's state when the answer is "teaser"

    @property
    def message(self) -> str:
        return _reasons().get(self.reason, "") if self.reason else ""


@dataclass(frozen=True)
class ReaderAccess:
    state: State
    trial_ends_at: datetime | None = None
    subscription_id: int | None = None  # the member's current billing.Subscription
    access_until: datetime | None = None  # when full access ends, if it is known to end

    @cached_property
    def subscription(self):
        """The current subscription with its plan, for display; loaded only if a page asks."""
        from billing.models import Subscription

        if self.subscription_id is None:
            return None
        return Subscription.objects.select_related("plan").filter(pk=self.subscription_id).first()

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

    Trial ends, period ends, grace ends and complimentary ends are compared with the
    clock here, so access changes on time even if the background job that records
    the change has not run. One query: the member's verification, complimentary access
    and current subscription come back as one row, or none if the member was loaded
    with that row by `load_member` (the session's sign-in does). `verified` may be passed
    by a caller that has already annotated it (the admin's member list).
    """
    from billing.models import Subscription

    loaded = getattr(user, "_access_row", None) if now is None else None
    if loaded:
        del user._access_row  # good for one answer only: a later one reads afresh
        now, row = loaded
    now = now or timezone.now()
    if not user.is_authenticated:
        return ReaderAccess(State.ANONYMOUS)
    if user.is_staff:
        return ReaderAccess(State.STAFF)
    if not loaded:
        row = _access_row(user.pk, now)
    if not (row["is_verified"] if verified is None else verified):
        return ReaderAccess(State.UNVERIFIED)
    subscription_id = row["id"]
    if row["complimentary_until"]:
        return ReaderAccess(
            State.COMPLIMENTARY,
            subscription_id=subscription_id,
            access_until=row["complimentary_until"],
        )
    state, until = None, None
    if subscription_id:
        # Just the fields the policy reads; the full row loads only if a page shows it.
        subscription = Subscription(**{field: row[field] for field in SUBSCRIPTION_FIELDS})
        state, until = _subscription_state(subscription, now)
    if state in PREMIUM_STATES:
        return ReaderAccess(state, subscription_id=subscription_id, access_until=until)
    if user.is_trialing(now):
        return ReaderAccess(
            State.TRIAL, trial_ends_at=user.trial_ends_at, subscription_id=subscription_id
        )
    if state:
        return ReaderAccess(
            state, trial_ends_at=user.trial_ends_at, subscription_id=subscription_id
        )
    if user.has_had_trial():
        return ReaderAccess(State.TRIAL_OVER, trial_ends_at=user.trial_ends_at)
    return ReaderAccess(State.NO_SUBSCRIPTION)


def load_member(user_id):
    """The member with this id, and the records that decide their access, in one query (or None).

    The authentication backends (accounts/backends.py) load the session's member with this, so
    a signed-in request costs one query for both; the first `for_user` of that member uses the
    row, as of the moment it was read.
    """
    from accounts.models import User

    now = timezone.now()
    sql, params, columns = _access_query(with_member=True)
    member = next(iter(User.objects.raw(sql, {"user": user_id, "now": now, **params})), None)
    if member is not None:
        row = {
            name: _from_db(field, member.__dict__.pop(f"access_{name}")) for name, field in columns
        }
        member._access_row = (now, row)
    return member


def load_access(members, now=None) -> None:
    """Read the access records of many members in one query (a list page), for their next `for_user`."""
    now = now or timezone.now()
    ids = {f"member_{number}": member.pk for number, member in enumerate(members)}
    if not ids:
        return
    where = "member.id IN ({})".format(", ".join(f"%({name})s" for name in ids))
    sql, params, columns = _access_sql(select="member.id,", where=where)
    with connection.cursor() as cursor:
        cursor.execute(sql, {"now": now, **params, **ids})
        rows = {values[0]: _access_values(columns, values[1:]) for values in cursor.fetchall()}
    for member in members:
        if member.pk in rows:  # not so for one deleted since the page was read
            member._access_row = (now, rows[member.pk])


def _access_row(user_id: int, now: datetime) -> dict:
    sql, params, columns = _access_query(with_member=False)
    with connection.cursor() as cursor:
        cursor.execute(sql, {"user": user_id, "now": now, **params})
        values = cursor.fetchone()
    if values is None:
        from accounts.models import User

        raise User.DoesNotExist(f"No member with id {user_id}.")
    return _access_values(columns, values)


def _access_values(columns, values) -> dict:
    return {name: _from_db(field, value) for (name, field), value in zip(columns, values)}


@cache
def _access_query(*, with_member: bool) -> tuple[str, dict, list]:
    return _access_sql(select="member.*," if with_member else "", where="member.id = %(user)s")


def _access_sql(*, select: str, where: str) -> tuple[str, dict, list]:
    """The member's verification, complimentary access and current subscription, as one row.

    Written in SQL because it runs on every signed-in request: the same query built with the
    ORM (seven correlated subqueries) cost ten times its database time to compile, on every
    request. Portable between PostgreSQL and SQLite. The current subscription is the one
    `SubscriptionQuerySet.current_first()` puts first; tests/billing/test_current_subscription.py
    holds the two to the same answer. Returns the SQL, its fixed parameters, and the model
    field behind each access column (named access_<name> in the SQL).
    """
    from accounts.models import User
    from billing.models import LIVE_STATUSES, ComplimentaryAccess, Subscription

    q = connection.ops.quote_name
    email, comp, sub = EmailAddress._meta, ComplimentaryAccess._meta, Subscription._meta
    live_statuses = {f"live_{status}": str(status) for status in sorted(LIVE_STATUSES)}
    live = ", ".join(f"%({name})s" for name in live_statuses)
    columns = [
        ("is_verified", email.get_field("verified")),
        ("complimentary_until", comp.get_field("until")),
    ]
    columns += [(name, sub.get_field(name)) for name in SUBSCRIPTION_FIELDS]
    subscription_columns = ", ".join(
        f"s.{q(field.column)} AS access_{name}" for name, field in columns[2:]
    )
    sql = f"""
        SELECT {select}
            EXISTS (SELECT 1 FROM {q(email.db_table)} WHERE user_id = member.id AND verified) AS access_is_verified,
            (SELECT MAX(until) FROM {q(comp.db_table)}
              WHERE user_id = member.id AND starts_at <= %(now)s AND until > %(now)s) AS access_complimentary_until,
            {subscription_columns}
        FROM {q(User._meta.db_table)} AS member
        LEFT JOIN {q(sub.db_table)} AS s ON s.id = (
            SELECT id FROM {q(sub.db_table)} WHERE user_id = member.id
            ORDER BY CASE WHEN status IN ({live}) THEN 0 ELSE 1 END, started_at DESC, id DESC
            LIMIT 1
        )
        WHERE {where}
    """
    return sql, live_statuses, columns


def _from_db(field, value):
    """A column's value as the ORM would have returned it for this field (SQLite: bools, aware datetimes)."""
    expression = field.cached_col
    for converter in connection.ops.get_db_converters(expression) + field.get_db_converters(
        connection
    ):
        value = converter(value, expression, connection)
    return value


def _reasons() -> dict:
    return REASONS if settings.TRIAL_DAYS else NO_TRIAL_REASONS


def _subscription_state(subscription, now) -> tuple[State, datetime | None]:
    """The policy for Stripe's statuses: (state, when full access ends if it is known to end)."""
    from billing.models import SubscriptionStatus as Status

    status = subscription.status
    if status in (Status.TRIALING, Status.ACTIVE):
        if not subscription.cancel_at_period_end:
            return State.SUBSCRIBER, None
        end = subscription.current_period_end
        if end is None or now < end:
            return State.SUBSCRIBER, end  # cancelled: reads on until the period it paid for ends
        return State.CANCELLED, None
    if status == Status.PAST_DUE:
        grace_ends_at = subscription.grace_ends_at
        if grace_ends_at is None or now < grace_ends_at:
            return State.GRACE, grace_ends_at
        return State.PAYMENT_FAILED, None
    if status == Status.UNPAID:
        return State.PAYMENT_FAILED, None
    if status == Status.INCOMPLETE:
        return State.PAYMENT_INCOMPLETE, None
    if status == Status.PAUSED:
        return State.PAUSED, None
    return State.CANCELLED, None  # canceled, incomplete_expired
