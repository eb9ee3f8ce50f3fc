"""Starting the Stripe stand-in as a real process, and calling its control API: shared by the
stand-in's and billing's tests (standard library only, so the stand-in's suite runs without Django)."""

import json
import os
import select
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]
READY = "Stripe stand-in listening on "


@contextmanager
def running_standin(log_path: Path, *extra_args: str, timeout: float = 15):
    """``python -m stripe_standin`` on a free port; yields its base URL, stops it afterwards."""
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "stripe_standin",
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                *extra_args,
            ],
            cwd=REPO_ROOT,
            stdout=subprocess.PIPE,
            stderr=log,  # a file, not a pipe nobody drains
            text=True,
            env=dict(os.environ, PYTHONUNBUFFERED="1"),
        )
    try:
        yield _wait_until_ready(process, log_path, timeout)
    finally:
        process.terminate()
        process.wait(timeout=5)


def _wait_until_ready(process, log_path, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([process.stdout], [], [], 0.1)
        if ready:
            line = process.stdout.readline()
            if line.startswith(READY):
                return line.split(" on ", 1)[1].strip().split(",")[0]
        if process.poll() is not None:
            break
    process.kill()
    raise RuntimeError("The stand-in did not start:\n" + Path(log_path).read_text())


_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never a proxy


def control(base_url, path, data=None, method="POST"):
    """Call the stand-in's control API; returns (status, decoded JSON)."""
    body = json.dumps(data or {}).encode() if method == "POST" else None
    request = urllib.request.Request(
        base_url + path, data=body, method=method, headers={"Content-Type": "application/json"}
    )
    try:
        with _opener.open(request, timeout=15) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())
