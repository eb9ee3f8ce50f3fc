"""The Redis cache, made to degrade instead of fail.

The cache only ever holds what can be rebuilt (rate-limit counters, computed fragments), so
when Redis is down or slow a page should still be served: each error is logged and answered
as a miss ("nothing stored, nothing found"). allauth's rate limits then cannot take their
lock and refuse the attempt, so sign-in and sign-up fail closed while Redis is away; reading
keeps working.
"""

import functools
import logging

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)


def _on_error(fallback):
    """Run the client method; on a Redis error log it and return fallback(*args)."""

    def decorate(method):
        @functools.wraps(method)
        def wrapper(self, *args, **kwargs):
            try:
                return method(self, *args, **kwargs)
            except RedisError as error:
                logger.warning(
                    "Cache unavailable, %s treated as a miss: %s", method.__name__, error
                )
                return fallback(*args, **kwargs)

        return wrapper

    return decorate


def _missing_key(key, delta):
    raise ValueError(f"Key {key!r} not found (cache unavailable).")


class ForgivingRedisCacheClient(RedisCacheClient):
    def get_client(self, key=None, *, write=False):
        # Django builds a new redis.Redis for every cache call, and each one builds its table
        # of several hundred response callbacks: most of a cache hit's CPU. A client per
        # connection pool is enough (redis.Redis is thread-safe; the pool does the pooling).
        pool = self._get_connection_pool(write)
        clients = self.__dict__.setdefault("_clients_by_pool", {})
        if id(pool) not in clients:
            clients[id(pool)] = self._client(connection_pool=pool)
        return clients[id(pool)]

    add = _on_error(lambda key, value, timeout: False)(RedisCacheClient.add)
    get = _on_error(lambda key, default: default)(RedisCacheClient.get)
    set = _on_error(lambda key, value, timeout: None)(RedisCacheClient.set)
    touch = _on_error(lambda key, timeout: False)(RedisCacheClient.touch)
    delete = _on_error(lambda key: False)(RedisCacheClient.delete)
    get_many = _on_error(lambda keys: {})(RedisCacheClient.get_many)
    has_key = _on_error(lambda key: False)(RedisCacheClient.has_key)
    incr = _on_error(_missing_key)(RedisCacheClient.incr)
    set_many = _on_error(lambda data, timeout: None)(RedisCacheClient.set_many)
    delete_many = _on_error(lambda keys: None)(RedisCacheClient.delete_many)
    clear = _on_error(lambda: False)(RedisCacheClient.clear)


class ForgivingRedisCache(RedisCache):
    """Django's RedisCache whose errors read as misses (see the module docstring)."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = ForgivingRedisCacheClient
