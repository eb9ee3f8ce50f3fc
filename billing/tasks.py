"""Periodic billing work: a thin layer over billing.services.

Access never waits on these: it compares timestamps with the clock. They record what
the clock already decided, and catch up on Stripe events a lost webhook never brought.
"""

import logging

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded

from billing import services, stripe_api

log = logging.getLogger(__name__)


@shared_task
def grace_end_due_task() -> int:
    """Record the end of payment grace periods that ran out."""
    return services.grace_end_due()


@shared_task(
    autoretry_for=(stripe_api.APIConnectionError,),
    retry_backoff=60,
    max_retries=5,
    soft_time_limit=540,
    time_limit=600,
)
def stripe_reconcile_task() -> int:
    """Process recent Stripe events we have not, then start refreshing subscriptions, a page per task."""
    processed = services.stripe_reconcile_events()
    if processed:
        log.warning(
            "Reconcile processed %s Stripe event(s) that no webhook had delivered", processed
        )
    stripe_reconcile_subscriptions_task.delay()
    return processed


@shared_task(
    autoretry_for=(stripe_api.APIConnectionError,),
    retry_backoff=60,
    max_retries=5,
    soft_time_limit=120,
    time_limit=180,
)
def stripe_reconcile_subscriptions_task(starting_after: str | None = None) -> str | None:
    """Copy the changed subscriptions of one page of Stripe's, and queue the next page.

    A task per hundred subscriptions: however many there are, each task is short, a retry
    repeats one page, and workers interleave the pages with other work.
    """
    try:
        next_cursor = services.stripe_reconcile_subscriptions(starting_after=starting_after)
    except SoftTimeLimitExceeded:
        # A slow page (the first run after a deploy copies every subscription): the same page
        # again, which skips what this run copied (their digests now match), so the chain goes on.
        log.warning("Reconcile page after %s ran out of time; queued again", starting_after)
        stripe_reconcile_subscriptions_task.delay(starting_after=starting_after)
        return None
    if next_cursor:
        stripe_reconcile_subscriptions_task.delay(starting_after=next_cursor)
    return next_cursor
