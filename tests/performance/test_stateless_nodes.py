"""A web node keeps no state: in production, sessions and the cache live in Redis, and database
connections persist with health checks. Read from a real start-up of the settings, as a deploy does."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent.parent
PRODUCTION = {
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
    environment.update(PRODUCTION, **variables)
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


@pytest.fixture
def production_caching():
    """Replaces this folder's fixture, which runs each test once per cache backend: these read
    the settings in a fresh process, which no cache set in this one reaches. One run each."""


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
    environment = {**os.environ, **PRODUCTION, "SESSION_ENGINE": "sessions-in-a-file"}
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
