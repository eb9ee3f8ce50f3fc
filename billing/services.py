"""Writes to billing records. Each function is atomic and safe to call twice.

Stripe is the source of truth for subscriptions: we never compute a subscription's
state, we copy Stripe's current one (`subscription_refresh`), under a row lock, so
whatever order events arrive in, the last copy made is Stripe's latest state. Each copy
reports the member's current subscription to their Membership (`membership_sync`), in
the same transaction: that row is what access reads.
"""

import logging
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from accounts import mail
from accounts.emails import email_fingerprint
from accounts.models import TrialClaim, User
from accounts.services import membership_for, membership_lock, membership_subscription_set
from billing import stripe_api
from billing.models import (
    CheckoutSession,
    Customer,
    Plan,
    Subscription,
    SubscriptionStatus,
    WebhookEvent,
    format_amount,
)

log = logging.getLogger(__name__)

# Reuse an open Checkout Session only if the reader has this long left to pay in it.
CHECKOUT_REUSE_MARGIN = timedelta(minutes=30)
PAID_STATUSES = {SubscriptionStatus.TRIALING, SubscriptionStatus.ACTIVE}
# Stripe makes no next invoice for these: a first payment still waits, or the subscription is over.
NO_UPCOMING_INVOICE_STATUSES = {
    SubscriptionStatus.INCOMPLETE,
    SubscriptionStatus.INCOMPLETE_EXPIRED,
    SubscriptionStatus.CANCELED,
}
FAILED_PAYMENT_STATUSES = {SubscriptionStatus.PAST_DUE, SubscriptionStatus.UNPAID}


class AlreadySubscribed(Exception):
    """The member has a live subscription: manage it, never start a second."""


class PlanNotInStripe(Exception):
    """The plan has no Stripe Price yet (run `manage.py stripe_setup`)."""


def _from_unix(value: int | None) -> datetime | None:
    return datetime.fromtimestamp(value, tz=UTC) if value else None


# ---- customers and checkout ---------------------------------------------------


def customer_get_or_create(*, user: User, replacing: str | None = None) -> Customer:
    """The member's one Stripe Customer, created in Stripe on first use.

    Call inside a transaction that holds the member's row lock. The idempotency key
    is derived from the member, so if Stripe created the Customer but our write was
    lost (an outage, a crash), the retry gets the same Customer back, not a second.
    `replacing` names a stored Customer that Stripe no longer knows.
    """
    existing = Customer.objects.filter(user=user).first()
    if existing and existing.stripe_customer_id != replacing:
        return existing
    key = f"masthead-customer-{user.pk}" + (f"-replacing-{replacing}" if replacing else "")
    created = stripe_api.customer_create(email=user.email, user_id=user.pk, idempotency_key=key)
    if existing:
        existing.stripe_customer_id = created["id"]
        existing.save(update_fields=["stripe_customer_id"])
        return existing
    return Customer.objects.create(user=user, stripe_customer_id=created["id"])


def checkout_start(*, user: User, plan: Plan, success_url: str, cancel_url: str) -> str:
    """The URL of a Checkout Session for `plan`; raises AlreadySubscribed, PlanNotInStripe, StripeError.

    A double click gets the same session: the member's row is locked while we look
    for an open one, so the second request waits and then reuses the first's.
    On any Stripe error the transaction rolls back: nothing half-written remains.
    """
    if not plan.stripe_price_id:
        raise PlanNotInStripe(plan.lookup_key)
    now = timezone.now()
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).first()
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
        # Paid meanwhile (its webhook not yet here): its subscription is now copied, and committed below.
        # Every open one is closed, not only those up to the first that was paid.
        closed = [_checkout_session_close(other) for other in open_sessions]
        if all(closed):
            return _checkout_session_create(
                user=user, plan=plan, success_url=success_url, cancel_url=cancel_url
            )
    raise AlreadySubscribed()


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
    try:
        session = stripe_api.checkout_session_create(
            customer_id=customer.stripe_customer_id, **create
        )
    except stripe_api.InvalidRequestError as error:
        if (
            getattr(error, "code", None) != "resource_missing"
            or getattr(error, "param", None) != "customer"
        ):
            raise
        # Stripe no longer knows the stored Customer (deleted there): make a new one.
        customer = customer_get_or_create(user=user, replacing=customer.stripe_customer_id)
        session = stripe_api.checkout_session_create(
            customer_id=customer.stripe_customer_id, **create
        )
    CheckoutSession.objects.create(
        stripe_session_id=session["id"],
        user=user,
        plan=plan,
        url=session["url"],
        expires_at=_from_unix(session["expires_at"]),
    )
    return session["url"]


