"""Fixtures of the members app's tests."""

import pytest


@pytest.fixture
def run_job(django_capture_on_commit_callbacks, eager_tasks):
    """run_job(task): what beat does, with the mail tasks it queues run here after commit."""

    def run(task, *args):
        with django_capture_on_commit_callbacks(execute=True):
            return task.delay(*args).get()

    return run
