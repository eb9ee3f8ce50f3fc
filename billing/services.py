"""Writes to billing records. Each function is safe to call twice.

Stripe is the source of truth for subscriptions: we never compute a subscription's
state, we copy Stripe's current one (`subscription_refresh`), so whatever order events
arrive in, the copy kept is Stripe's latest state. Each copy reports the member's current
subscription to their Membership (`membership_sync`), in the same transaction: that row is
what access reads.

No Stripe call is made while a transaction is open (tests/billing/conftest.py fails any
test that does): a request to Stripe can take seconds, or a minute with retries, and a row
lock or an open transaction held that long stalls every other writer of that member and
pins a database connection. So each function fetches first, with nothing held, and then
writes in a short transaction of its own, only if what it fetched is newer than what is
stored (`SyncTicket`). Double clicks are absorbed by Stripe's idempotency keys instead of a
lock; webhook events are claimed with a lease instead of a row lock.
"""

import hashlib
import json
import logging
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from accounts import mail
from accounts.emails import email_fingerprint
from accounts.models import TrialClaim, User
from accounts.services import membership_for, membership_lock, membership_subscription_set
from billing import stripe_api
from billing.models import (
    MALFORMED_EVENT_TYPE,
    CheckoutSession,
    Customer,
    Plan,
    Subscription,
    SubscriptionStatus,
    SyncTicket,
    WebhookEvent,
    format_amount,
)

log = logging.getLogger(__name__)

# Reuse an open Checkout Session only if the reader has this long left to pay in it.
CHECKOUT_REUSE_MARGIN = timedelta(minutes=30)
# Clicks on Subscribe this close together share a Stripe idempotency key (per plan), so Stripe
# answers the later ones with the session the first made: long enough for any double click or
# retried request, short enough that a member who comes back later gets a fresh session.
CHECKOUT_CLICK_WINDOW = timedelta(minutes=5)
# How long a webhook event stays claimed by the process handling it. Longer than any handler
# takes (a few Stripe calls, each with the SDK's timeout and retries); a process that died
# leaves the event to Stripe's next retry or the reconcile job once it runs out.
WEBHOOK_EVENT_LEASE = timedelta(minutes=10)
PAID_STATUSES = {SubscriptionStatus.TRIALING, SubscriptionStatus.ACTIVE}
# Stripe makes no next invoice for these: a first payment still waits, or the subscription is over.
NO_UPCOMING_INVOICE_STATUSES = {
    SubscriptionStatus.INCOMPLETE,
    SubscriptionStatus.INCOMPLETE_EXPIRED,
    SubscriptionStatus.CANCELED,
}
# How recent an ending, first seen, must be for the member to be told of it (the events the
# reconcile job looks back over).
FINAL_MAIL_NEWS = timedelta(days=3)
FAILED_PAYMENT_STATUSES = {SubscriptionStatus.PAST_DUE, SubscriptionStatus.UNPAID}


class AlreadySubscribed(Exception):
    """The member has a live subscription: manage it, never start a second."""


class PlanNotInStripe(Exception):
    """The plan has no Stripe Price yet (run `manage.py stripe_setup`)."""


class EventInProgress(Exception):
    """Another process holds this webhook event's claim: it is being applied right now."""


def _from_unix(value: int | None) -> datetime | None:
    return datetime.fromtimestamp(value, tz=UTC) if value else None


# ---- customers and checkout ---------------------------------------------------


def customer_get_or_create(*, user: User, replacing: str | None = None) -> Customer:
    """The member's one Stripe Customer, created in Stripe on first use.

    Calls Stripe, so call it outside any transaction. The idempotency key is derived from
    the member: two requests at once get one Customer from Stripe and store it once, and if
    Stripe created it but our write was lost (an outage, a crash), the retry gets the same
    Customer back, not a second. `replacing` names a stored Customer that Stripe no longer knows.
    """
    existing = Customer.objects.filter(user=user).first()
    if existing and existing.stripe_customer_id != replacing:
        return existing
    key = f"customer-{user.pk}" + (f"-replacing-{replacing}" if replacing else "")
    created = stripe_api.customer_create(email=user.email, user_id=user.pk, idempotency_key=key)
    if existing:
        Customer.objects.filter(pk=existing.pk, stripe_customer_id=replacing).update(
            stripe_customer_id=created["id"]
        )
        return Customer.objects.get(pk=existing.pk)
    try:
        with transaction.atomic():
            return Customer.objects.create(user=user, stripe_customer_id=created["id"])
    except IntegrityError:
        return Customer.objects.get(user=user)  # the other request stored the same one


def checkout_start(*, user: User, plan: Plan, success_url: str, cancel_url: str) -> str:
    """The URL of a Checkout Session for `plan`; raises AlreadySubscribed, PlanNotInStripe, StripeError.

    Nothing is locked while Stripe is called. A double click gets the same session: a
    second click finds the first's session stored, or, if both are at Stripe at once, both
    send the same idempotency key (`_checkout_session_create`) and Stripe makes one session.
    Any other open session of the member is expired, so two tabs can never pay for two
    subscriptions. On a Stripe error nothing is stored but what Stripe really made (the
    member's Customer, which the retry reuses).
    """
    if not plan.stripe_price_id:
        raise PlanNotInStripe(plan.lookup_key)
    for _ in range(2):
        url = _checkout_start_once(
            user=user, plan=plan, success_url=success_url, cancel_url=cancel_url
        )
        if url:
            return url
    raise stripe_api.StripeError("Every session made was closed by another click meanwhile.")


