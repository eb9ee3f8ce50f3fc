"""config/gunicorn.py, the web process's settings: a bad worker count stops start-up naming it."""

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_zero_web_workers_stops_gunicorn_naming_the_setting():
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            "config/gunicorn.py",
            "--check-config",
            "config.wsgi",
        ],
        cwd=REPO,
        env={**os.environ, "WEB_CONCURRENCY": "0"},
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert "WEB_CONCURRENCY must be a whole number of workers, at least 1, not '0'." in (
        result.stdout + result.stderr
    )
