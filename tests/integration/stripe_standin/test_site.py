"""`make run`'s Stripe line, ``python -m stripe_standin.site``, as Procfile.dev runs it.

Each case starts the real process with the site's settings from the environment. The site
itself is played by a webhook receiver, and its database by a SQLite file that `make run`'s
own steps (migrate, seed_demo) prepared.
"""

import os
import queue
import socket
import sqlite3
import subprocess
import sys
import threading
import time

import pytest

from tests.config.test_settings import PROJECT_VARIABLES

from .conftest import WEBHOOK_SECRET, WebhookReceiver, control
from .process import REPO_ROOT

pytestmark = pytest.mark.standin
pytest.importorskip("django", reason="the site's stand-in sets up Django")  # run without it

SYNCED = "Pay in its checkout with 4242"


def site_environment(**variables):
    environment = {k: v for k, v in os.environ.items() if k not in PROJECT_VARIABLES}
    return {**environment, "PYTHONUNBUFFERED": "1", **variables}


def manage(*args, database_url):
    subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO_ROOT,
        env=site_environment(DEBUG="1", DATABASE_URL=database_url),
        check=True,
        capture_output=True,
        timeout=120,
    )


class SiteStandin:
    """``python -m stripe_standin.site`` as a real process, stopped on leaving the ``with``.

    A thread reads its output into a queue: select() on the pipe would miss lines that an
    earlier readline() had already pulled into Python's buffer.
    """

    def __init__(self, **variables):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "stripe_standin.site"],
            cwd=REPO_ROOT,
            env=site_environment(**variables),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.process.stdout:
            self.lines.put(line)
        self.lines.put(None)  # the output has ended

    def read_until(self, prefix, timeout=30):
        """The lines printed up to and including the first that starts with ``prefix``."""
        seen, deadline = [], time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                break
            if line is None:
                break
            seen.append(line)
            if line.startswith(prefix):
                return seen
        raise AssertionError(f"no line starting {prefix!r} in:\n{''.join(seen)}")

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.process.terminate()
        self.process.wait(timeout=5)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def demo_database(tmp_path_factory):
    """A SQLite database as `make run` leaves it before honcho starts: migrated, demo seeded."""
    database_url = f"sqlite:///{tmp_path_factory.mktemp('site') / 'db.sqlite3'}"
    manage("migrate", "--no-input", database_url=database_url)
    manage("seed_demo", database_url=database_url)
    return database_url


@pytest.fixture
def site():
    """Stands in for the running site: it records the webhooks posted to it."""
    receiver = WebhookReceiver()
    yield receiver
    receiver.server.shutdown()


def test_it_listens_at_stripe_api_base_posts_to_the_sites_webhook_and_sets_stripe_up(
    demo_database, site
):
    api_base = f"http://127.0.0.1:{free_port()}"
    site_url = f"http://127.0.0.1:{site.server.server_address[1]}"
    with SiteStandin(
        DEBUG="1",
        DATABASE_URL=demo_database,
        STRIPE_API_BASE=api_base,
        SITE_URL=site_url,
        STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET,
    ) as standin:
        lines = standin.read_until(SYNCED)
        assert lines[0] == (
            f"Stripe stand-in listening on {api_base}, "
            f"webhooks to {site_url}/billing/stripe/webhook/\n"
        )

        _, state = control(api_base, "/_standin/state", method="GET")
        with sqlite3.connect(demo_database.removeprefix("sqlite:///")) as db:
            plans = dict(db.execute("SELECT lookup_key, stripe_price_id FROM billing_plan"))
        assert plans and plans == {p["lookup_key"]: p["id"] for p in state["prices"].values()}
        # stripe_setup, as a deploy runs it, found the endpoint it posts to and adopted it
        (endpoint,) = state["webhook_endpoints"].values()
        assert endpoint["url"] == f"{site_url}/billing/stripe/webhook/"
        assert endpoint["metadata"] == {"masthead_site": site_url}
        assert "*" not in endpoint["enabled_events"]
        assert len(state["billing_portal_configurations"]) == 1

        status, counts = control(api_base, "/_standin/deliveries/wait")
        assert status == 200 and counts["pending"] == counts["failed"] == 0, counts
        assert {d["path"] for d in site.received} == {"/billing/stripe/webhook/"}
        events = site.accepted_events()  # each verified with STRIPE_WEBHOOK_SECRET
        assert sorted(e.data.object.id for e in events if e.type == "price.created") == sorted(
            plans.values()
        )


def test_with_a_stripe_secret_key_it_serves_nothing_and_stays_up_for_honcho():
    with SiteStandin(DEBUG="1", STRIPE_SECRET_KEY="sk_test_a1b2c3") as standin:
        assert standin.read_until("STRIPE_SECRET_KEY is set") == [
            "STRIPE_SECRET_KEY is set: the site talks to Stripe, no stand-in needed.\n"
        ]
        with pytest.raises(subprocess.TimeoutExpired):  # honcho stops them all when one exits
            standin.process.wait(timeout=1)


def test_with_debug_off_it_does_not_start():
    """Production settings refuse to load without a Stripe key, and with one it only waits."""
    result = subprocess.run(
        [sys.executable, "-m", "stripe_standin.site"],
        cwd=REPO_ROOT,
        env=site_environment(DEBUG="0"),
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "listening" not in result.stdout + result.stderr
