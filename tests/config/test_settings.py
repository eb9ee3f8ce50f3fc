"""Settings come from the environment (config/settings.py, config/env.py): a bad value stops
start-up naming the variable, production refuses Stripe settings that would not reach Stripe,
passes Django's deployment check, and keeps no state on the web node.

Each case starts a real `manage.py` in a fresh process, as a deploy would.
"""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


# Inherited variables that would change what the settings module sees.
PROJECT_VARIABLES = {
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "DATABASE_URL",
    "DATABASE_CONN_MAX_AGE",
    "TRIAL_DAYS",
    "METERED_FREE_ARTICLES",
    "MEDIA_ROOT",
    "ATTACHMENT_MAX_BYTES",
    "SITE_URL",
    "REDIS_URL",
    "EMAIL_PORT",
    "DJANGO_SETTINGS_MODULE",
    "STRIPE_SECRET_KEY",
    "STRIPE_WEBHOOK_SECRET",
    "STRIPE_AUTOMATIC_TAX",
    "STRIPE_API_BASE",
    "TRIAL_MODE",
    "PAYMENT_GRACE_DAYS",
    "EMAIL_BACKEND",
    "NEWSLETTER_TRANSPORT",
}


# What production needs from Stripe to start (the Stripe cases below check each).
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
        ({"DEBUG": "1", "METERED_FREE_ARTICLES": "three"}, "METERED_FREE_ARTICLES"),
        ({"DEBUG": "1", "METERED_FREE_ARTICLES": "-1"}, "METERED_FREE_ARTICLES"),
        ({"DEBUG": "1", "METERED_FREE_ARTICLES": "101"}, "METERED_FREE_ARTICLES"),
        ({"DEBUG": "1", "ATTACHMENT_MAX_BYTES": "20MB"}, "ATTACHMENT_MAX_BYTES"),
        ({"DEBUG": "1", "ATTACHMENT_MAX_BYTES": "0"}, "ATTACHMENT_MAX_BYTES"),
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
        ({"DEBUG": "1", "NEWSLETTER_TRANSPORT": "fast"}, "NEWSLETTER_TRANSPORT"),
        ({"DEBUG": "1", "STRIPE_TIMEOUT_SECONDS": "0"}, "STRIPE_TIMEOUT_SECONDS"),
        # the console backend (DEBUG's) has no batch API to send through
        ({"DEBUG": "1", "NEWSLETTER_TRANSPORT": "anymail-batch"}, "NEWSLETTER_TRANSPORT"),
    ],
    ids=[
        "debug-not-a-boolean",
        "trial-days-not-a-number",
        "trial-days-negative",
        "meter-not-a-number",
        "meter-negative",
        "meter-over-100",
        "attachment-limit-not-a-number",
        "attachment-limit-zero",
        "production-without-secret-key",
        "production-with-empty-secret-key",
        "production-without-allowed-hosts",
        "production-with-blank-allowed-hosts",
        "database-url-unknown-scheme",
        "site-url-not-http",
        "redis-url-not-redis",
        "newsletter-transport-unknown",
        "stripe-timeout-zero",
        "newsletter-batch-without-a-batch-api",
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


def test_newsletters_can_be_sent_through_a_providers_batch_api():
    result = start(
        DEBUG="1",
        EMAIL_BACKEND="anymail.backends.mailgun.EmailBackend",
        NEWSLETTER_TRANSPORT="anymail-batch",
    )

    assert result.returncode == 0, result.stderr


# ---- Stripe ---------------------------------------------------------------------------


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
        ({"DEBUG": "1", "STRIPE_AUTOMATIC_TAX": "sometimes"}, "STRIPE_AUTOMATIC_TAX"),
    ],
    ids=[
        "production-without-a-key",
        "publishable-key-as-secret",
        "not-a-stripe-key",
        "webhook-secret-not-whsec",
        "production-pointing-at-the-stand-in",
        "production-pointing-elsewhere",
        "live-key-pointing-at-the-stand-in",
        "trial-mode-unknown",
        "grace-days-negative",
        "automatic-tax-not-a-boolean",
    ],
)
def test_a_stripe_setting_that_cannot_work_stops_start_up_naming_it(variables, named):
    result = start(**variables)

    assert result.returncode != 0
    last_line = result.stderr.strip().splitlines()[-1]
    assert "ImproperlyConfigured" in last_line and named in last_line


