"""Every path a process writes is made when it starts, or lives under a folder a setting names.

`make run` on a fresh clone, with CELERY_FILESYSTEM_FOLDER outside it, used to exit 2: beat's
schedule file was `var/celerybeat-schedule` (Procfile.dev's `-s`), in a `var/` nobody had made.
Here Procfile.dev's worker and beat run in a fresh copy of the checkout, as `make run` starts
them after its migrate. (Its web and stand-in listen on fixed ports, so they are left out; they
write nothing but the database, which the migrate has made.) The production set's folders
(static files, mail, beat's schedule) are made by the smoke test's processes (test_smoke.py);
the settings' own folders on start-up are in tests/config/test_settings.py.
"""

import shutil
import subprocess
import sys
from pathlib import Path

from tests.integration.processes.procfile import REPO, Honcho, environment


def fresh_clone(folder: Path) -> Path:
    """The checkout's files as git knows them (with their changes, not yet committed), and no
    var/, db.sqlite3 or anything else a run leaves; the virtualenv linked, as `make` makes one."""
    files = subprocess.run(
        ["git", "ls-files", "-z"], cwd=REPO, check=True, capture_output=True
    ).stdout.split(b"\0")
    for name in filter(None, files):
        source = REPO / name.decode()
        if source.is_file():  # a file deleted in the working tree is not in the clone either
            (folder / name.decode()).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, folder / name.decode())
    (folder / ".venv").symlink_to(Path(sys.prefix))
    return folder


def test_make_runs_worker_and_beat_start_on_a_fresh_clone_with_the_broker_folder_outside(
    tmp_path,
):
    clone = fresh_clone(tmp_path / "clone")
    outside = tmp_path / "elsewhere" / "celery"  # not made yet either
    env = environment(
        DEBUG="1",
        CELERY_FILESYSTEM_FOLDER=outside,
        # uploads outside too (every process makes MEDIA_ROOT at start), so var/ is beat's alone
        MEDIA_ROOT=tmp_path / "elsewhere" / "media",
        TRIAL_END_SWEEP_SECONDS="1",
    )
    subprocess.run(
        [".venv/bin/python", "manage.py", "migrate", "--no-input"],
        cwd=clone,
        env=env,
        check=True,
        capture_output=True,
    )
    assert not (clone / "var").exists()

    with Honcho(clone / "Procfile.dev", ["worker", "beat"], env, tmp_path / "run.log") as run:
        # beat sends the trial sweep every second; the worker takes it from the broker's folder
        run.wait_for_line(r"Task accounts\.tasks\.trials_end_due_task\[\S+\] succeeded", timeout=60)

    assert list((clone / "var").glob("celerybeat-schedule*")), "beat kept no schedule"
    assert (outside / "queue").is_dir()


def test_beat_that_cannot_make_its_schedule_folder_stops_naming_the_setting(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    env = environment(
        DEBUG="1",
        CELERY_FILESYSTEM_FOLDER=tmp_path / "celery",
        CELERY_BEAT_SCHEDULE_FILENAME=blocker / "beat" / "celerybeat-schedule",
    )

    result = subprocess.run(
        [sys.executable, "-m", "celery", "-A", "config", "beat"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode != 0
    assert (
        f"CELERY_BEAT_SCHEDULE_FILENAME (or beat's -s) names {str(blocker / 'beat')!r}, "
        "which cannot be created" in result.stdout + result.stderr
    )
