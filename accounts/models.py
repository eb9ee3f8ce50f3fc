from datetime import date, datetime

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email, password=None, **extra):
        if not email:
            raise ValueError("A member needs an email address.")
        user = self.model(email=self.normalize_email(email), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email, password=None, **extra):
        extra.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A member. The email address is the login.

    Who they are and how they sign in; what they may read is on their Membership.
    """

    email = models.EmailField("email address", unique=True)
    name = models.CharField(max_length=150, blank=True)
    is_staff = models.BooleanField(
        default=False, help_text="Can log into the admin and reads everything."
    )
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = "member"

    def __str__(self):
        return self.email

    def get_full_name(self):
        return self.name or self.email

    def get_short_name(self):
        return self.name or self.email.split("@")[0]


class SubscriptionStatus(models.TextChoices):
    """Stripe's subscription statuses, as they are: billing copies them, the policy reads them."""

    INCOMPLETE = "incomplete"
    INCOMPLETE_EXPIRED = "incomplete_expired"
    TRIALING = "trialing"
    ACTIVE = "active"
    PAST_DUE = "past_due"
    CANCELED = "canceled"
    UNPAID = "unpaid"
    PAUSED = "paused"


# A member who chose to pay (a failed payment in its grace included): mail about the end of
# their free trial would be wrong for them.
PAYING_STATUSES = {
    SubscriptionStatus.TRIALING,
    SubscriptionStatus.ACTIVE,
    SubscriptionStatus.PAST_DUE,
}


class MembershipQuerySet(models.QuerySet):
    def trials_due(self, now: datetime):
        """Trials past their end and not yet marked ended (read through membership_trial_due_idx)."""
        return self.filter(trial_ends_at__lte=now, trial_ended_at__isnull=True)

    def paying(self, now: datetime):
        return self.filter(Membership.paying_q(now))


class Membership(models.Model):
    """Everything that decides what a member may read, on one row: the entitlement policy's input.

    Written only by the services that own each change (accounts.services: email verification,
    the trial, complimentary grants; billing's subscription sync, through
    `membership_subscription_set`, with plain values), each updating just its own fields, so
    no save of the member's profile can overwrite them.

    Time is an input: each period is stored as timestamps that the policy compares with the
    clock, so access starts and ends on time whether or not a background job has run.
    trial_ended_at only records that the end was processed (its mail recorded).
    """

    user = models.OneToOneField(
        User, on_delete=models.CASCADE, primary_key=True, related_name="membership"
    )
    email_verified_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="Set while the member has a verified email address.",
    )
    trial_started_at = models.DateTimeField(null=True, blank=True)
    trial_ends_at = models.DateTimeField(null=True, blank=True)
    trial_ended_at = models.DateTimeField(null=True, blank=True, editable=False)
    complimentary_from = models.DateTimeField(null=True, blank=True, editable=False)
    complimentary_until = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="The complimentary grants in force, or the next, as one period.",
    )
    subscription_status = models.CharField(
        max_length=20,
        choices=SubscriptionStatus,
        blank=True,
        editable=False,
        help_text="Of the current subscription.",
    )
    subscription_ends_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="A subscription set to cancel: when what was paid for runs out.",
    )
    payment_failed_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="When this run of failed payments began: grace counts from it.",
    )
    newsletter_only = models.BooleanField(
        default=False,
        editable=False,
        help_text="Signed up with only an email, for the newsletter: no password yet, so no account or trial.",
    )

    objects = MembershipQuerySet.as_manager()

    class Meta:
        indexes = [
            # the trial-expiry sweep reads only the rows still to be processed
            models.Index(
                fields=["trial_ends_at"],
                name="membership_trial_due_idx",
                condition=models.Q(trial_ended_at__isnull=True, trial_ends_at__isnull=False),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(trial_started_at__isnull=True)
                | models.Q(trial_ends_at__gte=models.F("trial_started_at")),
                name="membership_trial_ends_after_start",
            ),
        ]

    def __str__(self):
        return f"membership of {self.user_id}"

    def clean(self):
        super().clean()
        # Both ends or neither: staff editing a trial in the admin could otherwise save an
        # end without a start, which no reader state describes.
        if (self.trial_started_at is None) != (self.trial_ends_at is None):
            raise ValidationError("A trial needs both its start and its end (or neither).")

    def has_had_trial(self) -> bool:
        return self.trial_started_at is not None

    @staticmethod
    def paying_q(now: datetime) -> models.Q:
        """Members who subscribed or were given access (a filter on Membership)."""
        return models.Q(subscription_status__in=PAYING_STATUSES) | models.Q(
            complimentary_from__lte=now, complimentary_until__gt=now
        )


class ComplimentaryAccessQuerySet(models.QuerySet):
    def current(self, now: datetime):
        return self.filter(starts_at__lte=now, until__gt=now)

    def due(self, now: datetime):
        """Grants past their end whose end is not yet recorded."""
        return self.filter(until__lte=now, ended_at__isnull=True)