def _checkout_start_once(
    *, user: User, plan: Plan, success_url: str, cancel_url: str
) -> str | None:
    """The URL, or None when a click on another plan at the same moment closed ours."""
    now = timezone.now()
    if Subscription.objects.filter(user=user).live().exists():
        raise AlreadySubscribed()
    open_sessions = CheckoutSession.objects.filter(user=user, expires_at__gt=now)
    reusable = (
        open_sessions.filter(plan=plan, expires_at__gt=now + CHECKOUT_REUSE_MARGIN)
        .order_by("-created_at")
        .first()
    )
    if reusable:
        return reusable.url
    # Paid meanwhile (its webhook not yet here): its subscription is now copied.
    # Every open one is closed, not only those up to the first that was paid.
    closed = [_checkout_session_close(other) for other in open_sessions]
    if not all(closed):
        raise AlreadySubscribed()
    url = _checkout_session_create(
        user=user, plan=plan, success_url=success_url, cancel_url=cancel_url
    )
    # Clicks on two plans at the same moment (two tabs) each made a session: whichever
    # request looks last, only the newest stays open. (Ours by its URL, not its expiry: that
    # is Stripe's clock, and ours may differ.)
    sessions = list(
        CheckoutSession.objects.filter(user=user)
        .filter(Q(expires_at__gt=now) | Q(url=url))
        .order_by("-pk")
    )
    if not sessions:
        return None
    newest, older = sessions[0], sessions[1:]
    closed = [_checkout_session_close(other) for other in older]  # each, even after a paid one
    if not all(closed):
        _checkout_session_close(newest)
        raise AlreadySubscribed()
    return newest.url


def _checkout_session_create(*, user: User, plan: Plan, success_url: str, cancel_url: str) -> str:
    customer = customer_get_or_create(user=user)
    create = {
        "price_id": plan.stripe_price_id,
        "user_id": user.pk,
        "success_url": success_url,
        "cancel_url": cancel_url,
        "trial_days": _checkout_trial_days(user=user, plan=plan),
        "trial_end": _unix(checkout_trial_end(user=user)),
    }
    for _ in range(3):
        try:
            session = _checkout_session_create_once(customer=customer, plan=plan, create=create)
        except stripe_api.InvalidRequestError as error:
            if (
                getattr(error, "code", None) != "resource_missing"
                or getattr(error, "param", None) != "customer"
            ):
                raise
            # Stripe no longer knows the stored Customer (deleted there): make a new one.
            customer = customer_get_or_create(user=user, replacing=customer.stripe_customer_id)
            continue
        if session["status"] == "open":
            break
        if session["status"] == "complete":  # a replay of a session paid meanwhile
            _checkout_session_copy_subscription(session)
            raise AlreadySubscribed()
        # A replay of a session expired meanwhile (the member chose another plan and came
        # back): a new window, so a new key and a new session.
        _checkout_window_close(customer=customer)
    else:
        raise stripe_api.StripeError("Checkout kept answering with closed sessions.")
    CheckoutSession.objects.get_or_create(
        stripe_session_id=session["id"],
        defaults={
            "user": user,
            "plan": plan,
            "url": session["url"],
            "expires_at": _from_unix(session["expires_at"]),
        },
    )
    return session["url"]


def _checkout_session_create_once(*, customer: Customer, plan: Plan, create: dict) -> dict:
    """Ask Stripe for a session with the key of the member's current click window.

    The key names the member, the plan, the window and a digest of every parameter sent:
    the clicks of one window get one session, and a click with other parameters (another
    `next` article, a trial end) never meets Stripe's "keys can only be used with the same
    parameters" error. Two clicks whose requests are at Stripe at the same moment: Stripe
    answers the second 409 while the first is in flight, and the SDK retries it
    (STRIPE_NETWORK_RETRIES), getting the first's session.
    """
    window = _checkout_window(customer=customer)
    params = {"customer_id": customer.stripe_customer_id, **create}
    digest = hashlib.sha256(json.dumps(params, sort_keys=True, default=str).encode()).hexdigest()
    key = f"checkout-{customer.user_id}-{plan.pk}-{window.timestamp():.6f}-{digest[:16]}"
    return stripe_api.checkout_session_create(**params, idempotency_key=key)


def _checkout_window(*, customer: Customer) -> datetime:
    """When the member's current click window opened; a new one opens if the last is over.

    One conditional UPDATE (no lock held past it): requests at once all read the window the
    first of them opened.
    """
    now = timezone.now()
    Customer.objects.filter(pk=customer.pk).filter(
        Q(checkout_window_at__isnull=True) | Q(checkout_window_at__lte=now - CHECKOUT_CLICK_WINDOW)
    ).update(checkout_window_at=now)
    window = Customer.objects.values_list("checkout_window_at", flat=True).get(pk=customer.pk)
    customer.checkout_window_at = window
    return window


def _checkout_window_close(*, customer: Customer) -> None:
    """Open a new window now, unless another request already replaced the one we used."""
    used = customer.checkout_window_at
    later = max(timezone.now(), used + timedelta(microseconds=1))
    Customer.objects.filter(pk=customer.pk, checkout_window_at=used).update(
        checkout_window_at=later
    )


