"""Keeping the member's Membership in step with what allauth and Django record about them."""

from allauth.account.models import EmailAddress
from allauth.account.signals import email_confirmed, password_reset, user_signed_up
from anymail.signals import tracking
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from accounts.models import Membership, SuppressionReason, User
from accounts.services import (
    membership_email_verified_refresh,
    newsletter_member_upgrade,
    newsletter_subscribe_defaults,
    suppression_add,
    trial_start,
)


@receiver(post_save, sender=User)
def create_membership(instance, created, raw=False, **kwargs):
    if created and not raw:
        Membership.objects.get_or_create(user=instance)


@receiver([post_save, post_delete], sender=EmailAddress)
def record_email_verification(instance, raw=False, **kwargs):
    # Every way an address is verified or dropped (allauth's flows, its admin, a fixture)
    # saves or deletes the row: the membership's "verified" follows each.
    if not raw:
        membership_email_verified_refresh(user_id=instance.user_id)


@receiver(email_confirmed)
def start_trial_on_verification(request, email_address, **kwargs):
    trial_start(user=email_address.user, email=email_address.email)


@receiver(user_signed_up)
def subscribe_new_member_to_default_newsletters(request, user, **kwargs):
    newsletter_subscribe_defaults(user=user)


@receiver(password_reset)
def finish_newsletter_only_account(request, user, **kwargs):
    # A newsletter reader who set a password (through "forgot password", the only way without
    # one) is now a member: their trial starts.
    newsletter_member_upgrade(user=user)


# What the mail provider reports (django-anymail's tracking webhooks, at /anymail/): an address
# that bounced hard, was rejected or complained gets no more bulk mail. Account mail still goes.
SUPPRESSING_EVENTS = {
    "bounced": SuppressionReason.BOUNCED,
    "rejected": SuppressionReason.REJECTED,
    "complained": SuppressionReason.COMPLAINED,
    "unsubscribed": SuppressionReason.UNSUBSCRIBED,
}


@receiver(tracking)
def suppress_on_provider_report(sender, event, esp_name, **kwargs):
    reason = SUPPRESSING_EVENTS.get(event.event_type)
    if reason and event.recipient:
        detail = f"{esp_name}: {event.description or event.mta_response or event.event_type}"
        suppression_add(email=event.recipient, reason=reason, detail=detail)
