from django.dispatch import receiver

from accounts import mail
from billing.models import Plan


@receiver(mail.rendering)
def entry_price_in_trial_mail(sender, user, **kwargs) -> dict | None:
    """The trial mails quote the price a reader pays to start ("subscribe from £12.00 per month")."""
    if sender in (mail.TRIAL_ENDING, mail.TRIAL_ENDED):
        return {"plan": Plan.objects.from_price()}
    return None
