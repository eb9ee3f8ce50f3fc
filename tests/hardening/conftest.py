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
def cast(readers, make_member, plans):
    """The shared readers, plus a paying subscriber and a member whose subscription was cancelled."""
    from datetime import timedelta

    from django.utils import timezone

    from billing.models import Subscription, SubscriptionStatus
    from billing.services import membership_sync

    now = timezone.now()

    def subscribed(email, status, **fields):
        member = make_member(email, trial="over")
        values = {
            "started_at": now - timedelta(days=40),
            "current_period_end": now + timedelta(days=20),
            "synced_at": now,
        }
        values.update(fields)
        Subscription.objects.create(
            stripe_subscription_id=f"sub_{member.pk}",
            user=member,
            status=status,
            plan=plans[0],
            **values,
        )
        membership_sync(user_id=member.pk)
        return type(member).objects.select_related("membership").get(pk=member.pk)

    return {
        **readers,
        "subscriber": subscribed("sue@example.com", SubscriptionStatus.ACTIVE),
        "cancelled": subscribed(
            "carl@example.com", SubscriptionStatus.CANCELED, ended_at=now - timedelta(days=1)
        ),
    }


@pytest.fixture
def cast_is_sound(cast, articles):
    """Guards the tests that ask the entitlement module what to expect against a module that
    says yes (or no) to everyone."""
    from articles.models import Visibility

    premium = articles[Visibility.PREMIUM]
    for name in ["anonymous", "unverified", "trial_over", "cancelled"]:
        assert not may_read(cast[name], premium), name
    for name in ["in_trial", "subscriber", "staff"]:
        assert may_read(cast[name], premium), name


@pytest.fixture
def fresh_cache(settings):
    """A cache of the test's own, so allauth's rate-limit counts start at zero."""
    settings.CACHES = {
        **settings.CACHES,
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "hardening",
        },
    }
    from django.core.cache import cache

    cache.clear()
