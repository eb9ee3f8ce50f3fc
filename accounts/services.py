"""Writes to members' records. Each function is atomic and safe to call twice."""

from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts import mail
from accounts.emails import email_fingerprint
from accounts.models import TrialClaim, User


def trial_start(*, user: User, email: str | None = None) -> bool:
    """Start the member's free trial, once per person. Returns whether a trial started.

    Called when the member verifies an email address. A person is recognised by the
    normalised form of that address, across accounts, including deleted ones.
    """
    if user.has_had_trial() or settings.TRIAL_MODE == "card":
        return False  # in card mode the trial starts at Stripe Checkout instead
    if settings.TRIAL_DAYS == 0:
        return False  # trials are off: a zero-length one would still use up the person's claim
    try:
        with transaction.atomic():
            TrialClaim.objects.create(
                email_digest=email_fingerprint(email or user.email), user=user
            )
            now = timezone.now()
            ends = now + timedelta(days=settings.TRIAL_DAYS)
            started = User.objects.filter(pk=user.pk, trial_started_at__isnull=True).update(
                trial_started_at=now, trial_ends_at=ends
            )
            if not started:  # a concurrent verification of another address won the race
                raise IntegrityError("trial already started")
            mail.queue(
                mail.TRIAL_STARTED,
                user_id=user.pk,
                key=f"trial_started:{user.pk}",
                context={"trial_ends_at": ends.isoformat()},
            )
    except IntegrityError:
        return False
    user.refresh_from_db(fields=["trial_started_at", "trial_ends_at", "trial_ended_at"])
    return True


def trial_extend(*, user: User, days: int) -> None:
    """Give the member `days` more of trial, counted from its end or from now if it is over.

    A member who never had a trial gets one, which also records their claim.
    """
    if days < 1:
        raise ValueError("A trial is extended by at least one day.")
    now = timezone.now()
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        if user.trial_started_at is None:
            TrialClaim.objects.get_or_create(
                email_digest=email_fingerprint(user.email), defaults={"user": user}
            )
            user.trial_started_at = now
        user.trial_ends_at = max(user.trial_ends_at or now, now) + timedelta(days=days)
        user.trial_ended_at = None  # the new end has yet to be processed
        user.save(update_fields=["trial_started_at", "trial_ends_at", "trial_ended_at"])
