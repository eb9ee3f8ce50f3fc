"""/healthz: is each service this site needs answering? For load balancers and monitors.

The answer names each check and says "ok" or "error", nothing more: no hosts, URLs or
exception text, which could carry credentials. The details go to the log.
"""

import logging
import uuid

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from kombu import Connection

logger = logging.getLogger(__name__)


def _database():
    connection.ensure_connection()  # raises if the server cannot be reached
    if not connection.is_usable():  # a connection made earlier, to a server since gone
        raise RuntimeError("the database connection is not usable")


def _cache():
    # The production cache turns Redis errors into misses (config/cache.py), so only a
    # value read back proves it is there.
    key, value = "healthz", uuid.uuid4().hex
    cache.set(key, value, timeout=10)
    if cache.get(key) != value:
        raise RuntimeError("the cache did not return what was just stored")


def _broker():
    url = getattr(settings, "CELERY_BROKER_URL", "")
    if not url:
        return "not configured"
    options = getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {})
    with Connection(url, connect_timeout=2, transport_options=options) as broker:
        broker.ensure_connection(max_retries=1, interval_start=0, interval_step=0.5, timeout=2)


CHECKS = {"database": _database, "cache": _cache, "broker": _broker}


@never_cache
@require_GET
def healthz(request):
    """200 when every service answers, 503 when any does not."""
    results = {}
    for name, check in CHECKS.items():
        try:
            results[name] = check() or "ok"
        except Exception:  # any failure of the service is the answer, not a 500
            logger.exception("Health check %s failed", name)
            results[name] = "error"
    healthy = "error" not in results.values()
    return JsonResponse(
        {"status": "ok" if healthy else "error", "checks": results}, status=200 if healthy else 503
    )
