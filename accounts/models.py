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

    def trials_due(self, now=None):
        """Members whose trial has passed its end but is not yet marked ended."""
        return self.filter(trial_ends_at__lte=now or timezone.now(), trial_ended_at__isnull=True)


class User(AbstractBaseUser, PermissionsMixin):
    """A member. The email address is the login.

    The trial is a pair of timestamps: access compares trial_ends_at with the clock,
    so a trial ends at that moment whether or not a background job has run.
    trial_ended_at only records that the end was processed (mail sent, and so on).
    """

    email = models.EmailField("email address", unique=True)
    name = models.CharField(max_length=150, blank=True)
    is_staff = models.BooleanField(
        default=False, help_text="Can log into the admin and reads everything."
    )
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)

    trial_started_at = models.DateTimeField(null=True, blank=True)
    trial_ends_at = models.DateTimeField(null=True, blank=True)
    trial_ended_at = models.DateTimeField(null=True, blank=True, editable=False)

    # The member's choice for newsletters and product news. Mail about their own account
    # (verification, trial ending, receipts, payment problems) is sent regardless.
    wants_product_emails = models.BooleanField(
        "newsletter and product emails",
        default=True,
        help_text="The weekly newsletter and news about the site.",
    )

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = "member"
        indexes = [
            # the trial-expiry sweep reads only the rows still to be processed
            models.Index(
                fields=["trial_ends_at"],
                name="user_trial_due_idx",
                condition=models.Q(trial_ended_at__isnull=True, trial_ends_at__isnull=False),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(trial_started_at__isnull=True)
                | models.Q(trial_ends_at__gte=models.F("trial_started_at")),
                name="user_trial_ends_after_start",
            ),
        ]

    def __str__(self):
        return self.email

    def get_full_name(self):
        return self.name or self.email

    def get_short_name(self):
        return self.name or self.email.split("@")[0]

    def has_had_trial(self) -> bool:
        return self.trial_started_at is not None

    def clean(self):
        super().clean()
        # Both ends or neither: staff editing a member in the admin could otherwise save an
        # end without a start, which no reader state describes.
        if (self.trial_started_at is None) != (self.trial_ends_at is None):
            raise ValidationError("A trial needs both its start and its end (or neither).")

    def is_trialing(self, now=None) -> bool:
        now = now or timezone.now()
        if self.trial_started_at is None or self.trial_ends_at is None:
            return False
        return self.trial_started_at <= now < self.trial_ends_at


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
