"""Newsletter sends on the workers: a thin layer over articles.newsletter.

On their own queue (CELERY_NEWSLETTER_QUEUE), so account mail is never stuck behind a newsletter.
Tasks take ids, are acknowledged when done and are safe to run twice.
"""

from celery import shared_task

from accounts.models import Newsletter
from accounts.tasks import MAIL_RETRY
from articles import newsletter
from articles.models import Article


@shared_task(soft_time_limit=240, time_limit=300)
def newsletter_plan_task(send_id: int) -> int:
    """Record a send's recipients and queue their batches."""
    return newsletter.send_plan(send_id=send_id)


@shared_task(**{**MAIL_RETRY, "soft_time_limit": 240, "time_limit": 300})
def newsletter_send_batch_task(send_id: int, first_id: int, last_id: int) -> int:
    """Mail one batch of a send's recipients, each once; a transport error retries the rest."""
    return newsletter.send_batch(send_id=send_id, first_id=first_id, last_id=last_id)


@shared_task(soft_time_limit=60, time_limit=90)
def newsletter_sends_start_due_task() -> int:
    """Every minute: start the sends scheduled for an article's publish time once it has come."""
    return newsletter.sends_start_due()


@shared_task(**MAIL_RETRY)
def newsletter_test_task(article_id: int, newsletter_id: int, email: str) -> int:
    """A test send to one address (the admin's "send a test to yourself", the command's --test-to)."""
    return newsletter.send_test(
        article=Article.objects.get(pk=article_id),
        newsletter=Newsletter.objects.get(pk=newsletter_id),
        email=email,
    )