def test_idempotency_keys_are_the_sites_own_unless_a_prefix_is_set():
    show = "from django.conf import settings as s; print(repr(s.STRIPE_IDEMPOTENCY_PREFIX))"

    def prefix(**variables):
        environment = {k: v for k, v in os.environ.items() if k not in PROJECT_VARIABLES}
        environment.pop("STRIPE_IDEMPOTENCY_PREFIX", None)
        environment.update(DEBUG="1", **variables)
        result = subprocess.run(
            [sys.executable, "manage.py", "shell", "-c", show],
            cwd=REPO,
            env=environment,
            capture_output=True,
            text=True,
            timeout=60,
        )
        return result.stdout.strip().splitlines()[-1] if result.returncode == 0 else result.stderr

    assert prefix(SITE_URL="https://staging.example.com") == "'staging.example.com:'"
    assert prefix(SITE_URL="https://example.com") == "'example.com:'"
    assert prefix(STRIPE_IDEMPOTENCY_PREFIX="shop-eu/") == "'shop-eu/'"
    too_long = prefix(STRIPE_IDEMPOTENCY_PREFIX="x" * 101).strip().splitlines()[-1]
    assert "ImproperlyConfigured" in too_long and "STRIPE_IDEMPOTENCY_PREFIX" in too_long


@pytest.mark.parametrize(
    "key", ["sk_test_a1b2", "rk_live_a1b2"]
)  # sk_live_: test_production_starts_with_a_secret_key_and_allowed_hosts
def test_production_starts_with_a_test_or_restricted_stripe_key(key):
    result = start(**{**PRODUCTION, **STRIPE_PRODUCTION, "STRIPE_SECRET_KEY": key})

    assert result.returncode == 0, result.stderr


def test_production_may_point_a_test_key_at_a_stand_in_on_the_loopback():
    """For the production smoke test (tests/integration/processes/test_smoke.py); the deploy
    check flags it (below)."""
    for base in ("http://127.0.0.1:12111", "http://localhost:12111"):
        result = start(
            **{**PRODUCTION, **STRIPE_PRODUCTION, "STRIPE_SECRET_KEY": "sk_test_x"},
            STRIPE_API_BASE=base,
        )

        assert result.returncode == 0, result.stderr


# ---- `manage.py check --deploy --fail-level WARNING`, as CI runs it (.ci/run) --------------


PRODUCTION_ENV = {
    "DEBUG": "0",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "example.com",
    "SITE_URL": "https://example.com",
    "STRIPE_SECRET_KEY": "sk_test_deploycheck",
    "STRIPE_WEBHOOK_SECRET": "whsec_deploycheck",
    "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
}


def deploy_check(**overrides):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SECURE_", "MFA_", "TRUST_X"))}
    env.update(PRODUCTION_ENV, **overrides)
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_deploy_check_passes_with_production_settings():
    result = deploy_check()

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_the_deploy_check_refuses_the_development_webhook_secret():
    result = deploy_check(STRIPE_WEBHOOK_SECRET="whsec_masthead_development")

    assert result.returncode != 0
    assert "billing.E002" in result.stdout + result.stderr


def test_production_starts_without_a_webhook_secret_and_the_deploy_check_says_it_is_missing():
    # Going live: the first deploy's release step runs stripe_setup, which makes the endpoint and
    # prints its secret; the site must start (and migrate) before that secret exists.
    result = deploy_check(STRIPE_WEBHOOK_SECRET="")

    assert result.returncode != 0
    assert "ImproperlyConfigured" not in result.stderr  # it started
    assert "billing.E004" in result.stdout + result.stderr
    assert "STRIPE_WEBHOOK_SECRET is not set" in result.stdout + result.stderr


def test_the_deploy_check_flags_a_stripe_api_base_that_is_not_stripe():
    result = deploy_check(STRIPE_API_BASE="http://127.0.0.1:12111")

    assert result.returncode != 0
    assert "billing.W001" in result.stdout + result.stderr


