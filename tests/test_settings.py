"""Settings come from the environment, and a bad value stops start-up naming the variable.

Each case starts a real `manage.py check` in a fresh process, as a deploy would.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
# Inherited variables that would change what the settings module sees.
PROJECT_VARIABLES = {
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "DATABASE_URL",
    "DATABASE_CONN_MAX_AGE",
    "TRIAL_DAYS",
    "SITE_URL",
    "REDIS_URL",
    "EMAIL_PORT",
    "DJANGO_SETTINGS_MODULE",
    "STRIPE_SECRET_KEY",
    "STRIPE_WEBHOOK_SECRET",
    "STRIPE_API_BASE",
    "TRIAL_MODE",
    "PAYMENT_GRACE_DAYS",
}
# What production needs from Stripe to start (tests/billing/test_settings.py checks each).
STRIPE_PRODUCTION = {"STRIPE_SECRET_KEY": "sk_live_a1b2c3", "STRIPE_WEBHOOK_SECRET": "whsec_a1b2c3"}


def start(**variables) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k not in PROJECT_VARIABLES}
    environment.update(variables)
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=REPO,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("variables", "named"),
    [
        ({"DEBUG": "maybe"}, "DEBUG"),
        ({"DEBUG": "1", "TRIAL_DAYS": "seven"}, "TRIAL_DAYS"),
        ({"DEBUG": "1", "TRIAL_DAYS": "-1"}, "TRIAL_DAYS"),
        ({"DEBUG": "0"}, "SECRET_KEY"),
        ({"DEBUG": "0", "SECRET_KEY": ""}, "SECRET_KEY"),
        (
            {"DEBUG": "0", "SECRET_KEY": "a-long-random-production-secret", **STRIPE_PRODUCTION},
            "ALLOWED_HOSTS",
        ),
        (
            {
                "DEBUG": "0",
                "SECRET_KEY": "a-long-random-production-secret",
                "ALLOWED_HOSTS": " , ",
                **STRIPE_PRODUCTION,
            },
            "ALLOWED_HOSTS",
        ),
        ({"DEBUG": "1", "DATABASE_URL": "nonsense://x"}, "DATABASE_URL"),
        ({"DEBUG": "1", "SITE_URL": "ftp://example.com"}, "SITE_URL"),
        ({"DEBUG": "1", "REDIS_URL": "http://127.0.0.1:6379"}, "REDIS_URL"),
    ],
    ids=[
        "debug-not-a-boolean",
        "trial-days-not-a-number",
        "trial-days-negative",
        "production-without-secret-key",
        "production-with-empty-secret-key",
        "production-without-allowed-hosts",
        "production-with-blank-allowed-hosts",
        "database-url-unknown-scheme",
        "site-url-not-http",
        "redis-url-not-redis",
    ],
)
def test_a_malformed_setting_stops_start_up_and_names_the_variable(variables, named):
    result = start(**variables)

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    last_line = result.stderr.strip().splitlines()[-1]
    assert named in last_line


def test_production_starts_with_a_secret_key_and_allowed_hosts():
    result = start(
        DEBUG="0",
        SECRET_KEY="a-long-random-production-secret",
        ALLOWED_HOSTS="masthead.example.com",
        **STRIPE_PRODUCTION,
    )

    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_development_starts_with_no_variables_but_debug():
    result = start(DEBUG="1")

    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout
