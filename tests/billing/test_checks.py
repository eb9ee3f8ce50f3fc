"""The Stripe settings check (billing/checks.py), as `manage.py check --deploy` reports it: a live
key with DEBUG on, the development webhook secret without DEBUG, and the one key/secret mismatch
that can be told (a live key with the development secret, which signs only test-mode events)."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

DEVELOPMENT_SECRET = "whsec_masthead_development"


def deploy_check():
    """ "passed", or the ids of the billing errors that fail `check --deploy`."""
    try:
        call_command("check", deploy=True, stdout=StringIO(), stderr=StringIO())
    except SystemCheckError as error:
        words = str(error).split()
        return sorted({w.strip("():") for w in words if w.startswith("(billing.E")})
    return "passed"


@pytest.mark.parametrize(
    ("debug", "key", "secret", "reported"),
    [
        (True, "sk_live_a1b2", "whsec_endpoint", ["billing.E001"]),
        (True, "rk_live_a1b2", "whsec_endpoint", ["billing.E001"]),
        (False, "sk_test_a1b2", DEVELOPMENT_SECRET, ["billing.E002"]),
        (False, "sk_live_a1b2", DEVELOPMENT_SECRET, ["billing.E002", "billing.E003"]),
        (True, "sk_live_a1b2", DEVELOPMENT_SECRET, ["billing.E001", "billing.E003"]),
    ],
    ids=[
        "live-key-with-debug",
        "restricted-live-key-with-debug",
        "development-secret-in-production",
        "live-key-with-the-development-secret",
        "live-key-with-debug-and-the-development-secret",
    ],
)
def test_stripe_settings_that_cannot_be_right_together_fail_the_check(
    settings, debug, key, secret, reported
):
    settings.DEBUG = debug
    settings.STRIPE_SECRET_KEY = key
    settings.STRIPE_WEBHOOK_SECRET = secret

    assert deploy_check() == reported


@pytest.mark.parametrize(
    ("debug", "key", "secret"),
    [
        (False, "sk_test_ci", "whsec_ci"),  # as .ci/run checks production settings
        (False, "sk_live_a1b2", "whsec_endpoint"),
        (False, "rk_live_a1b2", "whsec_endpoint"),
        (True, "sk_test_masthead_standin", DEVELOPMENT_SECRET),  # make run
        (True, "sk_test_a1b2", "whsec_from_stripe_listen"),
    ],
    ids=["ci", "live", "restricted-live", "development", "test-key-in-development"],
)
def test_settings_that_may_be_right_pass(settings, debug, key, secret):
    settings.DEBUG = debug
    settings.STRIPE_SECRET_KEY = key
    settings.STRIPE_WEBHOOK_SECRET = secret

    assert deploy_check() == "passed"


def test_the_check_knows_the_secret_development_uses(settings):
    assert settings.STRIPE_DEVELOPMENT_WEBHOOK_SECRET == DEVELOPMENT_SECRET