def _checkout_session_close(session: CheckoutSession) -> bool:
    """Expire a member's other open session, so two tabs can never pay for two subscriptions.

    Returns False if it was paid meanwhile (its webhook not yet here), after copying its subscription.
    """
    try:
        stripe_api.checkout_session_expire(session_id=session.stripe_session_id)
    except stripe_api.InvalidRequestError:
        current = stripe_api.checkout_session_retrieve(session_id=session.stripe_session_id)
        if current.get("status") == "complete":
            _checkout_session_copy_subscription(current)
            return False
    session.delete()
    return True


def _checkout_session_copy_subscription(session: dict) -> None:
    """Copy a paid session's subscription now, so the account page the member is sent to shows it."""
    subscription_id = _id_of(session.get("subscription"))
    if subscription_id:
        subscription_refresh(stripe_subscription_id=subscription_id)


def _checkout_trial_days(*, user: User, plan: Plan) -> int | None:
    """In card mode, the plan's trial, once per person (the foundation's TrialClaim)."""
    if settings.TRIAL_MODE != "card" or not plan.trial_days:
        return None
    if (
        membership_for(user_id=user.pk).has_had_trial()
        or TrialClaim.objects.filter(email_digest=email_fingerprint(user.email)).exists()
    ):
        return None
    return plan.trial_days


# Stripe requires a Checkout trial to end at least 48 hours after the session is made; the margin
# covers the clocks of two machines and the moments between our reading and Stripe's check.
CHECKOUT_TRIAL_END_MIN = timedelta(hours=48, minutes=10)


def checkout_trial_end(*, user: User, now: datetime | None = None) -> datetime | None:
    """When the first payment is taken if the member subscribes now during their free trial: the
    trial's end, so subscribing keeps the free days (None: charged at once).

    Only while at least 48 hours of it are left: Stripe accepts no nearer end. With less, the
    member pays on subscribing (and pricing says so); the alternative, a trial stretched to 48
    hours, would promise a first charge on a date that is not their trial's end.
    """
    if settings.TRIAL_MODE != "no_card":
        return None
    now = now or timezone.now()
    membership = membership_for(user_id=user.pk)
    ends = membership.trial_ends_at
    if (
        membership.trial_started_at is None
        or ends is None
        or not membership.trial_started_at <= now < ends
    ):
        return None
    return ends if ends - now >= CHECKOUT_TRIAL_END_MIN else None


def _unix(moment: datetime | None) -> int | None:
    return int(moment.timestamp()) if moment else None


def checkout_confirm(*, user: User, session_id: str) -> dict | None:
    """Retrieve a Checkout Session and copy its subscription, so access is there before the webhook.

    Returns the session, or None if it is not this member's (the caller answers 404).
    """
    session = stripe_api.checkout_session_retrieve(session_id=session_id)
    customer = Customer.objects.filter(user=user).first()
    if (
        session.get("client_reference_id") != str(user.pk)
        or customer is None
        or session.get("customer") != customer.stripe_customer_id
    ):
        return None
    _checkout_session_copy_subscription(session)
    return session


def checkout_subscription(*, user: User, session: dict) -> Subscription | None:
    """Our copy of the subscription a member's Checkout Session made (None before it made one)."""
    subscription_id = _id_of(session.get("subscription"))
    if not subscription_id:
        return None
    return (
        Subscription.objects.filter(user=user, stripe_subscription_id=subscription_id)
        .select_related("plan")
        .first()
    )


def portal_start(*, user: User, return_url: str) -> str | None:
    """The URL of a Customer Portal session, or None for a member with no Stripe Customer.

    The session uses the configuration `manage.py stripe_setup` made for this site, named
    explicitly; without one, the account's default (if its portal settings were saved in the
    Dashboard), and a warning in the log. Finding it costs a call per portal opening: rare
    enough not to cache, and never stale.
    """
    customer = Customer.objects.filter(user=user).first()
    if customer is None:
        return None
    configuration = stripe_api.portal_configuration_find(site_url=settings.SITE_URL)
    if configuration is None or not configuration["active"]:
        log.warning(
            "No active Customer Portal configuration from stripe_setup for %s: the portal opens "
            "with the Stripe account's default. Run manage.py stripe_setup.",
            settings.SITE_URL,
        )
    return stripe_api.portal_session_create(
        customer_id=customer.stripe_customer_id,
        return_url=return_url,
        configuration_id=configuration["id"] if configuration and configuration["active"] else None,
    )["url"]


# ---- subscriptions --------------------------------------------------------------


class NothingToResume(Exception):
    """The member has no cancellation pending: resumed already (`continuing`), or nothing live."""

    def __init__(self, *, continuing: bool):
        super().__init__()
        self.continuing = continuing


