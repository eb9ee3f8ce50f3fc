"""Periodic billing work: a thin layer over billing.services.

Access never waits on these: it compares timestamps with the clock. They record what
the clock already decided, and catch up on Stripe events a lost webhook never brought.
"""

import logging

from celery import shared_task

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
    """Process recent Stripe events we have not, and refresh every live subscription."""
    processed = services.stripe_reconcile()
    if processed:
        log.warning(
            "Reconcile processed %s Stripe event(s) that no webhook had delivered", processed
        )
    return processed
