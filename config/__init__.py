# Load the Celery app with Django, so tasks queued from Django code use its settings.
from config.celery import app as celery_app

__all__ = ("celery_app",)
