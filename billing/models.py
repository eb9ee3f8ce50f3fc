from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.text import slugify

from accounts.entitlements import grace_ends_at
from accounts.models import SubscriptionStatus
from billing.signals import plans_bulk_updated


class Interval(models.TextChoices):
    MONTH = "month", "Monthly"
    YEAR = "year", "Yearly"


class PlanQuerySet(models.QuerySet):
    def update(self, **fields):
        """As QuerySet.update(), and announced (plans_bulk_updated), as save() is by post_save."""
        rows = super().update(**fields)
        plans_bulk_updated.send(sender=self.model)
        return rows

    def active(self):
        return self.filter(active=True)

    def from_price(self):
        """The entry price that the paywall advertises ("From £12.00 per month").

        The cheapest active plan of the shortest billing interval: what a reader pays
        to start, not an annual plan's monthly equivalent, which they cannot buy.
        """
        for interval in (Interval.MONTH, Interval.YEAR):
            plan = self.active().filter(interval=interval).order_by("amount").first()
            if plan:
                return plan
        return None


def format_amount(amount: int, currency: str) -> str:
    """1200, "gbp" -> "£12.00": minor units as a reader reads them."""
    symbol = {"gbp": "£", "usd": "$", "eur": "€"}.get(currency)
    value = f"{Decimal(amount) / 100:,.2f}"
    return f"{symbol}{value}" if symbol else f"{value} {currency.upper()}"


class Plan(models.Model):
    """A price a reader can subscribe at, mirroring one Stripe Price.

    Amounts are in the currency's minor unit (pence). Staff define plans here;
    `manage.py stripe_setup` (or `stripe_sync_plans`, the Prices alone) creates the
    matching Prices in Stripe, found again by `lookup_key`, and records their ids.
    """

    name = models.CharField(max_length=80)
    amount = models.PositiveIntegerField(help_text="In minor units: 1200 is £12.00.")
    currency = models.CharField(max_length=3, default="gbp")
    interval = models.CharField(max_length=5, choices=Interval, default=Interval.MONTH)
    active = models.BooleanField(default=True)
    lookup_key = models.SlugField(
        max_length=200,
        unique=True,
        blank=True,
        help_text="Stripe's lookup key for this plan's Price; made from the name if blank.",
    )
    trial_days = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text="Free days before the first charge, when TRIAL_MODE is card.",
    )
    stripe_price_id = models.CharField(max_length=255, blank=True, editable=False)
    stripe_product_id = models.CharField(max_length=255, blank=True, editable=False)

    objects = PlanQuerySet.as_manager()

    class Meta:
        ordering = ["amount"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(currency__regex=r"^[a-z]{3}$"), name="plan_currency_iso_lower"
            ),
            models.UniqueConstraint(
                fields=["stripe_price_id"],
                condition=~models.Q(stripe_price_id=""),
                name="plan_unique_stripe_price",
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.display_price} per {self.interval})"

    def save(self, *args, **kwargs):
        if not self.lookup_key:
            self.lookup_key = slugify(f"{self.name}-{self.interval}")
        super().save(*args, **kwargs)

    @property
    def display_price(self) -> str:
        return format_amount(self.amount, self.currency)

    @property
    def monthly_equivalent(self) -> str | None:
        """What an annual plan costs per month, for comparison; None for a monthly plan."""
        if self.interval != Interval.YEAR:
            return None
        return format_amount(round(self.amount / 12), self.currency)

    def saving_against(self, monthly: "Plan | None") -> str | None:
        """How much a year of this plan saves against twelve months of `monthly`."""
        if self.interval != Interval.YEAR or monthly is None or monthly.currency != self.currency:
            return None
        saving = monthly.amount * 12 - self.amount
        return format_amount(saving, self.currency) if saving > 0 else None


