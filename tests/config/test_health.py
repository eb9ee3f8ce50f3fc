"""/healthz (config/health.py): 200 or 503, naming the failing service without giving anything away."""

import json

from django.test import override_settings

from tests.config.test_cache import REDIS_DOWN


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
