"""The caches as production runs them: sessions read from the cache (cached_db), and the cache
in process memory and, when TEST_REDIS_URL names one, in a real Redis too.

Each Redis test gets a key prefix of its own instead of a flush, because other test
processes share that Redis database.
"""

import os
import uuid
from datetime import timedelta

import pytest
import redis
from django.utils import timezone

from billing.models import Subscription, SubscriptionStatus
from billing.services import membership_sync

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


@pytest.fixture
def subscriber(make_member):
    """A member whose Stripe subscription is active for another 27 days."""
    member = make_member("sam@example.com")
    now = timezone.now()
    Subscription.objects.create(
        stripe_subscription_id="sub_sam",
        user=member,
        status=SubscriptionStatus.ACTIVE,
        started_at=now - timedelta(days=3),
        current_period_end=now + timedelta(days=27),
        synced_at=now,
    )
    membership_sync(user_id=member.pk)
    return type(member).objects.select_related("membership").get(pk=member.pk)
