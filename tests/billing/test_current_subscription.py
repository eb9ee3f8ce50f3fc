"""The access lookup (one SQL statement per signed-in request) picks the subscription that matters.

accounts/entitlements.py writes its per-request query by hand for speed; these hold it to the
ORM's definition of a member's current subscription (`current_first()`), which the account
page and billing use, over any mix of statuses and start dates, ties included.
"""

import time
from datetime import timedelta

from hypothesis import HealthCheck, given, settings as hypothesis_settings, strategies as st
from django.utils import timezone

from accounts.entitlements import State, for_user
from billing.models import ComplimentaryAccess, Subscription, SubscriptionStatus

NOW = timezone.now().replace(microsecond=0)


@hypothesis_settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    history=st.lists(
        st.tuples(st.sampled_from(sorted(SubscriptionStatus)), st.integers(0, 2)), max_size=4
    )
)
def test_the_access_lookup_picks_the_subscription_the_account_page_shows(
    make_member, plans, history
):
    member = make_member(f"reader-{time.monotonic_ns()}@example.com", trial="over")
    for number, (status, days_ago) in enumerate(history):
        Subscription.objects.create(
            stripe_subscription_id=f"sub_{member.pk}_{number}",
            user=member,
            status=status,
            started_at=NOW
            - timedelta(days=days_ago),  # equal start dates happen: the tie-break must agree too
            current_period_end=NOW + timedelta(days=20),
            synced_at=NOW,
            plan=plans[0],
            amount=1200,
            currency="gbp",
        )

    access = for_user(member)

    current = Subscription.objects.filter(user=member).current_first().first()
    assert access.subscription == current
    assert (access.state == State.SUBSCRIBER) == (
        current is not None and current.status in ("active", "trialing")
    )


def test_the_latest_ending_grant_in_force_sets_the_end_of_complimentary_access(make_member):
    member = make_member("guest@example.com", trial="over")
    sooner = ComplimentaryAccess.objects.create(
        user=member,
        starts_at=NOW - timedelta(days=1),
        until=NOW + timedelta(days=3),
        reason="Panel",
    )
    later = ComplimentaryAccess.objects.create(
        user=member,
        starts_at=NOW - timedelta(days=1),
        until=NOW + timedelta(days=30),
        reason="Press",
    )
    ComplimentaryAccess.objects.create(
        user=member,
        starts_at=NOW + timedelta(days=60),
        until=NOW + timedelta(days=90),
        reason="Later",
    )

    access = for_user(member, now=NOW)

    assert access.state == State.COMPLIMENTARY
    assert access.access_until == later.until  # an aware datetime on every database
    assert for_user(member, now=later.until).state == State.TRIAL_OVER
    assert for_user(member, now=sooner.until).access_until == later.until