def _checkout_session_close(session: CheckoutSession) -> bool:
    """Expire a member's other open session, so two tabs can never pay for two subscriptions.

    Returns False if it was paid meanwhile (its webhook not yet here), after copying its subscription.
    """
    try:
        stripe_api.checkout_session_expire(session_id=session.stripe_session_id)
    except stripe_api.InvalidRequestError:
        current = stripe_api.checkout_session_retrieve(session_id=session.stripe_session_id)
        if current.get("status") == "complete":
            subscription = current.get("subscription")
            if subscription:  # copy it now, so the account page the member is sent to shows it
                subscription_refresh(
                    stripe_subscription_id=subscription["id"]
                    if isinstance(subscription, dict)
                    else subscription,
                    stripe_customer_id=current.get("customer"),
                )
            return False
    session.delete()
    return True


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
    subscription = session.get("subscription")
    if subscription:
        subscription_id = subscription["id"] if isinstance(subscription, dict) else subscription
        subscription_refresh(
            stripe_subscription_id=subscription_id, stripe_customer_id=customer.stripe_customer_id
        )
    return session


def checkout_subscription(*, user: User, session: dict) -> Subscription | None:
    """Our copy of the subscription a member's Checkout Session made (None before it made one)."""
    subscription = session.get("subscription")
    if not subscription:
        return None
    subscription_id = subscription["id"] if isinstance(subscription, dict) else subscription
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
    key = f"masthead-resume-{subscription.stripe_subscription_id}-{cancelled}"
    ways = ["cancel_at_period_end", "cancel_at"]
    if not subscription.cancel_at_period_end:
        ways.reverse()
    for clear in ways:
        data = stripe_api.subscription_cancellation_clear(
            subscription_id=subscription.stripe_subscription_id,
            clear=clear,
            idempotency_key=f"{key}-{clear}",
        )
        if not data.get("cancel_at_period_end") and not data.get("cancel_at"):
            break
    # It renews again: what the next invoice charges, fetched before anything is written.
    upcoming = _upcoming_invoice(stripe_subscription=data)
    return subscription_sync(stripe_subscription=data, upcoming_invoice=upcoming) or subscription


def subscription_refresh(
    *, stripe_subscription_id: str, stripe_customer_id: str | None = None
) -> Subscription | None:
    """Copy Stripe's current state of one subscription into ours.

    Fetched while holding the member's Customer row (and our subscription row) locked:
    two refreshes of the same subscription run one after the other, and the later one
    fetched later, so an older state never overwrites a newer one.
    """
    with transaction.atomic():
        if stripe_customer_id:
            Customer.objects.select_for_update().filter(
                stripe_customer_id=stripe_customer_id
            ).first()
        Subscription.objects.select_for_update().filter(
            stripe_subscription_id=stripe_subscription_id
        ).first()
        try:
            data = stripe_api.subscription_retrieve(subscription_id=stripe_subscription_id)
        except stripe_api.InvalidRequestError as error:
            if getattr(error, "code", None) != "resource_missing":
                raise
            # Gone at Stripe (deleted test data): nothing to copy, and retrying will not bring it back.
            log.warning("Stripe has no subscription %s; left as it was", stripe_subscription_id)
            return Subscription.objects.filter(
                stripe_subscription_id=stripe_subscription_id
            ).first()
        return subscription_sync(
            stripe_subscription=data, upcoming_invoice=_upcoming_invoice(stripe_subscription=data)
        )


def _upcoming_invoice(*, stripe_subscription: dict) -> dict | None:
    """Stripe's preview of the next invoice of a subscription that will invoice again: the amount
    the account page and mail quote, as Stripe will charge it (discounts, tax), never a price
    times a quantity."""
    data = stripe_subscription
    if data["status"] in NO_UPCOMING_INVOICE_STATUSES or data.get("cancel_at_period_end"):
        return None
    return stripe_api.invoice_preview(subscription_id=data["id"])


