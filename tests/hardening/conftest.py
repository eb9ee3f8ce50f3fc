"""What each reader may read, for the hardening tests."""

import pytest

from accounts import entitlements


def may_read(reader, article) -> bool:
    """What the one entitlement module says; any reader kind added to the cast (a subscriber,
    once billing adds one) is then judged here too."""
    from django.contrib.auth.models import AnonymousUser

    return entitlements.for_user(reader or AnonymousUser()).decide(article).full


@pytest.fixture
def cast_is_sound(readers, articles):
    """Guards the tests that ask the entitlement module what to expect against a module that
    says yes (or no) to everyone."""
    from articles.models import Visibility

    premium = articles[Visibility.PREMIUM]
    for name in ["anonymous", "unverified", "trial_over", "cancelled"]:
        assert not may_read(readers[name], premium), name
    for name in ["in_trial", "subscriber", "staff"]:
        assert may_read(readers[name], premium), name