def subscription_resume(*, user: User) -> Subscription:
    """Stop the member's pending cancellation at Stripe and copy the result; raises NothingToResume,
    StripeError (then nothing has changed here).

    No lock is held over the network: Stripe's answer is copied afterwards as any fetched state
    is. A double click sends the same idempotency key (the cancellation it undoes, by when it
    was made), so Stripe answers the second with the first's result (while the first is still
    in flight Stripe answers 409, which the SDK retries until it can replay). Stripe keeps two ways to
    schedule an end (the period-end flag and a date); each is undone with its own parameter,
    the one our copy shows first, then the other if Stripe's answer still ends it.
    """
    subscription = Subscription.objects.filter(user=user).live().current_first().first()
    if subscription is None or subscription.ends_at is None:
        raise NothingToResume(continuing=subscription is not None)
    cancelled = int(subscription.canceled_at.timestamp()) if subscription.canceled_at else 0
    key = f"resume-{subscription.stripe_subscription_id}-{cancelled}"
    ticket = sync_ticket()
    ways = ["cancel_at_period_end", "cancel_at"]
    if not subscription.cancel_at_period_end:
        ways.reverse()
    for clear in ways:
        try:
            data = stripe_api.subscription_cancellation_clear(
                subscription_id=subscription.stripe_subscription_id,
                clear=clear,
                idempotency_key=f"{key}-{clear}",
            )
        except stripe_api.InvalidRequestError:
            # Stripe refuses to change a subscription that has ended: its end came before the
            # webhook that says so. Copy Stripe's state; if it has ended, say so (no retry helps).
            current = subscription_refresh(
                stripe_subscription_id=subscription.stripe_subscription_id
            )
            if current is not None and current.status == SubscriptionStatus.CANCELED:
                raise NothingToResume(continuing=False) from None
            raise
        if not data.get("cancel_at_period_end") and not data.get("cancel_at"):
            break
    # It renews again: what the next invoice charges, fetched before anything is written.
    upcoming = _upcoming_invoice(stripe_subscription=data)
    return (
        subscription_sync(stripe_subscription=data, ticket=ticket, upcoming_invoice=upcoming)
        or subscription
    )


def sync_ticket() -> int:
    """A number larger than any handed out before, from the database every process shares.

    Take it before fetching from Stripe, and pass it to `subscription_sync` with what was
    fetched. Stripe's objects have no version, and event timestamps are whole seconds that
    say nothing of a re-fetch, so "newer" means "fetched later": a copy is written only over
    one whose fetch began earlier. What this rules out is a delayed copy (a slow request, a
    retried task, a webhook and the success page at once) landing over one fetched after it.
    Two fetches that overlap may still reach Stripe in either order, so the later ticket may
    hold the older state for a moment; but then Stripe changed after that ticket was taken,
    and the change sends an event whose refresh takes a higher ticket still (the reconcile
    job stands in for a lost one), so the last copy written is Stripe's latest.

    A database counter rather than a clock: web nodes' and workers' clocks differ, and the
    database hands out its numbers in the order the fetches began, whichever process asks.
    """
    ticket = SyncTicket.objects.create().pk
    SyncTicket.objects.filter(pk=ticket).delete()  # only the number is needed
    return ticket


def subscription_refresh(*, stripe_subscription_id: str) -> Subscription | None:
    """Copy Stripe's current state of one subscription into ours.

    Fetched with nothing locked, then written in a short transaction, unless a copy fetched
    later is there already (`sync_ticket`). Call it outside any transaction.
    """
    ticket = sync_ticket()
    try:
        data = stripe_api.subscription_retrieve(subscription_id=stripe_subscription_id)
    except stripe_api.InvalidRequestError as error:
        if getattr(error, "code", None) != "resource_missing":
            raise
        # Gone at Stripe (deleted test data): nothing to copy, and retrying will not bring it back.
        log.warning("Stripe has no subscription %s; left as it was", stripe_subscription_id)
        return Subscription.objects.filter(stripe_subscription_id=stripe_subscription_id).first()
    upcoming = _upcoming_invoice(stripe_subscription=data)
    return subscription_sync(stripe_subscription=data, ticket=ticket, upcoming_invoice=upcoming)


def _upcoming_invoice(*, stripe_subscription: dict) -> dict | None:
    """Stripe's preview of the next invoice of a subscription that will invoice again: the amount
    the account page and mail quote, as Stripe will charge it (discounts, tax), never a price
    times a quantity. A Stripe call: make it before any transaction, with the subscription."""
    data = stripe_subscription
    if data["status"] in NO_UPCOMING_INVOICE_STATUSES or data.get("cancel_at_period_end"):
        return None
    try:
        return stripe_api.invoice_preview(subscription_id=data["id"])
    except stripe_api.StripeError:
        # Only what the pages quote: the copy of the subscription (and so access) must never
        # wait on it. The amount shows as unknown until the next copy.
        log.warning("No invoice preview for subscription %s", data["id"], exc_info=True)
        return None