class Customer(models.Model):
    """The one Stripe Customer of a member. Unique both ways, so a member never gets two."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="stripe_customer"
    )
    stripe_customer_id = models.CharField(max_length=255, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    checkout_window_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="When the member's current window of Subscribe clicks opened: the clicks in it "
        "share one Stripe idempotency key per plan, so a double click makes one session.",
    )

    def __str__(self):
        return self.stripe_customer_id


class CheckoutSession(models.Model):
    """A Checkout Session we created, kept so a second click reuses it instead of opening another."""

    stripe_session_id = models.CharField(max_length=255, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="+")
    url = models.URLField(max_length=2000)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["user", "plan", "expires_at"], name="checkout_reuse_idx")]

    def __str__(self):
        return self.stripe_session_id


# Statuses in which a member already has a subscription to manage, so must not start another.
LIVE_STATUSES = {
    SubscriptionStatus.INCOMPLETE,
    SubscriptionStatus.TRIALING,
    SubscriptionStatus.ACTIVE,
    SubscriptionStatus.PAST_DUE,
    SubscriptionStatus.UNPAID,
    SubscriptionStatus.PAUSED,
}


class SubscriptionQuerySet(models.QuerySet):
    def live(self):
        return self.filter(status__in=LIVE_STATUSES)

    def current_first(self):
        """Ordered so a member's subscription that matters now comes first: a live one, else the latest.

        Its status is what the member's Membership records (billing.services.membership_sync).
        """
        live_first = models.Case(models.When(status__in=LIVE_STATUSES, then=0), default=1)
        return self.order_by(live_first, "-started_at", "-pk")


class Subscription(models.Model):
    """Our copy of a Stripe Subscription, overwritten with Stripe's current state on every sync.

    Each sync reports the member's current subscription to their Membership, which access
    reads (accounts/entitlements.py) against the clock, so it changes on time whether or not
    a background job has run.
    """

    stripe_subscription_id = models.CharField(max_length=255, unique=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="subscriptions"
    )
    plan = models.ForeignKey(
        Plan, null=True, blank=True, on_delete=models.SET_NULL, related_name="subscriptions"
    )
    status = models.CharField(max_length=20, choices=SubscriptionStatus)
    started_at = models.DateTimeField()
    current_period_end = models.DateTimeField(null=True, blank=True)
    cancel_at_period_end = models.BooleanField(default=False)
    cancel_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When Stripe will end it: a cancellation at the period's end, or on a date set "
        "in the portal or the API.",
    )
    canceled_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    trial_end = models.DateTimeField(null=True, blank=True)
    amount = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="What the next invoice charges, in minor units, as Stripe previews it "
        "(discounts, tax); empty when no invoice is coming.",
    )
    currency = models.CharField(max_length=3, blank=True)
    # Stripe's latest invoice of the subscription: what it charged, and where the member pays it.
    # The columns added since 0003 carry database defaults (db_default), so code still running
    # from before a deploy can insert rows while and after `migrate` runs.
    latest_invoice_id = models.CharField(max_length=255, blank=True, db_default="")
    latest_invoice_status = models.CharField(max_length=20, blank=True, db_default="")
    latest_invoice_total = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="What the latest invoice charged (or asks), after discounts and tax, in minor units.",
    )
    latest_invoice_url = models.URLField(max_length=2000, blank=True, db_default="")
    action_required_invoice_id = models.CharField(
        max_length=255,
        blank=True,
        db_default="",
        help_text="The last invoice whose payment Stripe said needs the member to confirm "
        "(3-D Secure: invoice.payment_action_required).",
    )
    first_failed_payment_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When this run of failed payments began: the grace period counts from it.",
    )
    grace_ended_at = models.DateTimeField(null=True, blank=True, editable=False)
    synced_at = models.DateTimeField(help_text="When Stripe's state was last copied here.")
    sync_ticket = models.BigIntegerField(
        default=0,
        db_default=0,
        editable=False,
        help_text="The SyncTicket taken before fetching the copy held here: a copy fetched "
        "under a lower ticket never overwrites it.",
    )
    stripe_digest = models.CharField(
        max_length=64,
        blank=True,
        db_default="",
        editable=False,
        help_text="sha256 of Stripe's object as copied, so the reconcile job skips unchanged ones.",
    )

    objects = SubscriptionQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["user", "status"], name="subscription_user_status_idx")]

    def __str__(self):
        return f"{self.stripe_subscription_id} ({self.status})"

    @property
    def grace_ends_at(self) -> datetime | None:
        return grace_ends_at(self.first_failed_payment_at)

    @property
    def ends_at(self) -> datetime | None:
        """When a cancellation ends it ("ends on ..."); None while it renews.

        Stripe sets `cancel_at` for both ways of cancelling (at the period's end, or on a date);
        a copy made before we stored it has only the flag, and the period's end.
        """
        if self.cancel_at:
            return self.cancel_at
        return self.current_period_end if self.cancel_at_period_end else None

    @property
    def display_amount(self) -> str:
        return (
            format_amount(self.amount, self.currency)
            if self.amount is not None and self.currency
            else ""
        )

    @property
    def display_latest_total(self) -> str:
        return (
            format_amount(self.latest_invoice_total, self.currency)
            if self.latest_invoice_total is not None and self.currency
            else ""
        )

    @property
    def payment_action_url(self) -> str:
        """Stripe's hosted invoice page where the member confirms a payment that waits for them.

        A first payment is waiting while the subscription is incomplete; a renewal, while the
        invoice Stripe said needs action is still the latest and still open. "" otherwise, so a
        late event about an invoice paid since shows nothing.
        """
        if self.latest_invoice_status != "open" or not self.latest_invoice_url:
            return ""
        if self.status == SubscriptionStatus.INCOMPLETE or (
            self.action_required_invoice_id
            and self.action_required_invoice_id == self.latest_invoice_id
        ):
            return self.latest_invoice_url
        return ""


class SyncTicket(models.Model):
    """A number from one counter that every web process and worker shares: the database's.

    Stripe's objects carry no version to say which of two copies is newer, so each fetch of a
    subscription takes a ticket first, and a copy is written only over one fetched under a lower
    ticket (billing.services.subscription_sync). The row itself is deleted at once; only its
    number, handed out in the order the fetches began, is used.
    """

    def __str__(self):
        return str(self.pk)


# What a signed webhook body that is no event is recorded as (billing.services.webhook_event_malformed).
MALFORMED_EVENT_TYPE = "(malformed)"


class WebhookEvent(models.Model):
    """Each Stripe event, recorded once (the unique id) and processed at most once.

    Processing claims the row for a while (`claimed_until`), runs the handler with no lock
    held (it calls Stripe), and marks it processed. A failed handler leaves the row
    unprocessed with its error, and answers 500 so Stripe delivers the event again; a process
    that died mid-way leaves a claim that runs out, after which Stripe's retry or the reconcile
    job claims it again. A signed body that is no event is kept as type "(malformed)", already
    processed, with what was wrong in `last_error`.
    """

    stripe_event_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100)
    payload = models.JSONField()
    received_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)
    claimed_until = models.DateTimeField(
        null=True, blank=True, help_text="Being processed until then (a lease, not a lock)."
    )
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["-received_at"]
        indexes = [
            # the admin's list, newest first, and its "last handled" and "waiting" lines, without
            # reading a ledger that grows by every event Stripe ever sent
            models.Index(fields=["-received_at"], name="webhook_received_idx"),
            models.Index(fields=["-processed_at"], name="webhook_processed_idx"),
            models.Index(
                fields=["received_at"],
                condition=models.Q(processed_at__isnull=True),
                name="webhook_waiting_idx",
            ),
        ]

    def __str__(self):
        return f"{self.type} {self.stripe_event_id}"
