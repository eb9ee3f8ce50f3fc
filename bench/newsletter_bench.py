"""The newsletter benchmark: an article sent to 1,000,000 subscribers, planned, then mailed by workers.

    python bench/newsletter_bench.py [--subscribers 1000000] [--concurrency 3]
                                     [--warmup 10000] [--window 20000]
    make bench-newsletter

Seeds PostgreSQL (database `bench_newsletter`, created if missing; BENCH_NEWSLETTER_DATABASE_URL
to change it) with one INSERT ... SELECT over generate_series per table: the members, their
Membership rows (all verified; a third entitled: half of those in a running trial, half with an
active subscription; the rest past their trial, cancelled, or newsletter-only), one newsletter
they are all on, and one premium article with a long body. Then, on production settings:

1. **Planning**: `articles.newsletter.send_plan` runs in this process, recording every recipient
   (a NewsletterDelivery row each) and queueing one sending task per NEWSLETTER_BATCH rows on a
   real broker (Redis at BENCH_NEWSLETTER_BROKER_URL, default redis://127.0.0.1:6379/4, queue
   "bench-newsletter.newsletter"). Its baseline, the floor: one plain INSERT ... SELECT of the
   same rows from the same query, into the same (then emptied) table, just before it.
   Target: 60 s for 1,000,000 recipients.
2. **Sending**: real Celery workers (`python -m celery -A config worker -Q <that queue>
   --concurrency N`) mail the queued batches through Django's SMTP backend to a local SMTP sink
   (aiosmtpd, in a process of its own) that counts messages and bytes. The rate is taken over a
   window after a warm-up (by default messages 10,000 to 30,000), then the send is cancelled
   (`send_cancel`) and the workers stopped. Its baseline, the ceiling: the sink's rate when one
   process sends pre-rendered messages of the same size to it with a plain smtplib loop, measured
   before and after the workers. Target: 500 messages/s; each worker process's peak RSS (VmHWM)
   is printed at the start and the end of the window, to show it stays flat.

Before it trusts a figure it checks what was mailed: every message the sink got is a sent row,
the premium body went in exactly the messages of rows marked full text, and those are exactly the
entitled members. Prints the query plan of a planning chunk, the CPU time each part used, the
load average, and exits 1 if a target is missed or a check fails. The queue is purged and every
process it started is stopped before it exits.
"""

import argparse
import multiprocessing
import os
import shutil
import signal
import smtplib
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from seeding import insert_series  # noqa: E402  (bench/, beside this script)

DATABASE_URL = os.environ.get(
    "BENCH_NEWSLETTER_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench_newsletter"
)
BROKER_URL = os.environ.get("BENCH_NEWSLETTER_BROKER_URL", "redis://127.0.0.1:6379/4")
QUEUE_PREFIX = "bench-newsletter"  # the newsletter queue is "<it>.newsletter" (config/settings.py)
HOST = "127.0.0.1"
PLAN_TARGET_SECONDS = 60.0
SEND_TARGET_RATE = 500.0
# The worker concurrency the README recommends for 2 cores (docs/performance.md says why).
RECOMMENDED_CONCURRENCY = 3
CEILING_SECONDS = 5.0
# A paragraph of its own, short enough that no encoding of the message splits it: the sink counts
# the messages that carry the premium body by it.
BODY_MARKER = "Bench-newsletter premium marker, only behind the paywall."


