from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"

    def ready(self):
        from billing import (  # noqa: F401
            checks,  # registers the Stripe settings check
            receivers,  # connects the trial mails' entry price
        )
