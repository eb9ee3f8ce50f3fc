"""The members app's periodic jobs are scheduled and registered (accounts/tasks.py)."""

from django.conf import settings

from config.celery import app


def test_the_complimentary_job_is_scheduled_and_registered():
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    app.loader.import_default_modules()
    assert "accounts.tasks.complimentary_end_due_task" in scheduled
    assert "accounts.tasks.complimentary_end_due_task" in app.tasks