def subscription_sync(
    *,
    stripe_subscription: dict,
    ticket: int | None = None,
    upcoming_invoice: dict | None = None,
) -> Subscription | None:
    """Overwrite our copy with `stripe_subscription` (Stripe's JSON), and queue the mail a change calls for.

    `ticket` is the `sync_ticket()` taken before it was fetched; None means it was fetched just
    now. Our copy is left alone if it was fetched under a later ticket. `upcoming_invoice` is
    Stripe's preview of its next invoice, fetched with it (None: none is coming, or not known).
    Returns None for a subscription of a customer we do not know (made outside Masthead).
    """
    data = stripe_subscription
    user_id = _user_id_for(data)
    if user_id is None:
        log.warning(
            "Stripe subscription %s belongs to no member (customer %s)",
            data["id"],
            data.get("customer"),
        )
        return None
    item = data["items"]["data"][0]
    price = item["price"]
    ticket = sync_ticket() if ticket is None else ticket
    now = timezone.now()
    with transaction.atomic():
        # The member first, as every writer of their subscriptions does: two syncs of a new
        # subscription go one after the other, and the second finds the first's row.
        membership_lock(user_id=user_id)
        subscription = Subscription.objects.select_for_update().filter(
            stripe_subscription_id=data["id"]
        ).first() or Subscription(stripe_subscription_id=data["id"], user_id=user_id)
        if subscription.pk is not None and subscription.sync_ticket > ticket:
            log.info("Kept %s: our copy was fetched after this one", data["id"])
            return subscription
        was_paid = subscription.pk is not None and subscription.status in PAID_STATUSES
        if subscription.pk is None:
            # A first copy: an ending is news only if recent (every event arrived at once, or the
            # webhooks were lost); one long past (a reconcile finding old subscriptions) is not.
            ended = _from_unix(data.get("ended_at"))
            was_final = ended is not None and ended < now - FINAL_MAIL_NEWS
        else:
            was_final = subscription.status in {
                SubscriptionStatus.UNPAID,
                SubscriptionStatus.CANCELED,
            }
        was_cancelling = subscription.pk is not None and (
            subscription.ends_at is not None or subscription.status == SubscriptionStatus.CANCELED
        )
        status = data["status"]
        subscription.plan = _plan_for(price)
        subscription.status = status
        subscription.started_at = _from_unix(data.get("start_date") or data["created"])
        # On the item since API version 2025-03-31.basil, which removed the subscription's own.
        subscription.current_period_end = _from_unix(item.get("current_period_end"))
        subscription.cancel_at_period_end = bool(data.get("cancel_at_period_end"))
        subscription.cancel_at = _from_unix(data.get("cancel_at"))
        subscription.canceled_at = _from_unix(data.get("canceled_at"))
        subscription.ended_at = _from_unix(data.get("ended_at"))
        subscription.trial_end = _from_unix(data.get("trial_end"))
        # A credit larger than the next invoice previews below zero: nothing will be charged.
        subscription.amount = max(0, upcoming_invoice["total"]) if upcoming_invoice else None
        subscription.currency = data.get("currency") or price.get("currency") or ""
        _latest_invoice_copy(subscription, data.get("latest_invoice"))
        if status in FAILED_PAYMENT_STATUSES:
            subscription.first_failed_payment_at = subscription.first_failed_payment_at or now
        else:
            subscription.first_failed_payment_at = None
            subscription.grace_ended_at = None
        subscription.synced_at = now
        subscription.sync_ticket = ticket
        subscription.stripe_digest = stripe_digest(data)
        subscription.save()
        membership_sync(user_id=user_id)

        if status == SubscriptionStatus.TRIALING:
            _trial_claim(user_id=user_id)
        if status in PAID_STATUSES and not was_paid:
            mail.queue(
                mail.SUBSCRIPTION_STARTED,
                user_id=user_id,
                key=f"subscription_started:{subscription.stripe_subscription_id}",
                context=_mail_context(subscription),
            )
        # Stripe's retries all failed: it cancelled the subscription or put it on hold (unpaid), as
        # the account's settings say. One mail says so when our copy makes that change, in place
        # of the cancellation mail (nobody chose this; "changed your mind?" would not fit). Never
        # for a copy first made in that state (a reconcile finding long-ended subscriptions), nor
        # for each new invoice Stripe makes while it stays unpaid.
        ended_unpaid = (
            status == SubscriptionStatus.CANCELED
            and (data.get("cancellation_details") or {}).get("reason") == "payment_failed"
        )
        if (ended_unpaid or status == SubscriptionStatus.UNPAID) and not was_final:
            mail.queue(
                mail.PAYMENT_FAILED_FINAL,
                user_id=user_id,
                key=f"payment_failed_final:{subscription.stripe_subscription_id}:"
                f"{_id_of(data.get('latest_invoice'))}",
                context={**_mail_context(subscription), "ended": ended_unpaid},
            )
        cancelling = subscription.ends_at is not None or status == SubscriptionStatus.CANCELED
        if cancelling and not was_cancelling and subscription.pk and not ended_unpaid:
            # One mail per cancellation: a member who resumes and cancels again hears of it again.
            when = (
                f":{int(subscription.canceled_at.timestamp())}" if subscription.canceled_at else ""
            )
            mail.queue(
                mail.SUBSCRIPTION_CANCELLED,
                user_id=user_id,
                key=f"subscription_cancelled:{subscription.stripe_subscription_id}{when}",
                context=_mail_context(subscription),
            )
    return subscription


def _latest_invoice_copy(subscription: Subscription, latest: dict | str | None) -> None:
    """What the subscription's latest invoice charged and where it is paid (expanded by
    stripe_api.subscription_retrieve); an id alone (a payload not expanded) says only which."""
    if isinstance(latest, dict):
        subscription.latest_invoice_id = latest["id"]
        subscription.latest_invoice_status = latest.get("status") or ""
        total = latest.get("total")
        subscription.latest_invoice_total = max(total, 0) if total is not None else None
        subscription.latest_invoice_url = latest.get("hosted_invoice_url") or ""
    elif (latest or "") != subscription.latest_invoice_id:
        subscription.latest_invoice_id = latest or ""
        subscription.latest_invoice_status = ""
        subscription.latest_invoice_total = None
        subscription.latest_invoice_url = ""


def _id_of(value) -> str:
    """An expandable field's id, whether Stripe sent the id or the object."""
    return (value.get("id") if isinstance(value, dict) else value) or ""


