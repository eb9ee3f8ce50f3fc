"""The Celery app: trial ends, reminders and member mail run here, never in a request.

Configured from Django settings (the CELERY_* names), tasks found in each app's tasks.py.
Run with `celery -A config worker` and `celery -A config beat` (see Procfile and Procfile.dev).
"""

import os
from pathlib import Path

from celery import Celery
from celery.beat import PersistentScheduler

from config.env import folder_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("masthead")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


class Scheduler(PersistentScheduler):
    """Celery's own scheduler (CELERY_BEAT_SCHEDULER), which first makes its schedule file's folder.

    Only beat writes that file, so only beat makes the folder: on a fresh clone or a new volume
    Celery would otherwise fail to open it and stop. The file is CELERY_BEAT_SCHEDULE_FILENAME,
    or what `beat -s` names.
    """

    def setup_schedule(self):
        folder_ready(
            "CELERY_BEAT_SCHEDULE_FILENAME (or beat's -s)",
            Path(self.schedule_filename).absolute().parent,
        )
        super().setup_schedule()
