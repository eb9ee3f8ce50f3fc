"""Production refuses Stripe settings that would not reach Stripe, naming the setting.

Each case runs `manage.py check` in a fresh process, as a deploy would.
"""

import pytest

from tests.test_settings import STRIPE_PRODUCTION, start

PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "a-long-random-production-secret",
    "ALLOWED_HOSTS": "masthead.example.com",
}


@pytest.mark.parametrize(
    ("variables", "named"),
    [
        ({**PRODUCTION, "STRIPE_WEBHOOK_SECRET": "whsec_x"}, "STRIPE_SECRET_KEY"),
        (
            {**PRODUCTION, **STRIPE_PRODUCTION, "STRIPE_SECRET_KEY": "pk_live_publishable"},
            "STRIPE_SECRET_KEY",
        ),
        ({**PRODUCTION, **STRIPE_PRODUCTION, "STRIPE_SECRET_KEY": "hunter2"}, "STRIPE_SECRET_KEY"),
        ({**PRODUCTION, "STRIPE_SECRET_KEY": "sk_live_x"}, "STRIPE_WEBHOOK_SECRET"),
        (
            {**PRODUCTION, **STRIPE_PRODUCTION, "STRIPE_WEBHOOK_SECRET": "secret"},
            "STRIPE_WEBHOOK_SECRET",
        ),
        (
            {**PRODUCTION, **STRIPE_PRODUCTION, "STRIPE_API_BASE": "http://127.0.0.1:12111"},
            "STRIPE_API_BASE",
        ),
        (
            {
                **PRODUCTION,
                **STRIPE_PRODUCTION,
                "STRIPE_SECRET_KEY": "sk_test_x",
                "STRIPE_API_BASE": "https://stripe.evil.example",
            },
            "STRIPE_API_BASE",
        ),
        (
            {
                "DEBUG": "1",
                "STRIPE_SECRET_KEY": "sk_live_x",
                "STRIPE_API_BASE": "http://127.0.0.1:12111",
            },
            "STRIPE_API_BASE",
        ),
        ({"DEBUG": "1", "TRIAL_MODE": "sometimes"}, "TRIAL_MODE"),
        ({"DEBUG": "1", "PAYMENT_GRACE_DAYS": "-1"}, "PAYMENT_GRACE_DAYS"),
    ],
    ids=[
        "production-without-a-key",
        "publishable-key-as-secret",
        "not-a-stripe-key",
        "production-without-webhook-secret",
        "webhook-secret-not-whsec",
        "production-pointing-at-the-stand-in",
        "production-pointing-elsewhere",
        "live-key-pointing-at-the-stand-in",
        "trial-mode-unknown",
        "grace-days-negative",
    ],
)
def test_a_stripe_setting_that_cannot_work_stops_start_up_naming_it(variables, named):
    result = start(**variables)

    assert result.returncode != 0
    last_line = result.stderr.strip().splitlines()[-1]
    assert "ImproperlyConfigured" in last_line and named in last_line


@pytest.mark.parametrize(
    "key", ["sk_test_a1b2", "rk_live_a1b2"]
)  # sk_live_: tests/test_settings.py
def test_production_starts_with_a_test_or_restricted_stripe_key(key):
    result = start(**{**PRODUCTION, **STRIPE_PRODUCTION, "STRIPE_SECRET_KEY": key})

    assert result.returncode == 0, result.stderr
