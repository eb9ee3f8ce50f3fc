"""When a service fails the site keeps serving: Redis down, a PostgreSQL connection cut.
And /healthz says which service is failing, without giving anything away."""

import json
import os

import pytest
from django.conf import settings
from django.core.cache import caches
from django.core.handlers.wsgi import WSGIHandler
from django.db import connection
from django.test import RequestFactory, override_settings

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


def wsgi_get(path):
    """One request as a WSGI server makes it, with Django's request_started/finished
    signals (which the test client turns off): that is where connections are checked."""
    statuses = []
    response = WSGIHandler()(
        RequestFactory().get(path).environ,
        lambda status, headers, exc_info=None: statuses.append(status),
    )
    b"".join(response)
    response.close()
    return int(statuses[0].split()[0])


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="terminates a PostgreSQL backend")
def test_after_postgresql_drops_the_connection_the_next_request_succeeds(articles):
    import psycopg

    assert wsgi_get("/articles/public-article/") == 200
    old_pid = connection.connection.info.backend_pid
    params = connection.settings_dict
    with psycopg.connect(
        dbname=params["NAME"],
        user=params["USER"],
        host=params["HOST"],
        port=params["PORT"] or 5432,
        password=params["PASSWORD"] or None,
        autocommit=True,
    ) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [old_pid])

    # another article: the first is now served from the page cache, without the database
    assert wsgi_get("/articles/members-article/") == 200
    assert connection.connection.info.backend_pid != old_pid


def test_healthz_says_ok_for_each_service(client, db):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "cache": "ok", "broker": "ok"},
    }
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


@REDIS_DOWN
def test_healthz_is_503_and_names_the_cache_when_redis_is_down(client, db):
    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "ok", "cache": "error", "broker": "ok"}
    assert (
        "127.0.0.1:1" not in response.content.decode() and "redis" not in response.content.decode()
    )


@override_settings(
    CELERY_BROKER_URL="redis://:hunter2-secret@127.0.0.1:1/0", CELERY_BROKER_TRANSPORT_OPTIONS={}
)
def test_healthz_is_503_and_names_the_broker_when_it_is_down_without_its_url(client, db):
    response = client.get("/healthz")

    assert response.status_code == 503
    body = json.loads(response.content)
    assert body["checks"]["broker"] == "error"
    assert body["checks"]["database"] == "ok"
    assert (
        "hunter2" not in response.content.decode() and "127.0.0.1" not in response.content.decode()
    )


def test_healthz_only_answers_get(client):
    assert client.post("/healthz").status_code == 405
