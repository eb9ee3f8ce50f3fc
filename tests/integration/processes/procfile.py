"""Running a Procfile's processes through honcho, as `make run` and a Procfile platform do, and
stopping every one of them, verified.

Each run carries a marker in its environment, which every process it starts inherits (the shells,
gunicorn's and Celery's pool processes): after the stop, no process on this machine may still
carry it.
"""

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
BIN = Path(sys.executable).parent  # the venv's python, gunicorn, celery and honcho
MARKER = "MASTHEAD_TEST_PROCESSES"

# What the project's processes read: a test gives each explicitly or not at all.
PROJECT_VARIABLES = {
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "SITE_URL",
    "DATABASE_URL",
    "REDIS_URL",
    "TEST_REDIS_URL",
    "SESSION_ENGINE",
    "DJANGO_SETTINGS_MODULE",
    "STRIPE_SECRET_KEY",
    "STRIPE_WEBHOOK_SECRET",
    "STRIPE_API_BASE",
    "EMAIL_BACKEND",
    "EMAIL_FILE_PATH",
    "CELERY_BROKER_URL",
    "CELERY_FILESYSTEM_FOLDER",
    "CELERY_TASK_DEFAULT_QUEUE",
    "CELERY_BEAT_SCHEDULE_FILENAME",
    "STATIC_ROOT",
    "MEDIA_ROOT",
    "TRIAL_END_SWEEP_SECONDS",
    "PORT",
    "WEB_CONCURRENCY",
    "GUNICORN_CMD_ARGS",
}


def environment(**variables) -> dict[str, str]:
    """This process's environment without the project's variables, plus `variables`, with the
    venv's commands first on PATH (a deploy's `python`, `gunicorn`, `celery`)."""
    env = {k: v for k, v in os.environ.items() if k not in PROJECT_VARIABLES}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONUNBUFFERED"] = "1"  # log lines as they happen, for the waits below
    env.update({name: str(value) for name, value in variables.items()})
    return env


def wait_until(condition, *, timeout: float, what: str, log: Path | None = None):
    """Poll condition() until it is true; fail after timeout seconds, showing the log's end."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            tail = "\n".join(log.read_text(errors="replace").splitlines()[-60:]) if log else ""
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}\n{tail}")
        time.sleep(0.1)


def marked_processes(marker: str) -> list[int]:
    """The pids of the live processes whose environment carries this run's marker."""
    needle = f"{MARKER}={marker}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if needle in (entry / "environ").read_bytes().split(b"\0"):
                state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
                if state != "Z":  # a zombie has ended; only its parent's wait is missing
                    found.append(int(entry.name))
        except OSError:  # gone meanwhile, or another user's
            continue
    return found


class Honcho:
    """`honcho -f <procfile> start <names>` in a session of its own, its output in a log file."""

    def __init__(self, procfile: Path, names: list[str], env: dict[str, str], log: Path):
        self.marker = uuid.uuid4().hex
        self.log = log
        self.cwd = procfile.parent  # the Procfile's commands run from the checkout they are in
        self.command = [str(BIN / "honcho"), "--no-colour", "-f", str(procfile), "start", *names]
        self.env = {**env, MARKER: self.marker}
        self.process = None

    def start(self):
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                self.command,
                cwd=self.cwd,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for_line(self, pattern: str, *, timeout: float = 60) -> re.Match:
        """Wait for a line of output matching pattern; fail at once if honcho has stopped."""

        def seen():
            match = re.search(pattern, self.output(), re.MULTILINE)
            if match is None and self.process.poll() is not None:
                raise AssertionError(f"honcho stopped before {pattern!r}:\n{self.output()}")
            return match

        return wait_until(seen, timeout=timeout, what=repr(pattern), log=self.log)

    def wait(self, timeout: float) -> int:
        return self.process.wait(timeout)

    def stop(self):
        """SIGTERM to honcho, which stops each process's group (and SIGKILLs what is left after
        5 s); then verify that nothing this run started is alive, killing and failing if so."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
        # honcho has waited for its children; their own children may take a moment to follow
        left = []
        deadline = time.monotonic() + 10
        while (left := marked_processes(self.marker)) and time.monotonic() < deadline:
            time.sleep(0.1)
        for pid in left:
            with contextlib.suppress(ProcessLookupError):  # it ended meanwhile after all
                os.kill(pid, signal.SIGKILL)
        assert not left, f"processes still running after the stop: {left}\n{self.output()}"

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
