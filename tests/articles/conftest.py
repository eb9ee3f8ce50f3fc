"""Fixtures of the articles app's tests: unpublished articles, the premium article with its
reviewer, and the caches as production runs them (`production_caching`).

The caches as production runs them: sessions read from the cache (cached_db), and the cache
in process memory and, when TEST_REDIS_URL names one, in a real Redis too. Each Redis test
gets a key prefix of its own instead of a flush, because other test processes share that
Redis database. A test (or a module, with `pytestmark`) asks for it with
`@pytest.mark.usefixtures("production_caching")`, and then runs once per cache backend.
"""

import os
import uuid
from datetime import timedelta

import pytest
import redis
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from articles.models import Status, Visibility

REDIS_URL = os.environ.get("TEST_REDIS_URL", "")


def _redis_answers() -> bool:
    try:
        return (
            bool(REDIS_URL) and redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5).ping()
        )
    except redis.RedisError:
        return False


@pytest.fixture(
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
    """The test runs once per cache backend, with the production session engine."""
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


def warm_site_wide_lookups(client):
    """The first request to a site fills the site-wide lookups (topics menu, entry price, site
    settings), as on a live site after its first visitor."""
    assert client.get("/").status_code == 200


def count_queries(client, url) -> int:
    """The number of queries a GET of url makes (its page must answer 200)."""
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


@pytest.fixture
def premium(articles, reviewer):
    """The premium article, reviewed by Rex."""
    article = articles["premium"]
    article.reviewer = reviewer
    article.save()
    return article


@pytest.fixture
def unpublished(make_article):
    """A draft and an article scheduled for tomorrow, both public so that only the status hides them."""
    tomorrow = timezone.now() + timedelta(days=1)
    return {
        "draft": make_article(
            "the-draft", visibility=Visibility.PUBLIC, status=Status.DRAFT, title="The Draft"
        ),
        "scheduled": make_article(
            "the-scheduled",
            visibility=Visibility.PUBLIC,
            status=Status.SCHEDULED,
            publish_at=tomorrow,
            title="The Scheduled",
        ),
    }
