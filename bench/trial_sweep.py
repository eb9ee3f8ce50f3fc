"""The trial-expiry benchmark: 1,000,000 due trials among 1,500,000 members, swept on PostgreSQL.

    python bench/trial_sweep.py [--due 1000000] [--members 1500000] [--chunk 1000]
    make bench-trials

Seeds the members with one INSERT ... SELECT over generate_series (database `bench`,
created if missing; BENCH_DATABASE_URL to change it), then runs the sweep the periodic
task runs, accounts.lifecycle.trials_end_due, in this process: chunk by chunk it locks
the next due rows from membership_trial_due_idx, marks them ended, records their trial-ended
mail (SentMail) and, after each commit, queues the sending tasks on a real broker
(Redis at BENCH_BROKER_URL, default redis://127.0.0.1:6379/3, queue "bench-trials").
What is timed is that whole sweep, queueing included; the sending of a million mails
is the workers' job afterwards and is not part of it (the queue is purged at the end).

Prints the plan of the chunk query, the time, rows per second, and exits 1 if the
sweep takes longer than the 60 s target (issue 4).
"""

import argparse
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from seeding import insert_series  # noqa: E402  (bench/, beside this script)

DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench")
BROKER_URL = os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/3")
TARGET_SECONDS = 60.0


def create_database_if_missing(url: str) -> None:
    import psycopg
    from psycopg import sql

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            print(f"created database {name}")


def setup_django() -> None:
    os.environ.update(
        DEBUG="1",
        DATABASE_URL=DATABASE_URL,
        CELERY_BROKER_URL=BROKER_URL,
        CELERY_TASK_DEFAULT_QUEUE="bench-trials",
        LOG_LEVEL="WARNING",
    )
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django
    from django.conf import settings

    django.setup()
    settings.DEBUG = False  # no query log: a million rows' SQL would fill the memory


def seed(members: int, due: int) -> None:
    """members rows: `due` trials past their end, the rest half ended earlier, half running."""
    from django.contrib.auth.hashers import make_password
    from django.db import connection

    from accounts.models import Membership, User

    member = {"email": "'bench' || g || '@example.com'", "password": "%(password)s"}
    membership = {
        "user": "g",
        "email_verified_at": "now() - interval '8 days'",
        # due: ended between 1 minute and ~11 days ago; then already ended; then running
        "trial_started_at": "now() - interval '7 days' - (g %% 1000000) * interval '1 second' "
        "+ CASE WHEN g > %(due)s AND g %% 2 = 0 THEN interval '30 days' ELSE interval '0' END",
        "trial_ends_at": "now() - interval '1 minute' - (g %% 1000000) * interval '1 second' "
        "+ CASE WHEN g > %(due)s AND g %% 2 = 0 THEN interval '30 days' ELSE interval '0' END",
        "trial_ended_at": "CASE WHEN g > %(due)s AND g %% 2 = 1 THEN now() - interval '1 day' END",
    }
    params = {"password": make_password(None), "due": due, "members": members}
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE accounts_user, accounts_membership, accounts_sentmail RESTART IDENTITY CASCADE"
        )
        for model, special in ((User, member), (Membership, membership)):
            insert_series(cursor, model, special, params, count="members")  # member g's id is g
            table = model._meta.db_table
            cursor.execute(f"VACUUM ANALYZE {table}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=1_500_000)
    parser.add_argument("--due", type=int, default=1_000_000)
    parser.add_argument(
        "--chunk", type=int, default=None, help="rows per transaction (default: TRIAL_SWEEP_CHUNK)"
    )
    args = parser.parse_args()

    create_database_if_missing(DATABASE_URL)
    setup_django()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    from accounts import lifecycle
    from accounts.models import Membership, SentMail
    from config.celery import app

    chunk = args.chunk or settings.TRIAL_SWEEP_CHUNK
    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    seed(args.members, args.due)
    print(
        f"seeded {args.members:,} members, {args.due:,} of them due, in {time.perf_counter() - started:.1f} s"
    )
    app.control.purge()

    now = timezone.now()
    with transaction.atomic():
        print(f"\nThe sweep's chunk query ({chunk} rows), as PostgreSQL runs it:")
        print(lifecycle.due_chunk(now, chunk).explain(analyze=True, buffers=True))
        transaction.set_rollback(True)

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    server_cpu, client_cpu = _cpu_seconds(backend), time.process_time()
    started = time.perf_counter()
    ended = lifecycle.trials_end_due(now=now, chunk=chunk)
    seconds = time.perf_counter() - started
    server_cpu, client_cpu = _cpu_seconds(backend) - server_cpu, time.process_time() - client_cpu

    assert ended == args.due, f"ended {ended:,}, expected {args.due:,}"
    assert not Membership.objects.trials_due(now).exists()
    assert SentMail.objects.count() == args.due
    with app.connection_for_write() as conn:
        queued = conn.default_channel.queue_declare(queue=settings.CELERY_MAIL_QUEUE).message_count
    app.control.purge()  # the mail itself is the workers' business, not this benchmark's
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        version = cursor.fetchone()[0].split(",")[0]

    print(
        f"\nSwept {ended:,} due trials among {args.members:,} members in {seconds:.1f} s "
        f"({ended / seconds:,.0f} rows/s): {ended // chunk + bool(ended % chunk):,} transactions of {chunk}, "
        f"{ended:,} mails recorded, {queued:,} sending tasks queued on {BROKER_URL.split('://')[0]}."
    )
    print(
        f"CPU time: PostgreSQL backend {server_cpu:.1f} s, this process {client_cpu:.1f} s "
        f"(the rest of the wall time is waiting: disk, and other processes on the CPUs; load average "
        f"{os.getloadavg()[0]:.1f} at the end)."
    )
    print(f"{version}, {os.cpu_count()} CPUs. Target: {TARGET_SECONDS:.0f} s.")
    if seconds > TARGET_SECONDS:
        print("TARGET MISSED")
        return 1
    return 0


def _cpu_seconds(pid: int) -> float:
    """CPU seconds a local process has used so far (PostgreSQL runs on this machine here)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


if __name__ == "__main__":
    sys.exit(main())