def environment(smtp_port: int) -> dict:
    """Production settings (DEBUG off), for this process and the workers alike."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DEBUG", "DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(
        DEBUG="0",
        SECRET_KEY="bench-only-secret-key-not-for-any-real-site-0123456789",
        ALLOWED_HOSTS=HOST,
        SITE_URL="https://news.example.com",
        DATABASE_URL=DATABASE_URL,
        CELERY_BROKER_URL=BROKER_URL,
        CELERY_TASK_DEFAULT_QUEUE=QUEUE_PREFIX,
        STRIPE_SECRET_KEY="sk_test_bench",
        STRIPE_WEBHOOK_SECRET="whsec_bench",
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST=HOST,
        EMAIL_PORT=str(smtp_port),
        LOG_LEVEL="WARNING",
        DJANGO_SETTINGS_MODULE="config.settings",
    )
    return env


def create_database_if_missing(url: str) -> None:
    import psycopg
    from psycopg import sql

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            print(f"created database {name}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


# ---- the SMTP sink, in a process of its own ---------------------------------------------------

# counters[i]: messages, bytes, messages carrying the premium body
MESSAGES, BYTES, FULL = range(3)


def sink_main(port: int, counters, ready, stop) -> None:
    """Accept every message on 127.0.0.1:port and count it; no storage, no delivery."""
    from aiosmtpd.controller import Controller

    marker = BODY_MARKER.encode()

    class Counting:
        async def handle_DATA(self, server, session, envelope):
            content = envelope.original_content or envelope.content
            counters[MESSAGES] += 1
            counters[BYTES] += len(content)
            if marker in content:
                counters[FULL] += 1
            return "250 OK"

    controller = Controller(Counting(), hostname=HOST, port=port)
    controller.start()
    ready.set()
    stop.wait()
    controller.stop()


class Sink:
    def __init__(self):
        context = multiprocessing.get_context("spawn")  # a clean process: no Django, no sockets
        self.port = free_port()
        self.counters = context.RawArray("Q", 3)
        self.ready, self.stop = context.Event(), context.Event()
        self.process = context.Process(
            target=sink_main, args=(self.port, self.counters, self.ready, self.stop), daemon=True
        )

    def start(self) -> None:
        self.process.start()
        if not self.ready.wait(30):
            sys.exit("The SMTP sink did not start within 30 s.")

    def counts(self) -> tuple[int, int, int]:
        return self.counters[MESSAGES], self.counters[BYTES], self.counters[FULL]

    def close(self) -> None:
        self.stop.set()
        self.process.join(10)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()


def ceiling(sink: Sink, messages: list[tuple[str, str, bytes]]) -> dict:
    """The sink's rate when one process sends pre-rendered messages to it in a plain smtplib loop,
    on one connection, for CEILING_SECONDS: what this transport can take on this machine."""
    before, sink_cpu = sink.counts(), cpu_seconds(sink.process.pid)
    client = smtplib.SMTP(HOST, sink.port)
    started, sent = time.perf_counter(), 0
    while time.perf_counter() - started < CEILING_SECONDS:
        sender, recipient, data = messages[sent % len(messages)]
        client.sendmail(sender, [recipient], data)
        sent += 1
    seconds = time.perf_counter() - started
    client.quit()
    after = sink.counts()
    received = after[MESSAGES] - before[MESSAGES]
    assert received == sent, f"the sink counted {received} of {sent} messages"
    return {
        "rate": sent / seconds,
        "messages": sent,
        "bytes": (after[BYTES] - before[BYTES]) / sent,
        "full": after[FULL] - before[FULL],
        "sink_cpu_ms": 1000 * (cpu_seconds(sink.process.pid) - sink_cpu) / sent,
    }


# ---- seeding ------------------------------------------------------------------------------------


def body_markdown() -> str:
    """About 1,300 words in four parts with headings, lists and emphasis: a long read."""
    words = (  # noqa: SIM905 (a line of words reads better than 24 quoted ones)
        "team manager feedback meeting goal plan people trust clear week decision project "
        "review habit focus priority coach listen question agenda outcome growth career skill"
    ).split()

    def sentence(n: int) -> str:
        return " ".join(words[(n * 7 + i * 3) % len(words)] for i in range(9 + n % 9)).capitalize()

    parts, n = [], 0
    for section in range(1, 5):
        parts.append(f"## Part {section}: {sentence(section)}")
        for _ in range(3):
            parts.append(" ".join(f"{sentence(n + i)}." for i in range(6)))
            n += 6
        parts.append("\n".join(f"- **{words[n % 24]}**: {sentence(n + i)}." for i in range(4)))
    parts.insert(5, BODY_MARKER)
    return "\n\n".join(parts)


def seed(subscribers: int) -> None:
    """`subscribers` members, all verified and on one newsletter; member g is entitled when g % 3 == 0."""
    from datetime import timedelta

    from django.contrib.auth.hashers import make_password
    from django.db import connection
    from django.utils import timezone

    from accounts.models import Membership, Newsletter, NewsletterSubscription, User
    from articles.models import Article, Person, Status, Topic, Visibility
    from billing.models import Interval, Plan

    first_names = "'{Ada,Grace,Alan,Edsger,Barbara,Donald,Frances,Ken,Margaret,Dennis}'::text[]"
    member = {
        "email": "'reader' || g || '@bench.example'",
        "name": f"({first_names})[1 + g %% 10] || ' Reader'",
        "password": "%(password)s",
    }
    # g % 6: 0 in a trial, 3 subscribed (the entitled third); 1 trial over, 4 cancelled,
    # 2 and 5 newsletter-only (signed up with only an email)
    membership = {
        "user": "g",
        "email_verified_at": "now() - interval '40 days'",
        "trial_started_at": "CASE g %% 6 WHEN 0 THEN now() - interval '2 days' "
        "WHEN 1 THEN now() - interval '40 days' WHEN 3 THEN now() - interval '60 days' "
        "WHEN 4 THEN now() - interval '60 days' END",
        "trial_ends_at": "CASE g %% 6 WHEN 0 THEN now() + interval '5 days' "
        "WHEN 1 THEN now() - interval '33 days' WHEN 3 THEN now() - interval '53 days' "
        "WHEN 4 THEN now() - interval '53 days' END",
        "trial_ended_at": "CASE WHEN g %% 6 IN (1, 3, 4) THEN now() - interval '30 days' END",
        "subscription_status": "CASE g %% 6 WHEN 3 THEN 'active' WHEN 4 THEN 'canceled' ELSE '' END",
        "newsletter_only": "g %% 6 IN (2, 5)",
    }
    params = {"password": make_password(None), "n": subscribers}
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE accounts_user, accounts_membership, accounts_newsletter, "
            "accounts_newslettersubscription, articles_article, articles_newslettersend, "
            "articles_newsletterdelivery RESTART IDENTITY CASCADE"
        )
        for model, special in ((User, member), (Membership, membership)):
            # the ids restart at 1, so member g's id is g
            insert_series(cursor, model, special, params, count="n")
        newsletter = Newsletter.objects.create(
            name="The Weekly Guide", slug="weekly", sender_name="The Weekly Guide"
        )
        cursor.execute(
            f"INSERT INTO {NewsletterSubscription._meta.db_table} (user_id, newsletter_id, subscribed_at)"
            " SELECT g, %s, now() - interval '40 days' FROM generate_series(1, %s) AS g",
            [newsletter.pk, subscribers],
        )
        for table in (User, Membership, NewsletterSubscription):
            cursor.execute(f"VACUUM ANALYZE {table._meta.db_table}")
    if not Plan.objects.filter(active=True).exists():
        Plan.objects.create(name="Monthly", amount=1200, interval=Interval.MONTH)
    topic, _ = Topic.objects.get_or_create(slug="leadership", defaults={"name": "Leadership"})
    author, _ = Person.objects.get_or_create(
        slug="bench-author", defaults={"name": "Ada Author", "role": "Contributing editor"}
    )
    intro = (
        "Most managers learn to give feedback by watching someone else do it badly. "
        "This guide is the one we wish we had been given on our first day.\n\n"
        "It is short on theory and long on the sentences that work, with the meeting "
        "agenda we use and the mistakes we still make."
    )
    Article.objects.create(
        title="How to give feedback that lands: a field guide for new managers",
        slug="feedback-that-lands",
        topic=topic,
        author=author,
        summary="The sentences, the agenda and the follow-up that make feedback useful.",
        intro=intro,
        body=body_markdown(),
        visibility=Visibility.PREMIUM,
        status=Status.PUBLISHED,
        publish_at=timezone.now() - timedelta(hours=1),
    )


# ---- the measurements ---------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """CPU seconds a local process has used so far (PostgreSQL runs on this machine here)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            if parent == pid:
                found.append(int(entry.name))
    return sorted(found)


