"""A real Celery worker process for the tests, on the test database and the test session's broker.

The worker is `python -m celery -A config worker`, started with the environment of
this test process (tests/celery_env.py gave it a broker namespace of its own: Redis
when TEST_REDIS_URL is set, else a filesystem broker in a temporary folder), plus:
- DATABASE_URL naming the database this test uses, so the worker sees committed rows
  (tests using it are transactional);
- the file-based mail backend in a temporary folder, so a test counts the mail sent.
"""

import email
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection

from config.celery import app as current_app

# The worker needs a database another process can open: pytest-django's SQLite test
# database lives in this process's memory.
needs_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="a worker process needs a shared database: run with DATABASE_URL=postgres://...",
)

SEPARATOR = b"\n" + b"-" * 79 + b"\n"  # what the file-based backend writes after each message


def wait_until(condition, *, timeout=40.0, what="the condition"):
    """Poll until condition() is true; fail after timeout seconds. Returns condition()'s value."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.02)


def database_url() -> str:
    db = connection.settings_dict
    password = f":{quote(db['PASSWORD'], safe='')}" if db["PASSWORD"] else ""
    return f"postgres://{quote(db['USER'] or 'postgres', safe='')}{password}@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{db['NAME']}"


def queued(queue: str) -> int:
    """Messages waiting in a queue of the test session's broker."""
    with current_app.connection_for_write() as conn:
        return conn.default_channel.queue_declare(queue=queue).message_count


class Worker:
    def __init__(self, folder: Path, **settings):
        self.mail_dir = folder / "mail"
        self.mail_dir.mkdir(parents=True)
        self.log = folder / "worker.log"
        self.process = None
        self.env = {
            **os.environ,
            "DEBUG": "1",
            "DATABASE_URL": database_url(),
            "DATABASE_CONN_MAX_AGE": "0",
            "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "EMAIL_FILE_PATH": str(self.mail_dir),
            **{name: str(value) for name, value in settings.items()},
        }
        self.default_queue = current_app.conf.task_default_queue
        self.mail_queue = f"{self.default_queue}.mail"
        self.newsletter_queue = f"{self.default_queue}.newsletter"

    def start(self, *, queues: list[str] | None = None):
        """Start the worker and wait until it is ready. queues: consume only these."""
        assert self.process is None, "already running"
        command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "-l",
            "info",
            "--concurrency",
            "2",
        ]
        command += ["-n", f"test-{uuid.uuid4().hex[:8]}@%h", "--without-mingle", "--without-gossip"]
        if queues:
            command += ["-Q", ",".join(queues)]
        self.log.write_text("")
        with self.log.open("ab") as log:
            # a session of its own, so kill() reaches the pool processes too
            self.process = subprocess.Popen(
                command, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        wait_until(
            lambda: " ready." in self.log.read_text() or self.process.poll() is not None,
            what="the worker to start",
        )
        assert self.process.poll() is None, f"the worker did not start:\n{self.log.read_text()}"

    def kill(self):
        """SIGKILL the worker and its pool processes, as a crash or the OOM killer would."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)
        self.process = None

    def stop(self):
        """Warm shutdown: finish the tasks in hand, then exit."""
        if self.process is None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)
        self.process = None

    def drain(self):
        """Wait until every queue is empty, then stop, so every task handed out has finished."""
        wait_until(
            lambda: all(
                queued(q) == 0 for q in (self.default_queue, self.mail_queue, self.newsletter_queue)
            ),
            what="the queues to empty",
        )
        self.stop()

    def mails(self) -> list[email.message.Message]:
        messages = []
        for path in sorted(self.mail_dir.iterdir()):
            messages += [
                email.message_from_bytes(part)
                for part in path.read_bytes().split(SEPARATOR)
                if part.strip()
            ]
        return messages


@pytest.fixture
def make_worker(transactional_db, tmp_path):
    """make_worker(TRIAL_SWEEP_CHUNK=10) -> a Worker, not yet started; stopped after the test."""
    current_app.control.purge()  # nothing left over from an earlier test in this process
    workers = []

    def make(**settings):
        worker = Worker(tmp_path / f"worker{len(workers)}", **settings)
        workers.append(worker)
        return worker

    yield make
    for worker in workers:
        worker.stop()
