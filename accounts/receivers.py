from allauth.account.signals import email_confirmed
from django.dispatch import receiver

from accounts.services import trial_start


@receiver(email_confirmed)
def start_trial_on_verification(request, email_address, **kwargs):
    trial_start(user=email_address.user, email=email_address.email)
