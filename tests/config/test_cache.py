"""The cache (config/cache.py): a Redis outage reads as cache misses, so pages keep being served."""

import os

import pytest
from django.conf import settings
from django.core.cache import caches
from django.test import override_settings

from articles.models import Visibility
from tests.conftest import SECRET_SENTENCES

# Nothing listens on port 1: connecting is refused at once, as with a stopped Redis.
DEAD_REDIS = "redis://127.0.0.1:1/0"


REDIS_DOWN = override_settings(
    CACHES={
        **settings.CACHES,  # the per-process "local" cache of renders stays
        "default": {
            "BACKEND": "config.cache.ForgivingRedisCache",
            "LOCATION": DEAD_REDIS,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        },
    }
)


def test_the_plain_redis_cache_would_fail_here():
    """What the pages below survive: Django's own RedisCache raises on the same dead Redis."""
    from redis.exceptions import ConnectionError

    with (
        override_settings(
            CACHES={
                "default": {
                    "BACKEND": "django.core.cache.backends.redis.RedisCache",
                    "LOCATION": DEAD_REDIS,
                }
            }
        ),
        pytest.raises(ConnectionError),
    ):
        caches["default"].get("anything")


@REDIS_DOWN
@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/articles/premium-article/",
        "/topics/leadership/",
        "/search/?q=opening",
        "/feed/",
        "/accounts/login/",
        "/pricing/",
    ],
)
def test_pages_are_served_while_redis_is_down(client, articles, plans, url):
    assert client.get(url).status_code == 200


@REDIS_DOWN
@override_settings(SESSION_ENGINE="django.contrib.sessions.backends.cached_db")
def test_a_signed_in_reader_keeps_reading_while_redis_is_down(client, readers, articles):
    client.force_login(readers["in_trial"])

    response = client.get("/articles/premium-article/")

    assert response.status_code == 200
    assert SECRET_SENTENCES[Visibility.PREMIUM] in response.content.decode()


@pytest.mark.skipif(
    not os.environ.get("TEST_REDIS_URL"), reason="needs a running Redis (TEST_REDIS_URL)"
)
def test_the_forgiving_cache_stores_and_reads_on_a_live_redis():
    location = os.environ["TEST_REDIS_URL"]
    with override_settings(
        CACHES={
            **settings.CACHES,
            "default": {"BACKEND": "config.cache.ForgivingRedisCache", "LOCATION": location},
        }
    ):
        cache = caches["default"]
        cache.set("hardening-probe", {"a": 1}, 30)
        assert cache.get("hardening-probe") == {"a": 1}
        cache.delete("hardening-probe")
