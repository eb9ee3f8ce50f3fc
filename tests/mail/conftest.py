import pytest

from config.celery import app


@pytest.fixture
def eager_tasks():
    """Run queued tasks at once, in this process. For unit tests of single tasks only."""
    app.conf.update(task_always_eager=True, task_eager_propagates=True)
    yield
    app.conf.update(task_always_eager=False, task_eager_propagates=False)
