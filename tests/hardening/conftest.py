"""Helpers for the hardening tests: readers as logged-in clients, and what each may read."""

import pytest
from django.test import Client

from accounts import entitlements


@pytest.fixture
def client_for():
    """client_for(reader): a fresh client, logged in as reader (None: anonymous)."""

    def make(reader):
        client = Client()
        if reader is not None:
            client.force_login(reader)
        return client

    return make


def may_read(reader, article) -> bool:
    """What the one entitlement module says; any reader kind added to the cast (a subscriber,
    once billing adds one) is then judged here too."""
    from django.contrib.auth.models import AnonymousUser

    return entitlements.for_user(reader or AnonymousUser()).decide(article).full


@pytest.fixture
def cast_is_sound(readers, articles):
    """Guards the tests that ask the entitlement module what to expect against a module that
    says yes to everyone: the anonymous and trial-over readers must be refused premium."""
    from articles.models import Visibility

    premium = articles[Visibility.PREMIUM]
    assert not may_read(readers["anonymous"], premium)
    assert not may_read(readers["trial_over"], premium)
    assert may_read(readers["in_trial"], premium)


@pytest.fixture
def fresh_cache(settings):
    """A cache of the test's own, so allauth's rate-limit counts start at zero."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "hardening"}}
    from django.core.cache import cache

    cache.clear()
