"""The suites that need real infrastructure beyond PostgreSQL and Redis, kept in one place.

- browser/: Debian's Chromium driven through the reader's journey and axe-core's checks;
- worker/: a real Celery worker process running the periodic jobs and member mail;
- stripe_standin/: the Stripe stand-in's own suite, against the real process;
- processes/: the Procfiles' process sets through honcho: the production set's smoke test
  (DEBUG off, gunicorn, workers, beat, the release step) and the folders each set writes.

Every test under this folder is marked `integration`, so `pytest -m "not integration"` is the
fast inner loop; `make test` (and CI) run everything. Billing's own tests, which use the
stand-in as Stripe's side of the network, stay with billing's units (tests/billing/).
"""

from pathlib import Path

import pytest

HERE = Path(__file__).parent


def pytest_collection_modifyitems(config, items):
    # A conftest's hook sees the whole session's items: mark only this folder's.
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.integration)