def stripe_digest(data: dict) -> str:
    """A digest of a Stripe object's JSON: equal digests, nothing changed."""
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def membership_sync(*, user_id: int) -> None:
    """Report the member's current subscription (`current_first()`) to their Membership.

    Called in the transaction of every change to their subscriptions, so what access reads
    never disagrees with billing's copy of Stripe.
    """
    with transaction.atomic():
        membership_lock(user_id=user_id)
        current = Subscription.objects.filter(user_id=user_id).current_first().first()
        membership_subscription_set(
            user_id=user_id,
            status=current.status if current else "",
            ends_at=current.ends_at if current else None,
            payment_failed_at=current.first_failed_payment_at if current else None,
        )


def _user_id_for(data: dict) -> int | None:
    customer = (
        Customer.objects.filter(stripe_customer_id=data.get("customer"))
        .values_list("user_id", flat=True)
        .first()
    )
    if customer:
        return customer
    metadata_user = (data.get("metadata") or {}).get("user_id")
    if (
        metadata_user
        and str(metadata_user).isdigit()
        and User.objects.filter(pk=int(metadata_user)).exists()
    ):
        return int(metadata_user)
    return None


def _plan_for(price: dict) -> Plan | None:
    plan = Plan.objects.filter(stripe_price_id=price["id"]).first()
    if plan is None and price.get("lookup_key"):
        plan = Plan.objects.filter(lookup_key=price["lookup_key"]).first()
    return plan


def _trial_claim(*, user_id: int) -> None:
    """A Stripe trial uses up the person's one trial, as the site's own trial does."""
    email = User.objects.filter(pk=user_id).values_list("email", flat=True).first()
    try:
        with transaction.atomic():
            TrialClaim.objects.get_or_create(
                email_digest=email_fingerprint(email), defaults={"user_id": user_id}
            )
    except IntegrityError:
        pass  # claimed at the same moment elsewhere: the claim exists, which is all we need


def _mail_context(subscription: Subscription) -> dict:
    """Display values for the member's mail (templates/emails/subscription_*, payment_failed)."""
    period_end = (
        f"{subscription.current_period_end:%-d %B %Y}" if subscription.current_period_end else ""
    )
    # A pending cancellation: the member reads until then, and may still resume it.
    ends_at = subscription.ends_at if subscription.status != SubscriptionStatus.CANCELED else None
    return {
        "plan_name": subscription.plan.name if subscription.plan else "",
        "amount": _charged_amount(subscription),
        "period_end": period_end,
        "cancel_at": f"{ends_at:%-d %B %Y}" if ends_at else "",
        # A Stripe trial (kept from the free trial, or the plan's): the first payment waits for it.
        "first_charge": f"{subscription.trial_end:%-d %B %Y}"
        if subscription.status == SubscriptionStatus.TRIALING and subscription.trial_end
        else "",
    }


def _charged_amount(subscription: Subscription) -> str:
    """What the member pays, as Stripe charges it: the latest invoice's total (a 100 %-off code
    makes it £0.00); in a trial, whose invoice is £0, what the first charge will be."""
    if subscription.status == SubscriptionStatus.TRIALING:
        return subscription.display_amount
    return subscription.display_latest_total or subscription.display_amount


# ---- webhooks --------------------------------------------------------------------


def webhook_event_record(*, event: dict) -> WebhookEvent:
    """Record a verified event once; a second delivery gets the row the first made."""
    try:
        with transaction.atomic():
            return WebhookEvent.objects.create(
                stripe_event_id=event["id"], type=event["type"], payload=event
            )
    except IntegrityError:
        return WebhookEvent.objects.get(stripe_event_id=event["id"])


def webhook_event_malformed(*, payload: bytes, problem: str) -> WebhookEvent:
    """Record a correctly signed body that is no event, once per body, for staff to see.

    It is kept as already processed (there is nothing to apply, and no retry will change
    that), under an id made from the body, so Stripe's retries of it add no rows.
    """
    text = payload.decode("utf-8", "replace")
    digest = hashlib.sha256(payload).hexdigest()[:32]
    log.error("A signed Stripe webhook was not an event (%s): %.200s", problem, text)
    row, _ = WebhookEvent.objects.get_or_create(
        stripe_event_id=f"malformed_{digest}",
        defaults={
            "type": MALFORMED_EVENT_TYPE,
            "payload": {"body": text[:10_000]},
            "processed_at": timezone.now(),
            "last_error": f"Malformed: {problem}",
        },
    )
    return row


def webhook_event_process(*, webhook_event: WebhookEvent) -> bool:
    """Apply one event's effect once. Returns whether this call applied it (False: done before).

    No lock is held while the handler runs (handlers call Stripe). The row is claimed
    instead: one UPDATE sets `claimed_until` if the event is unprocessed and nobody else's
    claim is running; a concurrent duplicate finds it claimed and gets EventInProgress. The
    handler's writes are each their own short transaction and safe to repeat (copies are
    re-fetched and ordered by `sync_ticket`, mail has unique keys), so an event whose process
    died half-way is simply applied again once its claim runs out. A handler that raises
    releases the claim, records the error, and re-raises (the webhook answers 500 and Stripe
    retries).
    """
    now = timezone.now()
    claimed = (
        WebhookEvent.objects.filter(pk=webhook_event.pk, processed_at__isnull=True)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .update(claimed_until=now + WEBHOOK_EVENT_LEASE, attempts=F("attempts") + 1)
    )
    if not claimed:
        if WebhookEvent.objects.filter(pk=webhook_event.pk, processed_at__isnull=True).exists():
            raise EventInProgress(webhook_event.stripe_event_id)
        return False
    row = WebhookEvent.objects.get(pk=webhook_event.pk)
    try:
        handler = HANDLERS.get(row.type)
        if handler:
            handler(row.payload)
    except Exception as error:
        WebhookEvent.objects.filter(pk=row.pk).update(
            claimed_until=None, last_error=f"{type(error).__name__}: {error}"[:2000]
        )
        raise
    WebhookEvent.objects.filter(pk=row.pk).update(
        processed_at=timezone.now(), claimed_until=None, last_error=""
    )
    return True