class ComplimentaryAccess(models.Model):
    """Full access granted by staff from one moment until another; it outranks any subscription.

    Granted through accounts.services (the member admin's action, or a row added here in the
    admin), which keeps the member's Membership in step.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="complimentary_access")
    starts_at = models.DateTimeField(default=timezone.now)
    until = models.DateTimeField()
    reason = models.CharField(max_length=200)
    granted_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    ended_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = ComplimentaryAccessQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "complimentary access"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(until__gt=models.F("starts_at")),
                name="complimentary_access_ends_after_start",
            )
        ]

    def __str__(self):
        return f"{self.user} until {self.until:%Y-%m-%d}"


class TrialClaim(models.Model):
    """One row per person who has had a free trial, judged by their normalised email.

    The unique digest is what makes "one trial per person" hold under concurrent
    sign-ups; the row stays when the account is deleted (user becomes NULL).
    """

    email_digest = models.CharField(max_length=64, unique=True)
    user = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    claimed_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"trial claimed {self.claimed_at:%Y-%m-%d}"


class SentMail(models.Model):
    """One row per member message, written when the message is queued; the mail log.

    The unique key ("trial_ending:<user id>:<trial end>", "payment_failed:<invoice id>")
    is what makes every message go at most once however often a job or task runs.
    The row is written in the same transaction as the change that calls for the
    message, so a message is never lost to a crash between that commit and the
    task being queued: rows still unsent are queued again by a periodic job.
    sent_at is set in the transaction that sends.
    """

    key = models.CharField(max_length=200)
    kind = models.CharField(max_length=40)
    # No foreign key in the database: checking one per row costs the million-row trial
    # sweep a fifth of its time. Django still deletes a member's rows with the member.
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+", db_constraint=False)
    context = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "member mail"
        verbose_name_plural = "member mail"
        indexes = [
            # the job that queues unsent mail again reads only these rows
            models.Index(
                fields=["created_at"],
                name="sentmail_unsent_idx",
                condition=models.Q(sent_at__isnull=True),
            ),
        ]
        constraints = [
            # a constraint rather than unique=True, which on PostgreSQL adds a LIKE index we never use
            models.UniqueConstraint(fields=["key"], name="sentmail_key_unique"),
        ]

    def __str__(self):
        return self.key


class Newsletter(models.Model):
    """A list members choose to receive: articles mailed to them (articles.NewsletterSend)."""

    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=100, unique=True)
    description = models.CharField(max_length=300, blank=True)
    sender_name = models.CharField(
        max_length=100, blank=True, help_text="Shown as the sender; the site's name when blank."
    )
    cadence = models.CharField(
        max_length=100, blank=True, help_text='As readers see it, e.g. "Every Tuesday".'
    )
    is_default = models.BooleanField(
        "subscribe new members",
        default=False,
        help_text="New members (and newsletter sign-ups) get it.",
    )
    subscribers = models.ManyToManyField(
        User, through="NewsletterSubscription", related_name="newsletters"
    )

    class Meta:
        ordering = ["-is_default", "name"]

    def __str__(self):
        return self.name


class NewsletterSubscription(models.Model):
    """A member on a newsletter's list. Unsubscribing deletes the row; the list is who is on it now."""

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="newsletter_subscriptions"
    )
    newsletter = models.ForeignKey(
        Newsletter, on_delete=models.CASCADE, related_name="subscriptions"
    )
    subscribed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["newsletter", "user"], name="newsletter_subscription_unique"
            )
        ]

    def __str__(self):
        return f"{self.user} on {self.newsletter}"


class SuppressionReason(models.TextChoices):
    BOUNCED = "bounced", "Hard bounce"
    COMPLAINED = "complained", "Marked as spam"
    UNSUBSCRIBED = "unsubscribed", "Unsubscribed from all bulk mail"
    REJECTED = "rejected", "Rejected by the mail provider"
    MANUAL = "manual", "Suppressed by staff"


class Suppression(models.Model):
    """An address that gets no bulk mail (newsletters), and why. Account mail still goes to it.

    Keyed by the address as mailed, lower-cased: a bounce or complaint names an address, not a member.
    """

    email = models.EmailField(unique=True)
    reason = models.CharField(max_length=20, choices=SuppressionReason)
    detail = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.email} ({self.get_reason_display()})"

    def save(self, *args, **kwargs):
        self.email = self.email.strip().lower()
        super().save(*args, **kwargs)


class MeterRead(models.Model):
    """A premium article a free member opened in full on the meter, once per calendar month.

    Written only by accounts.services.meter_read_record. Two unique constraints hold the
    allowance under any concurrency: one row per (member, month, article), so a re-read
    spends nothing, and one per (member, month, slot), where slot is the read's place in the
    month's allowance (1..N, given as "reads so far + 1" only while that is at most N): two
    tabs opening different articles at once compute the same slot and the database keeps one.

    The article is kept by id, without a foreign key, because accounts imports nothing from
    articles; a deleted article's reads simply age out with the month (meter_reads_prune).
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="meter_reads")
    month = models.DateField(help_text="The first day of the calendar month of the read.")
    article_id = models.BigIntegerField()
    slot = models.PositiveSmallIntegerField()
    read_at = models.DateTimeField()

    class Meta:
        constraints = [
            # Its index (user, month, article_id) also serves the access lookup's "this month's
            # reads" as an index-only scan: O(reads of that member), however large the table.
            models.UniqueConstraint(
                fields=["user", "month", "article_id"], name="meterread_once_a_month"
            ),
            models.UniqueConstraint(
                fields=["user", "month", "slot"], name="meterread_one_per_slot"
            ),
            models.CheckConstraint(condition=models.Q(slot__gte=1), name="meterread_slot_positive"),
        ]
        indexes = [
            # the daily prune deletes whole old months without scanning the current ones
            models.Index(fields=["month"], name="meterread_month_idx"),
        ]

    def __str__(self):
        return f"read of article {self.article_id} by {self.user_id} in {self.month:%B %Y}"


def meter_month(now: datetime) -> date:
    """The calendar month (its first day, in the site's time zone) that `now` falls in."""
    return timezone.localtime(now).date().replace(day=1)