def peak_rss_mib(pid: int) -> float:
    """VmHWM: the most resident memory the process has had, in MiB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


class CpuTracker:
    """CPU seconds used by a changing set of processes since start(), sampled as they come and go:
    a process that exits keeps what it used up to its last sample."""

    def __init__(self, pids):
        self.pids = pids
        self.first: dict[int, float] = {}
        self.last: dict[int, float] = {}

    def sample(self, *, start: bool = False) -> None:
        for pid in self.pids():
            used = cpu_seconds(pid)
            if used:
                self.first.setdefault(pid, used if start else 0.0)
                self.last[pid] = used

    def used(self) -> float:
        self.sample()
        return sum(self.last[pid] - self.first[pid] for pid in self.last)


def load() -> str:
    return "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


def backend_pids(exclude: int) -> list[int]:
    """The PostgreSQL backends serving the benchmark's database (the workers'), but ours."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> %s",
            [exclude],
        )
        return [row[0] for row in cursor.fetchall()]


def plan(send, floor_send, subscribers: int) -> dict:
    """The floor (one INSERT ... SELECT), then send_plan, each timed with the CPU it used."""
    from django.conf import settings
    from django.db import connection, transaction
    from django.utils import timezone

    from articles import newsletter
    from articles.models import NewsletterDelivery

    table = connection.ops.quote_name(NewsletterDelivery._meta.db_table)
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]

    with transaction.atomic():
        middle = subscribers // 2
        chunk = newsletter.recipients(send, now, after=middle)[: newsletter.PLAN_CHUNK]
        print(
            f"\nA planning chunk ({newsletter.PLAN_CHUNK:,} recipients after member {middle:,}), "
            "as PostgreSQL runs it:"
        )
        print(chunk.explain(analyze=True, buffers=True))
        transaction.set_rollback(True)

    sql, params = newsletter.recipients(floor_send, now).query.sql_with_params()
    server, started = cpu_seconds(backend), time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (send_id, user_id, status, error)"
            f" SELECT %s, recipient.user_id, 'pending', '' FROM ({sql}) AS recipient (user_id)",
            [floor_send.pk, *params],
        )
        floor_rows = cursor.rowcount
    floor = {
        "seconds": time.perf_counter() - started,
        "rows": floor_rows,
        "server_cpu": cpu_seconds(backend) - server,
    }
    with connection.cursor() as cursor:  # the planning starts from an empty table, as the floor did
        cursor.execute(f"TRUNCATE {table}")
        cursor.execute(f"VACUUM ANALYZE {table}")

    server, client = cpu_seconds(backend), time.process_time()
    started = time.perf_counter()
    recorded = newsletter.send_plan(send_id=send.pk)
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "recorded": recorded,
        "server_cpu": cpu_seconds(backend) - server,
        "client_cpu": time.process_time() - client,
        "batches": -(-recorded // settings.NEWSLETTER_BATCH),
        "chunks": -(-recorded // newsletter.PLAN_CHUNK),
        "floor": floor,
        "backend": backend,
        "load": load(),
    }


def queued() -> int:
    from django.conf import settings

    from config.celery import app

    with app.connection_for_write() as conn:
        return conn.default_channel.queue_declare(
            queue=settings.CELERY_NEWSLETTER_QUEUE
        ).message_count


def samples_messages(send) -> list[tuple[str, str, bytes]]:
    """Pre-rendered messages as the workers make them, one entitled to two not, as seeded."""
    from email.utils import parseaddr

    from django.conf import settings

    from accounts.entitlements import for_user
    from accounts.models import User
    from articles import newsletter

    sender = parseaddr(settings.DEFAULT_FROM_EMAIL)[1]
    messages = []
    for user in User.objects.select_related("membership").filter(pk__in=[3, 4, 5]).order_by("pk"):
        version = newsletter.render_version(
            send.article, send.newsletter, full=for_user(user).decide(send.article).full
        )
        message = newsletter._message(send, version, newsletter._recipient(send, user)).message()
        messages.append((sender, user.email, message.as_bytes(linesep="\r\n")))
    return messages


def start_workers(concurrency: int, env: dict, log: Path) -> subprocess.Popen:
    from django.conf import settings

    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "-Q",
            settings.CELERY_NEWSLETTER_QUEUE,
            f"--concurrency={concurrency}",
            "--loglevel=WARNING",
            "--without-mingle",
            "--without-gossip",
            "--without-heartbeat",
            f"--hostname=bench-newsletter-{os.getpid()}@%h",
        ],
        cwd=REPO,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop(process: subprocess.Popen, timeout: float = 60) -> None:
    """A warm shutdown (the tasks in hand finish), or a kill after `timeout` seconds."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def memory(worker: subprocess.Popen) -> dict[str, float]:
    pids = [worker.pid, *children(worker.pid)]
    return {("main" if pid == worker.pid else f"child {pid}"): peak_rss_mib(pid) for pid in pids}


def mail(send, sink: Sink, worker: subprocess.Popen, args, backend: int, log: Path) -> dict:
    """Wait for the warm-up, then time the window, with each side's CPU and the workers' memory."""
    base = sink.counts()[MESSAGES]
    deadline = time.monotonic() + args.max_seconds

    def sent() -> int:
        return sink.counts()[MESSAGES] - base

    def wait_for(count: int, every=()) -> None:
        polls = 0
        while sent() < count:
            if worker.poll() is not None:
                sys.exit(f"The worker exited ({worker.returncode}):\n{log.read_text()[-3000:]}")
            if time.monotonic() > deadline:
                raise TimeoutError
            time.sleep(0.05)
            polls += 1
            if polls % 20 == 0:  # once a second: a process that exits keeps its CPU time
                for tracker in every:
                    tracker.sample()

    started = time.perf_counter()
    result = {"timed_out": False}
    try:
        wait_for(args.warmup)
    except TimeoutError:
        sys.exit(f"Only {sent():,} messages in {args.max_seconds} s: the warm-up did not end.")
    result["warmup_seconds"] = time.perf_counter() - started
    trackers = {
        "workers": CpuTracker(lambda: [worker.pid, *children(worker.pid)]),
        "postgres": CpuTracker(lambda: backend_pids(exclude=backend)),
        "sink": CpuTracker(lambda: [sink.process.pid]),
    }
    for tracker in trackers.values():
        tracker.sample(start=True)
    result["memory_start"] = memory(worker)
    first, first_bytes, t0 = sent(), sink.counts()[BYTES], time.perf_counter()
    try:
        wait_for(args.warmup + args.window, every=trackers.values())
    except TimeoutError:
        result["timed_out"] = True
    last, last_bytes, t1 = sent(), sink.counts()[BYTES], time.perf_counter()
    result["cpu_ms"] = {part: tracker.used() for part, tracker in trackers.items()}
    result["memory_end"] = memory(worker)
    result["load"] = load()
    messages = last - first
    result.update(
        messages=messages,
        seconds=t1 - t0,
        rate=messages / (t1 - t0),
        bytes=(last_bytes - first_bytes) / max(messages, 1),
        first=first,
    )
    result["cpu_ms"] = {
        part: 1000 * seconds / max(messages, 1) for part, seconds in result["cpu_ms"].items()
    }
    return result


def check_sent(send, sink_messages: int, sink_full: int) -> list[str]:
    """What the sink got is what the rows say, and the full text went to the entitled only."""
    from django.db import connection

    from articles.models import DeliveryStatus, NewsletterDelivery

    with connection.cursor() as cursor:
        # seeded so that member g is entitled exactly when g % 3 == 0
        cursor.execute(
            "SELECT count(*), count(*) FILTER (WHERE full_text),"
            " count(*) FILTER (WHERE full_text IS DISTINCT FROM (user_id %% 3 = 0))"
            f" FROM {NewsletterDelivery._meta.db_table} WHERE send_id = %s AND status = %s",
            [send.pk, DeliveryStatus.SENT],
        )
        sent, full, wrong = cursor.fetchone()
    problems = []
    if sent != sink_messages:
        problems.append(f"{sent:,} rows sent, but the sink got {sink_messages:,} messages")
    if full != sink_full:
        problems.append(f"{full:,} rows sent in full, but {sink_full:,} messages carried the body")
    if wrong:
        problems.append(f"{wrong:,} members got the version their entitlement does not give")
    if not problems:
        print(
            f"Checked: the sink got {sink_messages:,} messages, one per row sent; the premium body "
            f"was in {full:,} of them, exactly those of the entitled members."
        )
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=1_000_000)
    parser.add_argument(
        "--concurrency",
        type=int,
        default=RECOMMENDED_CONCURRENCY,
        help=f"worker processes (default {RECOMMENDED_CONCURRENCY}, the README's recommendation)",
    )
    parser.add_argument(
        "--warmup", type=int, default=10_000, help="messages before the window (default 10,000)"
    )
    parser.add_argument(
        "--window", type=int, default=20_000, help="messages timed (default 20,000)"
    )
    parser.add_argument(
        "--max-seconds",
        type=int,
        default=600,
        help="give up on the sending after this long (default 600)",
    )
    args = parser.parse_args()

    sink = Sink()
    sink.start()
    env = environment(sink.port)
    for name in set(os.environ) - set(env):  # a REDIS_URL from the shell, say
        del os.environ[name]
    os.environ.update(env)
    create_database_if_missing(DATABASE_URL)
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    from accounts.models import Newsletter
    from articles import newsletter
    from articles.models import Article, NewsletterSend, SendStatus
    from config.celery import app

    worker, folder = None, Path(tempfile.mkdtemp(prefix="bench-newsletter-"))
    log = folder / "worker.log"
    try:
        print(
            f"newsletter bench: {os.cpu_count()} CPUs, load average {load()}, "
            f"{args.subscribers:,} subscribers, workers --concurrency={args.concurrency}",
            flush=True,
        )
        call_command("migrate", verbosity=0)
        started = time.perf_counter()
        seed(args.subscribers)
        print(f"seeded in {time.perf_counter() - started:.1f} s", flush=True)
        app.control.purge()

        article, weekly = Article.objects.get(), Newsletter.objects.get()
        now = timezone.now()
        send = NewsletterSend.objects.create(article=article, newsletter=weekly, send_at=now)
        floor_send = NewsletterSend.objects.create(
            article=article, newsletter=weekly, send_at=now, status=SendStatus.CANCELLED
        )
        planning = plan(send, floor_send, args.subscribers)
        floor_send.delete()
        tasks = queued()
        send.refresh_from_db()
        problems = []
        if planning["recorded"] != args.subscribers or send.recipients != args.subscribers:
            problems.append(f"planning recorded {planning['recorded']:,} recipients")
        if tasks != planning["batches"]:
            problems.append(f"{tasks:,} tasks queued, {planning['batches']:,} expected")
        report_planning(planning, args.subscribers, tasks)

        messages = samples_messages(send)
        ceilings = [ceiling(sink, messages)]
        print(
            f"\nCeiling: one process, plain smtplib, pre-rendered messages of "
            f"{ceilings[0]['bytes']:,.0f} bytes on average: {ceilings[0]['rate']:,.0f} messages/s "
            f"(the sink's CPU {ceilings[0]['sink_cpu_ms']:.2f} ms a message)",
            flush=True,
        )
        worker = start_workers(args.concurrency, env, log)
        sending = mail(send, sink, worker, args, planning["backend"], log)
        print(f"(cancelling the rest of the send, load average {load()})", flush=True)
        newsletter.send_cancel(send=send)
        app.control.purge()
        stop(worker)
        worker = None
        ceilings.append(ceiling(sink, messages))
        total, _, full = sink.counts()
        ceiling_messages = sum(c["messages"] for c in ceilings)
        ceiling_full = sum(c["full"] for c in ceilings)
        problems += check_sent(send, total - ceiling_messages, full - ceiling_full)
        return report(planning, sending, ceilings, args, problems)
    finally:
        if worker is not None:
            stop(worker, timeout=10)
        try:
            app.control.purge()
        finally:
            sink.close()
            shutil.rmtree(folder, ignore_errors=True)  # the worker's log, shown above if it failed


def postgres_version() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        return cursor.fetchone()[0]


def report_planning(planning: dict, subscribers: int, tasks: int) -> None:
    floor = planning["floor"]
    seconds = planning["seconds"]
    print(
        f"\nPlanning: {planning['recorded']:,} recipients recorded in {planning['chunks']:,} chunks and "
        f"{tasks:,} sending tasks queued on {BROKER_URL.split('://')[0]} in {seconds:.1f} s "
        f"({planning['recorded'] / seconds:,.0f} rows/s; load average {planning['load']} at the end)."
    )
    print(
        f"CPU time: PostgreSQL backend {planning['server_cpu']:.1f} s, this process "
        f"{planning['client_cpu']:.1f} s (the rest of the wall time is waiting: disk, and other "
        "processes on the CPUs)."
    )
    print(
        f"Floor: one INSERT ... SELECT of the same {floor['rows']:,} rows in {floor['seconds']:.1f} s "
        f"(PostgreSQL CPU {floor['server_cpu']:.1f} s): the planning takes "
        f"{seconds / floor['seconds']:.2f} times the floor.",
        flush=True,
    )


def report(planning, sending, ceilings, args, problems) -> int:
    ceiling_rate = sum(c["rate"] for c in ceilings) / len(ceilings)
    print(
        f"\nSending, {args.concurrency} worker processes: messages {sending['first']:,} to "
        f"{sending['first'] + sending['messages']:,} in {sending['seconds']:.1f} s: "
        f"{sending['rate']:,.0f} messages/s of {sending['bytes']:,.0f} bytes on average "
        f"(warm-up {sending['warmup_seconds']:.1f} s; load average {sending['load']} at the end)."
    )
    print(
        "Ceiling (one process, plain smtplib, the same messages pre-rendered): "
        + " and ".join(f"{c['rate']:,.0f}" for c in ceilings)
        + f" messages/s before and after: the workers reach {sending['rate'] / ceiling_rate:.0%} of it."
    )
    cpu = sending["cpu_ms"]
    print(
        f"CPU per message: workers {cpu['workers']:.2f} ms, PostgreSQL {cpu['postgres']:.2f} ms, "
        f"sink {cpu['sink']:.2f} ms ({sum(cpu.values()):.2f} ms in all, on {os.cpu_count()} CPUs)."
    )
    print("Peak RSS (VmHWM) of each worker process at the start and the end of the window:")
    for name, start in sending["memory_start"].items():
        end = sending["memory_end"].get(name, float("nan"))
        print(f"  {name:<14} {start:7.1f} MiB  {end:7.1f} MiB")
    print(
        f"\nPostgreSQL {postgres_version()}, {os.cpu_count()} CPUs. Targets: planning "
        f"{PLAN_TARGET_SECONDS:.0f} s, sending {SEND_TARGET_RATE:.0f} messages/s."
    )
    if planning["seconds"] > PLAN_TARGET_SECONDS:
        problems.append(f"planning took {planning['seconds']:.1f} s")
    if sending["timed_out"]:
        problems.append(f"the window did not end within {args.max_seconds} s")
    if sending["rate"] < SEND_TARGET_RATE:
        problems.append(f"sending ran at {sending['rate']:,.0f} messages/s")
    if problems:
        print("\nMISSED:\n  " + "\n  ".join(problems))
        return 1
    print("\nAll targets met.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
