"""Stripe settings that load but are wrong together: a system check, run by every `manage.py
check` (and `check --deploy`), `migrate` and `runserver`.

Start-up (config/settings.py) already refuses settings that cannot work at all. This reports:
- a live key while DEBUG is on: a development setup that charges real cards;
- the development webhook secret without DEBUG: it is in this repository, so anyone could sign
  webhooks the site would believe;
- a live key with the development webhook secret: that secret signs only the local stand-in's
  events, which are test mode, so no live event would ever pass the signature check.
And, in `check --deploy` only: no webhook secret with DEBUG off (start-up allows it, since the
first deploy's `stripe_setup` makes the endpoint that has it), and an API base that is not Stripe
with DEBUG off, which start-up allows for a test key on the loopback (the production smoke test's
stand-in) and nothing else.

Nothing else about the key and the secret can honestly be told apart. Stripe's signing secrets
(`whsec_`) carry no mode: each endpoint, test or live, has its own, and nothing in the string
says which. A test key beside a production SITE_URL is how going live starts (test mode first).
"""

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register

LIVE_KEY_PREFIXES = ("sk_live_", "rk_live_")
SECRET_HINT = (
    "Set STRIPE_WEBHOOK_SECRET to the signing secret of this site's webhook endpoint: "
    "manage.py stripe_setup prints it when it makes the endpoint."
)


@register(Tags.security)
def stripe_settings_check(app_configs, **kwargs):
    live = settings.STRIPE_SECRET_KEY.startswith(LIVE_KEY_PREFIXES)
    development_secret = (
        settings.STRIPE_WEBHOOK_SECRET == settings.STRIPE_DEVELOPMENT_WEBHOOK_SECRET
    )
    errors = []
    if live and settings.DEBUG:
        errors.append(
            Error(
                "STRIPE_SECRET_KEY is a live key while DEBUG is on.",
                hint="Use a test key (sk_test_...) in development, or turn DEBUG off.",
                id="billing.E001",
            )
        )
    if development_secret and not settings.DEBUG:
        errors.append(
            Error(
                "STRIPE_WEBHOOK_SECRET is the development secret, published in this "
                "repository, while DEBUG is off.",
                hint=SECRET_HINT,
                id="billing.E002",
            )
        )
    if live and development_secret:
        errors.append(
            Error(
                "STRIPE_SECRET_KEY is a live key but STRIPE_WEBHOOK_SECRET is the development "
                "secret, which signs only the local stand-in's test-mode events.",
                hint=SECRET_HINT,
                id="billing.E003",
            )
        )
    return errors


@register(Tags.security, deploy=True)
def stripe_webhook_secret_check(app_configs, **kwargs):
    if settings.DEBUG or settings.STRIPE_WEBHOOK_SECRET:
        return []
    return [
        Error(
            "STRIPE_WEBHOOK_SECRET is not set: every Stripe event is refused until it is.",
            hint=SECRET_HINT,
            id="billing.E004",
        )
    ]


@register(Tags.security, deploy=True)
def stripe_api_base_check(app_configs, **kwargs):
    if settings.DEBUG or settings.STRIPE_API_BASE == settings.STRIPE_LIVE_API_BASE:
        return []
    return [
        Warning(
            f"STRIPE_API_BASE is {settings.STRIPE_API_BASE}, not Stripe: a local stand-in.",
            hint=f"Unset STRIPE_API_BASE (it defaults to {settings.STRIPE_LIVE_API_BASE}).",
            id="billing.W001",
        )
    ]