def test_the_deploy_check_would_catch_hsts_turned_off():
    result = deploy_check(SECURE_HSTS_SECONDS="0")

    assert result.returncode != 0
    assert "security.W004" in result.stdout + result.stderr


# ---- a web node keeps no state -----------------------------------------------------------
# In production, sessions and the cache live in Redis, and database connections persist with
# health checks. Read from a real start-up of the settings, as a deploy does.


STATELESS_PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "stateless-test-key-0123456789-0123456789-0123456789",
    "ALLOWED_HOSTS": "example.com",
    "STRIPE_SECRET_KEY": "sk_test_x",
    "STRIPE_WEBHOOK_SECRET": "whsec_x",
    "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/masthead",
}


SHOW = (
    "from django.conf import settings as s; d = s.DATABASES['default']; "
    "print(s.SESSION_ENGINE, s.CACHES['default']['BACKEND'], d['CONN_MAX_AGE'], d['CONN_HEALTH_CHECKS'])"
)


def production_settings(**variables) -> list[str]:
    environment = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DEBUG", "DATABASE_URL", "REDIS_URL", "SESSION_ENGINE"}
    }
    environment.update(STATELESS_PRODUCTION, **variables)
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", SHOW],
        check=False,
        cwd=REPO,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1].split()  # after the shell's own notices


def test_with_redis_sessions_are_read_from_redis_and_kept_in_the_database():
    engine, cache, conn_max_age, health_checks = production_settings(
        REDIS_URL="redis://127.0.0.1:6379/0"
    )

    assert engine == "django.contrib.sessions.backends.cached_db"
    assert cache == "config.cache.ForgivingRedisCache"
    assert int(conn_max_age) > 0 and health_checks == "True"


def test_the_session_engine_can_be_chosen_and_a_wrong_one_is_refused():
    assert production_settings(
        REDIS_URL="redis://127.0.0.1:6379/0",
        SESSION_ENGINE="django.contrib.sessions.backends.cache",
    )[0] == ("django.contrib.sessions.backends.cache")
    environment = {**os.environ, **STATELESS_PRODUCTION, "SESSION_ENGINE": "sessions-in-a-file"}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        check=False,
        cwd=REPO,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0 and "SESSION_ENGINE" in result.stderr


# ---- the folders a process writes ----------------------------------------------------------
# Made when a process starts (a fresh clone, a new volume), or start-up stops naming the setting.

FILE_MAIL = "django.core.mail.backends.filebased.EmailBackend"


def folder_settings(root: Path) -> dict[str, str]:
    return {
        "DEBUG": "1",
        "DATABASE_URL": f"sqlite:///{root / 'database' / 'site.sqlite3'}",
        "EMAIL_BACKEND": FILE_MAIL,
        "EMAIL_FILE_PATH": str(root / "mail"),
        "CELERY_BROKER_URL": "filesystem://localhost/",
        "CELERY_FILESYSTEM_FOLDER": str(root / "celery"),
        "MEDIA_ROOT": str(root / "media"),
    }


def test_the_folders_the_settings_name_are_made_at_start_up(tmp_path):
    root = tmp_path / "not-there-yet"

    result = start(**folder_settings(root))

    assert result.returncode == 0, result.stderr
    assert (root / "database").is_dir()
    assert (root / "mail").is_dir()
    assert (root / "media").is_dir()
    assert {p.name for p in (root / "celery").iterdir()} == {"queue", "processed", "control"}


@pytest.mark.parametrize(
    "named", ["DATABASE_URL", "EMAIL_FILE_PATH", "CELERY_FILESYSTEM_FOLDER", "MEDIA_ROOT"]
)
def test_a_folder_that_cannot_be_made_stops_start_up_naming_its_setting(tmp_path, named):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    variables = {  # only the one setting under the file; the others where they can be made
        **folder_settings(tmp_path / "fine"),
        named: folder_settings(blocker / "inside")[named],
    }

    result = start(**variables)

    assert result.returncode != 0
    last_line = result.stderr.strip().splitlines()[-1]
    assert "ImproperlyConfigured" in last_line
    assert f"{named} names" in last_line and "cannot be created" in last_line