def _object(event: dict) -> dict:
    return event["data"]["object"]


def _invoice_subscription_id(invoice: dict) -> str | None:
    # parent.subscription_details since API version 2025-03-31.basil (invoice.subscription is gone).
    parent = invoice.get("parent") or {}
    details = parent.get("subscription_details") or {}
    return _id_of(details.get("subscription")) or None


def _on_checkout_completed(event: dict) -> None:
    session = _object(event)
    if session.get("mode") != "subscription" or not session.get("subscription"):
        return
    user_id = session.get("client_reference_id")
    customer_id = session.get("customer")
    # A customer Checkout made itself (not ours): remember it for this member.
    if (
        customer_id
        and user_id
        and str(user_id).isdigit()
        and not Customer.objects.filter(stripe_customer_id=customer_id).exists()
    ):
        Customer.objects.get_or_create(
            user_id=int(user_id), defaults={"stripe_customer_id": customer_id}
        )
    _checkout_session_copy_subscription(session)


def _on_subscription_changed(event: dict) -> None:
    subscription_refresh(stripe_subscription_id=_object(event)["id"])


def _on_invoice(event: dict) -> Subscription | None:
    invoice = _object(event)
    subscription_id = _invoice_subscription_id(invoice)
    if not subscription_id:
        return None
    return subscription_refresh(stripe_subscription_id=subscription_id)


def _on_invoice_payment_failed(event: dict) -> None:
    subscription = _on_invoice(event)
    if subscription is None or subscription.status not in FAILED_PAYMENT_STATUSES | {
        SubscriptionStatus.INCOMPLETE
    }:
        return  # paid since, as Stripe's current state says: nothing to tell the member
    invoice = _object(event)
    # Asked every time, even of an invoice that waited for the member before: authenticated and
    # then declined by the bank (or a retry declined) is a failed payment, told as one.
    waits_for_member = stripe_api.invoice_payment_needs_action(invoice_id=invoice["id"])
    if waits_for_member:
        # Not declined: the bank waits for the member (3-D Secure). Whichever of Stripe's two
        # events comes first tells them so, once, with the link to confirm it.
        _payment_action_required(subscription=subscription, invoice=invoice)
        return
    failed_at = _from_unix(event.get("created"))
    with transaction.atomic():
        membership_lock(user_id=subscription.user_id)
        subscription = Subscription.objects.select_for_update().get(pk=subscription.pk)
        if (
            failed_at
            and subscription.first_failed_payment_at
            and failed_at < subscription.first_failed_payment_at
        ):
            # The grace period counts from the failure itself, not from when we heard of it.
            subscription.first_failed_payment_at = failed_at
            subscription.save(update_fields=["first_failed_payment_at"])
            membership_sync(user_id=subscription.user_id)
        mail.queue(
            mail.PAYMENT_FAILED,
            user_id=subscription.user_id,
            key=f"payment_failed:{invoice['id']}",
            context={
                **_mail_context(subscription),
                "amount": format_amount(
                    invoice.get("amount_due") or 0,
                    invoice.get("currency") or subscription.currency,
                ),
                "grace_ends_at": subscription.grace_ends_at.isoformat()
                if subscription.grace_ends_at
                else "",
            },
        )


def _on_invoice_payment_action_required(event: dict) -> None:
    """A payment the bank wants the member to authenticate (3-D Secure): remember the invoice, so
    the account page, the banner and the paywall offer Stripe's hosted page to confirm it, and
    mail the member that link, once per invoice, while it still waits.

    Events arrive in any order: if the invoice was paid (or replaced) meanwhile, the copy just
    refreshed from Stripe says so, and nothing is shown or sent.
    """
    subscription = _on_invoice(event)
    if subscription is None:
        return
    _payment_action_required(subscription=subscription, invoice=_object(event))


def _payment_action_required(*, subscription: Subscription, invoice: dict) -> None:
    """Record that `invoice` waits for the member, and mail them the link while it does.

    One short transaction, no Stripe call: the copy it reads was refreshed just before."""
    with transaction.atomic():
        membership_lock(user_id=subscription.user_id)
        subscription = Subscription.objects.select_for_update().get(pk=subscription.pk)
        subscription.action_required_invoice_id = invoice["id"]
        subscription.save(update_fields=["action_required_invoice_id"])
        if subscription.payment_action_url:
            _payment_action_mail(subscription=subscription, invoice=invoice)


def _payment_action_mail(*, subscription: Subscription, invoice: dict) -> None:
    mail.queue(
        mail.PAYMENT_ACTION_REQUIRED,
        user_id=subscription.user_id,
        key=f"payment_action_required:{invoice['id']}",
        context={
            **_mail_context(subscription),
            "amount": format_amount(
                invoice.get("amount_due") or 0, invoice.get("currency") or subscription.currency
            ),
            "confirm_url": subscription.payment_action_url,
            # A renewal waiting (past_due) reads on through the grace period; a first payment not.
            "reading_until": f"{subscription.grace_ends_at:%-d %B %Y}"
            if subscription.status == SubscriptionStatus.PAST_DUE and subscription.grace_ends_at
            else "",
        },
    )