def subscription_sync(
    *, stripe_subscription: dict, upcoming_invoice: dict | None = None
) -> Subscription | None:
    """Overwrite our copy with `stripe_subscription` (Stripe's JSON), and queue the mail a change calls for.

    `upcoming_invoice` is Stripe's preview of its next invoice (None: none is coming, or not
    known). Returns None for a subscription of a customer we do not know (made outside Masthead).
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
    now = timezone.now()
    with transaction.atomic():
        subscription = Subscription.objects.select_for_update().filter(
            stripe_subscription_id=data["id"]
        ).first() or Subscription(stripe_subscription_id=data["id"], user_id=user_id)
        was_paid = subscription.pk is not None and subscription.status in PAID_STATUSES
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
        subscription.amount = upcoming_invoice.get("total") if upcoming_invoice else None
        subscription.currency = data.get("currency") or price.get("currency") or ""
        _latest_invoice_copy(subscription, data.get("latest_invoice"))
        if status in FAILED_PAYMENT_STATUSES:
            subscription.first_failed_payment_at = subscription.first_failed_payment_at or now
        else:
            subscription.first_failed_payment_at = None
            subscription.grace_ended_at = None
        subscription.synced_at = now
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
        # the account's settings say. One mail says so, once per failed invoice, in place of the
        # cancellation mail (nobody chose this; "changed your mind?" would not fit).
        ended_unpaid = (
            status == SubscriptionStatus.CANCELED
            and (data.get("cancellation_details") or {}).get("reason") == "payment_failed"
        )
        if ended_unpaid or status == SubscriptionStatus.UNPAID:
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


def webhook_event_process(*, webhook_event: WebhookEvent) -> bool:
    """Apply one event's effect exactly once. Returns whether this call applied it.

    The event row is locked and marked processed in the same transaction as the
    effect: a concurrent duplicate waits and then finds it done; a handler that
    raises rolls everything back, records the error, and re-raises (the webhook
    answers 500 and Stripe retries).
    """
    try:
        with transaction.atomic():
            row = WebhookEvent.objects.select_for_update().get(pk=webhook_event.pk)
            if row.processed_at is not None:
                return False
            handler = HANDLERS.get(row.type)
            if handler:
                handler(row.payload)
            row.processed_at = timezone.now()
            row.attempts = F("attempts") + 1
            row.last_error = ""
            row.save(update_fields=["processed_at", "attempts", "last_error"])
            return True
    except Exception as error:
        WebhookEvent.objects.filter(pk=webhook_event.pk).update(
            attempts=F("attempts") + 1, last_error=f"{type(error).__name__}: {error}"[:2000]
        )
        raise


def _object(event: dict) -> dict:
    return event["data"]["object"]


def _invoice_subscription_id(invoice: dict) -> str | None:
    # parent.subscription_details since API version 2025-03-31.basil (invoice.subscription is gone).
    parent = invoice.get("parent") or {}
    details = parent.get("subscription_details") or {}
    subscription = details.get("subscription")
    return subscription["id"] if isinstance(subscription, dict) else subscription


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
    subscription = session["subscription"]
    subscription_id = subscription["id"] if isinstance(subscription, dict) else subscription
    subscription_refresh(stripe_subscription_id=subscription_id, stripe_customer_id=customer_id)


def _on_subscription_changed(event: dict) -> None:
    subscription = _object(event)
    subscription_refresh(
        stripe_subscription_id=subscription["id"], stripe_customer_id=subscription.get("customer")
    )


def _on_invoice(event: dict) -> Subscription | None:
    invoice = _object(event)
    subscription_id = _invoice_subscription_id(invoice)
    if not subscription_id:
        return None
    return subscription_refresh(
        stripe_subscription_id=subscription_id, stripe_customer_id=invoice.get("customer")
    )


def _on_invoice_payment_failed(event: dict) -> None:
    subscription = _on_invoice(event)
    if subscription is None or subscription.status not in FAILED_PAYMENT_STATUSES | {
        SubscriptionStatus.INCOMPLETE
    }:
        return  # paid since, as Stripe's current state says: nothing to tell the member
    invoice = _object(event)
    waits_for_member = subscription.action_required_invoice_id == invoice["id"] or (
        stripe_api.invoice_payment_needs_action(invoice_id=invoice["id"])
    )
    if waits_for_member:
        # Not declined: the bank waits for the member (3-D Secure). Whichever of Stripe's two
        # events comes first tells them so, once, with the link to confirm it.
        _payment_action_required(subscription=subscription, invoice=invoice)
        return
    failed_at = _from_unix(event.get("created"))
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
                invoice.get("amount_due") or 0, invoice.get("currency") or subscription.currency
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
    """Record that `invoice` waits for the member, and mail them the link while it does."""
    subscription = Subscription.objects.select_for_update().get(pk=subscription.pk)
    subscription.action_required_invoice_id = invoice["id"]
    subscription.save(update_fields=["action_required_invoice_id"])
    if not subscription.payment_action_url:
        return
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
    subscription = _object(event)
    synced = subscription_refresh(
        stripe_subscription_id=subscription["id"], stripe_customer_id=subscription.get("customer")
    )
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


def stripe_reconcile(*, days: int = 3) -> int:
    """Process any recent Stripe event we missed, then refresh every subscription Stripe still bills.

    A safety net for lost webhooks. Returns the number of events processed here.
    """
    since = int((timezone.now() - timedelta(days=days)).timestamp())
    processed = 0
    for event in stripe_api.events_list(created_gte=since, types=sorted(HANDLERS)):
        row = webhook_event_record(event=event)
        if row.processed_at is None and webhook_event_process(webhook_event=row):
            processed += 1
    live = Subscription.objects.live().values_list("stripe_subscription_id", flat=True)
    for subscription_id in list(live):
        subscription_refresh(stripe_subscription_id=subscription_id)
    return processed
