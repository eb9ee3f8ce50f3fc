"""Background work for members: a thin layer over accounts.mail, accounts.lifecycle and accounts.services.

Tasks take ids or keys, are safe to run twice, and are acknowledged only when done
(acks_late), so a worker that dies mid-task leaves the message to be run again.
"""

import logging
import smtplib
from datetime import timedelta

from anymail.exceptions import AnymailAPIError
from celery import shared_task
from django.db import OperationalError
from django.utils import timezone

from accounts import lifecycle, mail, services

log = logging.getLogger(__name__)

# Worth retrying: the mail server, the provider's API or the network, not the message.
TRANSPORT_ERRORS = (
    smtplib.SMTPServerDisconnected,
    smtplib.SMTPConnectError,
    smtplib.SMTPHeloError,
    OSError,
    AnymailAPIError,
)
MAIL_RETRY = {
    # and the database going away for a moment (or SQLite's lock, in the local run)
    "autoretry_for": (*TRANSPORT_ERRORS, smtplib.SMTPResponseException, OperationalError),
    "retry_backoff": 10,  # 10 s, 20 s, 40 s ... with jitter
    "retry_backoff_max": 30 * 60,
    "max_retries": 10,  # about five hours; after that the periodic requeue tries again
    "soft_time_limit": 60,
    "time_limit": 90,
}


@shared_task(**{**MAIL_RETRY, "soft_time_limit": 240, "time_limit": 300})
def mail_send_task(keys: list[str]) -> int:
    """Send recorded messages (accounts.mail.queue and the sweeps queue them), each once. Returns how many went.

    A transport error stops the batch and retries it; messages already sent are
    skipped on the retry. A refused recipient does not hold up the rest.
    """
    sent = 0
    for key in keys:
        try:
            sent += mail.deliver_recorded(key)
        except smtplib.SMTPRecipientsRefused:
            log.warning("Mail server refused the recipient of %s; left unsent", key)
    return sent


# The periodic jobs (CELERY_BEAT_SCHEDULE). Each is safe to run twice, or twice at once.


@shared_task(soft_time_limit=240, time_limit=300)
def trials_end_due_task() -> int:
    """Every minute: mark due trials ended and queue their trial-ended mail."""
    return lifecycle.trials_end_due()


@shared_task(soft_time_limit=240, time_limit=300)
def trials_remind_ending_task() -> int:
    """Every few minutes: queue the "trial ends in 2 days" mail, once per trial."""
    return lifecycle.trials_remind_ending()


@shared_task(soft_time_limit=240, time_limit=300)
def mail_requeue_unsent_task(older_than_seconds: int = 600) -> int:
    """Every quarter hour: queue again recorded mail that never went out."""
    return lifecycle.mail_requeue_unsent(older_than=timedelta(seconds=older_than_seconds))


@shared_task
def complimentary_end_due_task() -> int:
    """Every hour: record the end of complimentary grants past their date (the clock already ended them)."""
    return services.complimentary_end_due()


@shared_task(soft_time_limit=240, time_limit=300)
def meter_reads_prune_task() -> int:
    """Every day: delete meter reads from before the previous month (they count for nothing)."""
    return services.meter_reads_prune(now=timezone.now())