def _on_trial_will_end(event: dict) -> None:
    synced = subscription_refresh(stripe_subscription_id=_object(event)["id"])
    if synced is None or synced.status != SubscriptionStatus.TRIALING or synced.trial_end is None:
        return
    mail.queue(
        mail.TRIAL_ENDING,
        user_id=synced.user_id,
        key=f"trial_ending:{synced.stripe_subscription_id}:{int(synced.trial_end.timestamp())}",
        context={**_mail_context(synced), "trial_ends_at": synced.trial_end.isoformat()},
    )


# Event type -> handler. Every other type is recorded and answered 200 (Stripe retries
# anything else for days).
HANDLERS = {
    "checkout.session.completed": _on_checkout_completed,
    "customer.subscription.created": _on_subscription_changed,
    "customer.subscription.updated": _on_subscription_changed,
    "customer.subscription.deleted": _on_subscription_changed,
    "customer.subscription.paused": _on_subscription_changed,
    "customer.subscription.resumed": _on_subscription_changed,
    "customer.subscription.trial_will_end": _on_trial_will_end,
    "invoice.paid": _on_invoice,
    "invoice.payment_failed": _on_invoice_payment_failed,
    "invoice.payment_action_required": _on_invoice_payment_action_required,
}


# ---- the periodic sweeps ---------------------------------


def grace_end_due(*, now: datetime | None = None) -> int:
    """Record the end of payment grace periods that have run out (access ended by the clock)."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.PAYMENT_GRACE_DAYS)
    return Subscription.objects.filter(
        status__in=FAILED_PAYMENT_STATUSES,
        first_failed_payment_at__lte=cutoff,
        grace_ended_at__isnull=True,
    ).update(grace_ended_at=now)


def stripe_reconcile_events(*, days: int = 3) -> int:
    """Process any recent Stripe event we missed, and any whose processing died half-way.

    A safety net for lost webhooks. Stripe's events are read a page at a time (one page in
    memory however many there are); those already processed here cost one query per page.
    Returns the number of events processed here.
    """
    since = int((timezone.now() - timedelta(days=days)).timestamp())
    processed = 0
    for page in stripe_api.events_pages(created_gte=since, types=sorted(HANDLERS)):
        done = set(
            WebhookEvent.objects.filter(
                stripe_event_id__in=[e["id"] for e in page], processed_at__isnull=False
            ).values_list("stripe_event_id", flat=True)
        )
        for event in page:
            if event["id"] not in done:
                processed += _webhook_event_catch_up(webhook_event_record(event=event))
    # Recorded here but never finished (a handler that failed, a process that died, an event
    # older than the window above): nobody is applying them now, or their claim ran out.
    now = timezone.now()
    stale = WebhookEvent.objects.filter(processed_at__isnull=True).filter(
        Q(claimed_until__lt=now)
        | Q(claimed_until__isnull=True, received_at__lt=now - timedelta(minutes=5))
    )
    for row in stale.only("pk", "stripe_event_id").iterator(chunk_size=100):
        processed += _webhook_event_catch_up(row)
    return processed


def _webhook_event_catch_up(row: WebhookEvent) -> int:
    try:
        return int(webhook_event_process(webhook_event=row))
    except EventInProgress:
        return 0  # a webhook delivery is applying it right now
    except Exception:
        # Recorded on the row for the admin; the other events still get their turn.
        log.exception("Reconcile could not apply Stripe event %s", row.stripe_event_id)
        return 0


def stripe_reconcile_subscriptions(*, starting_after: str | None = None) -> str | None:
    """Copy one page (100) of Stripe's subscriptions, those that changed; returns the next cursor.

    Pages through every subscription of the account (`status=all`, so endings are seen too)
    with Stripe's `starting_after` cursor; the caller (a task per page) goes on with the cursor
    returned, until None. A subscription is copied only if it is ours (its customer is, or we
    have it) and Stripe's object differs from the one we copied (`stripe_digest`), so an
    unchanged account costs a page request and two queries per hundred subscribers.
    """
    ticket = sync_ticket()  # before the page is fetched: its copies are at least this new
    page, next_cursor = stripe_api.subscriptions_page(starting_after=starting_after)
    ours = dict(
        Subscription.objects.filter(stripe_subscription_id__in=[s["id"] for s in page]).values_list(
            "stripe_subscription_id", "stripe_digest"
        )
    )
    our_customers = set(
        Customer.objects.filter(
            stripe_customer_id__in={s.get("customer") for s in page}
        ).values_list("stripe_customer_id", flat=True)
    )
    for data in page:
        known = data["id"] in ours
        if (known and ours[data["id"]] == stripe_digest(data)) or (
            not known and data.get("customer") not in our_customers
        ):
            continue  # unchanged, or another site's (an account shared with staging)
        try:
            upcoming = _upcoming_invoice(stripe_subscription=data)  # changed: what it charges next
            subscription_sync(stripe_subscription=data, ticket=ticket, upcoming_invoice=upcoming)
        except Exception:
            # One subscription we cannot copy must not stop the rest of the page, nor the pages
            # after it, day after day: logged, and tried again tomorrow (its digest is unchanged).
            log.exception("Reconcile could not copy Stripe subscription %s", data["id"])
    return next_cursor
