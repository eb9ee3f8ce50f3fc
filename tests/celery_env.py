"""Gives each test process a Celery broker namespace of its own, before Django reads its settings.

Loaded with `-p tests.celery_env` (pyproject's addopts), because pytest-django evaluates
the settings before any conftest is imported. The broker is the Redis at TEST_REDIS_URL
(scripts/test-services sets it when one answers), else a filesystem broker in a temporary
folder. Each process (and each xdist worker) gets its own queue names, so two test
processes sharing a Redis never take each other's tasks, and tasks queued by tests never
land in the local run's var/celery/.
"""

import os
import shutil
import tempfile
import uuid

os.environ["CELERY_TASK_DEFAULT_QUEUE"] = f"test-{uuid.uuid4().hex[:12]}"
if os.environ.get("TEST_REDIS_URL"):
    os.environ["CELERY_BROKER_URL"] = os.environ["TEST_REDIS_URL"]
else:
    os.environ["CELERY_BROKER_URL"] = "filesystem://localhost/"
    os.environ["CELERY_FILESYSTEM_FOLDER"] = tempfile.mkdtemp(prefix="masthead-celery-")


def pytest_unconfigure(config):
    """Leave no queues behind: the Redis outlives the run."""
    if os.environ.get("TEST_REDIS_URL"):
        import redis

        client = redis.Redis.from_url(os.environ["TEST_REDIS_URL"])
        for key in client.scan_iter(
            f"*{os.environ['CELERY_TASK_DEFAULT_QUEUE']}*"
        ):  # queues and their bindings
            client.delete(key)
    folder = os.environ.get("CELERY_FILESYSTEM_FOLDER", "")
    if folder.startswith(tempfile.gettempdir()):
        shutil.rmtree(folder, ignore_errors=True)
