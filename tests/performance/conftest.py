"""The caches as production runs them: sessions read from the cache (cached_db), and the cache
in process memory and, when TEST_REDIS_URL names one, in a real Redis too.

Each Redis test gets a key prefix of its own instead of a flush, because other test
processes share that Redis database.
"""

import os
import uuid

import pytest
import redis

REDIS_URL = os.environ.get("TEST_REDIS_URL", "")


def _redis_answers() -> bool:
    try:
        return (
            bool(REDIS_URL) and redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5).ping()
        )
    except redis.RedisError:
        return False


@pytest.fixture(
    autouse=True,
    params=[
        "locmem",
        pytest.param(
            "redis",
            marks=pytest.mark.skipif(
                not _redis_answers(),
                reason="needs a Redis at TEST_REDIS_URL (make test finds a local one)",
            ),
        ),
    ],
)
def production_caching(request, settings, empty_cache):
    """Every test here runs once per cache backend, with the production session engine."""
    prefix = f"test-{uuid.uuid4().hex}"
    if request.param == "redis":
        settings.CACHES = {
            **settings.CACHES,
            "default": {
                "BACKEND": "config.cache.ForgivingRedisCache",
                "LOCATION": REDIS_URL,
                "KEY_PREFIX": prefix,
            },
        }
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    yield request.param
    if request.param == "redis":
        client = redis.Redis.from_url(REDIS_URL)
        for key in client.scan_iter(f"{prefix}:*"):
            client.delete(key)
