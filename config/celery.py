"""The Celery app: trial ends, reminders and member mail run here, never in a request.

Configured from Django settings (the CELERY_* names), tasks found in each app's tasks.py.
Run with `celery -A config worker` and `celery -A config beat` (see Procfile.dev).
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("masthead")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
