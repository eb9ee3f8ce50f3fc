"""The production process set, as the Procfile runs it, serves a member from sign-up to the end
of their trial.

With DEBUG off, on PostgreSQL (a database made for this test and dropped after it) and Redis,
honcho runs the Procfile's `release` step (migrate, collectstatic, stripe_setup against the
Stripe stand-in on the loopback: nothing reaches the internet), then `web` (gunicorn with
config/gunicorn.py), both workers and `beat`. Plain HTTP on the loopback, with the README's
relaxations for it: SECURE_SSL_REDIRECT=0 and SECURE_COOKIES=0. Every folder the processes write
(static files, mail, beat's schedule) is one that does not exist yet.

A new member signs up through the real pages, verifies their address from the mail the web
process wrote, and reads a premium article in full. Their trial's end is then moved into the
past: the page shows the teaser at once (the clock decides), and beat, every second here
(TRIAL_END_SWEEP_SECONDS), has the worker record the end and send the trial-ended mail.
Then every process started is stopped, verified.
"""

import email
import http.cookiejar
import json
import os
import re
import secrets
import socket
import subprocess
import urllib.error
import urllib.parse
import urllib.request
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import Message
from pathlib import Path

import psycopg
import pytest
import redis
from django.db import connection

from tests.integration.processes.procfile import (
    REPO,
    Honcho,
    environment,
    wait_until,
)
from tests.integration.stripe_standin.process import running_standin

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="the production processes share a database: run with DATABASE_URL=postgres://...",
    ),
    pytest.mark.skipif(
        not os.environ.get("TEST_REDIS_URL"),
        reason="production runs on Redis (cache and broker): set TEST_REDIS_URL",
    ),
]

PROCFILE = REPO / "Procfile"
HOST = "127.0.0.1"
EMAIL = "nadia.okafor@example.com"
PASSWORD = "a-fresh-and-long-passphrase"
SLUG = "the-smoke-test"
PREMIUM_SENTENCE = "Only readers with access learn where the smoke test keeps its lantern."
INTRO_SENTENCE = "Every reader may read this opening about the smoke test."
MAIL_SEPARATOR = b"\n" + b"-" * 79 + b"\n"  # what the file-based backend writes after each message

# What staff would write in the admin: one premium article, live now.
ARTICLE_SCRIPT = f"""
from django.utils import timezone
from articles.models import Article, Person, Status, Topic
topic = Topic.objects.create(name="Deploying", slug="deploying")
author = Person.objects.create(name="Sam Okoro", slug="sam-okoro")
Article.objects.create(
    title="The smoke test", slug="{SLUG}", topic=topic, author=author,
    summary="What a deploy must show.", intro="{INTRO_SENTENCE}", body="{PREMIUM_SENTENCE}",
    status=Status.PUBLISHED, publish_at=timezone.now() - timezone.timedelta(minutes=1),
)
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


@contextmanager
def throwaway_database():
    """A new, empty PostgreSQL database on the test server; dropped afterwards."""
    db = connection.settings_dict
    server = {
        "host": db["HOST"] or "localhost",
        "port": db["PORT"] or 5432,
        "user": db["USER"] or "postgres",
        "password": db["PASSWORD"] or None,
    }
    name = f"masthead_smoke_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(dbname="postgres", autocommit=True, **server) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        password = f":{urllib.parse.quote(server['password'], safe='')}" if db["PASSWORD"] else ""
        yield (
            f"postgres://{urllib.parse.quote(server['user'], safe='')}{password}"
            f"@{server['host']}:{server['port']}/{name}"
        )
    finally:
        with psycopg.connect(dbname="postgres", autocommit=True, **server) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def redis_cleaned(url: str, queue: str) -> None:
    """Remove what the run left in the tests' Redis: its queues and the site's cache entries
    (the site's keys carry no prefix, the other tests' do)."""
    client = redis.Redis.from_url(url)
    for pattern in (f"*{queue}*", ":1:*"):
        for key in client.scan_iter(pattern):
            client.delete(key)
    client.close()


@dataclass
class Page:
    status: int
    path: str  # after redirects
    headers: Message
    text: str

    def csrf_token(self) -> str:
        match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', self.text)
        assert match, f"no CSRF token on {self.path}"
        return match.group(1)


class Browser:
    """A reader's browser over plain HTTP: cookies kept, redirects followed, no proxy."""

    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({}),
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()),
        )

    def open(self, path: str, data: dict | None = None) -> Page:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(self.base + path, data=body)
        if body is not None:
            request.add_header("Origin", self.base)  # as a browser sends with a form's POST
        try:
            response = self.opener.open(request, timeout=15)
        except urllib.error.HTTPError as error:
            response = error
        with response:
            return Page(
                status=response.status,
                path=urllib.parse.urlsplit(response.geturl()).path,
                headers=response.headers,
                text=response.read().decode(),
            )

    def post_form(self, path: str, fields: dict) -> Page:
        """GET the page, then submit its form with the CSRF token it carries."""
        form = self.open(path)
        assert form.status == 200, (path, form.status)
        return self.open(path, {"csrfmiddlewaretoken": form.csrf_token(), **fields})


def mails(folder: Path, *, subject: str | None = None) -> list[email.message.Message]:
    """The messages the file-based backend has written (web's and the workers'), with that
    subject if one is given."""
    if not folder.is_dir():
        return []
    messages = [
        email.message_from_bytes(part)
        for path in sorted(folder.iterdir())
        for part in path.read_bytes().split(MAIL_SEPARATOR)
        if part.strip()
    ]
    return [m for m in messages if subject is None or m["Subject"] == subject]


def text_of(message: email.message.Message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            return part.get_payload(decode=True).decode()
    raise AssertionError(f"no plain text part in {message['Subject']!r}")


def healthz(base: str):
    try:
        with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(
            base + "/healthz", timeout=5
        ) as response:
            return json.loads(response.read())
    except (OSError, urllib.error.HTTPError):  # not listening yet, or a 503 while it starts
        return None


def membership(database_url: str, *, email_address: str) -> dict:
    with psycopg.connect(database_url, row_factory=psycopg.rows.dict_row) as db:
        return db.execute(
            "SELECT m.* FROM accounts_membership m JOIN accounts_user u ON u.id = m.user_id "
            "WHERE u.email = %s",
            [email_address],
        ).fetchone()


def test_the_production_processes_serve_a_member_from_sign_up_to_the_end_of_their_trial(
    tmp_path,
):
    port = free_port()
    base = f"http://{HOST}:{port}"
    state = tmp_path / "state"  # nothing under it exists yet: the processes make their folders
    mail_folder = state / "mail"
    queue = f"smoke-{uuid.uuid4().hex[:12]}"
    redis_url = os.environ["TEST_REDIS_URL"]

    with (
        throwaway_database() as database_url,
        running_standin(tmp_path / "standin.log") as stripe_api_base,
    ):
        env = environment(
            DEBUG="0",
            SECRET_KEY=secrets.token_urlsafe(50),
            ALLOWED_HOSTS=HOST,
            SITE_URL=base,
            DATABASE_URL=database_url,
            REDIS_URL=redis_url,
            CELERY_BROKER_URL=redis_url,
            CELERY_TASK_DEFAULT_QUEUE=queue,  # this run's own queues on the shared Redis
            STRIPE_SECRET_KEY="sk_test_smoke",
            STRIPE_WEBHOOK_SECRET="whsec_smoke",
            STRIPE_API_BASE=stripe_api_base,  # the stand-in, on the loopback, with a test key
            EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
            EMAIL_FILE_PATH=mail_folder,
            STATIC_ROOT=state / "static",
            MEDIA_ROOT=state / "media",
            CELERY_BEAT_SCHEDULE_FILENAME=state / "beat" / "celerybeat-schedule",
            # plain HTTP on the loopback: the README's relaxations for it
            SECURE_SSL_REDIRECT="0",
            SECURE_COOKIES="0",
            TRIAL_END_SWEEP_SECONDS="1",
            # a small set for this 2-core machine
            GUNICORN_CMD_ARGS=f"--bind {HOST}:{port}",
            WEB_CONCURRENCY="2",
            WORKER_CONCURRENCY="1",
            NEWSLETTER_CONCURRENCY="1",
        )
        try:
            with Honcho(PROCFILE, ["release"], env, tmp_path / "release.log") as release:
                assert release.wait(timeout=120) == 0, release.output()
            assert "static files copied" in release.output()
            assert re.search(r"Done: [1-9]\d* change\(s\)\.", release.output()), release.output()
            subprocess.run(
                [env["PATH"].split(os.pathsep)[0] + "/python", "manage.py", "shell"],
                input=ARTICLE_SCRIPT,
                text=True,
                cwd=REPO,
                env=env,
                check=True,
                capture_output=True,
            )

            with Honcho(
                PROCFILE, ["web", "worker", "newsletter", "beat"], env, tmp_path / "site.log"
            ) as site:
                health = wait_until(
                    lambda: healthz(base), timeout=60, what="/healthz", log=site.log
                )
                assert health == {
                    "status": "ok",
                    "checks": {"database": "ok", "cache": "ok", "broker": "ok"},
                }
                site.wait_for_line(r"worker@\S+ ready\.")
                site.wait_for_line(r"newsletter@\S+ ready\.")
                site.wait_for_line(r"beat: Starting\.\.\.")
                reader = Browser(base)

                # Anonymous: the teaser, cacheable by a CDN, and the collected static files.
                anonymous = reader.open(f"/articles/{SLUG}/")
                assert anonymous.status == 200
                assert INTRO_SENTENCE in anonymous.text
                assert PREMIUM_SENTENCE not in anonymous.text
                assert "public" in anonymous.headers["Cache-Control"]
                assert "s-maxage" in anonymous.headers["Cache-Control"]
                stylesheet = re.search(r'href="(/static/css/site\.[0-9a-f]+\.css)"', anonymous.text)
                assert stylesheet, "the page does not link the hashed stylesheet"
                css = reader.open(stylesheet.group(1))  # collectstatic's copy, by whitenoise
                assert css.status == 200 and "immutable" in css.headers["Cache-Control"]
                assert css.text.strip()
                # gunicorn's access log, in config/gunicorn.py's format
                site.wait_for_line(rf'"GET /articles/{SLUG}/" 200 \d+ \d+ms')

                # Sign up, and verify the address from the mail.
                signed_up = reader.post_form(
                    "/accounts/signup/",
                    {"email": EMAIL, "password1": PASSWORD},
                )
                assert signed_up.status == 200
                assert signed_up.path == "/accounts/confirm-email/"
                [confirmation] = wait_until(
                    lambda: mails(mail_folder), timeout=30, what="the confirmation mail"
                )  # the web process sends it
                assert confirmation["To"] == EMAIL
                link = re.search(
                    rf"{re.escape(base)}(/accounts/confirm-email/[^/\s]+/)", text_of(confirmation)
                )
                assert link, text_of(confirmation)
                verified = reader.open(link.group(1))  # one click: the link confirms and signs in
                assert verified.status == 200
                assert verified.path == "/"

                # In the free trial (the worker mails the welcome): the article in full.
                [welcome] = wait_until(
                    lambda: mails(
                        mail_folder, subject="Welcome to Masthead: your free trial has started"
                    ),
                    timeout=60,
                    what="the welcome mail",
                    log=site.log,
                )
                assert welcome["To"] == EMAIL
                member = membership(database_url, email_address=EMAIL)
                assert member["trial_ends_at"] is not None
                assert PREMIUM_SENTENCE in reader.open(f"/articles/{SLUG}/").text

                # The trial's end moved into the past: the clock ends access at once, and beat
                # has the worker record the end and mail the member.
                with psycopg.connect(database_url) as db:
                    db.execute(
                        "UPDATE accounts_membership SET "
                        "trial_started_at = now() - interval '8 days', "
                        "trial_ends_at = now() - interval '1 minute' WHERE user_id = %s",
                        [member["user_id"]],
                    )
                assert PREMIUM_SENTENCE not in reader.open(f"/articles/{SLUG}/").text
                [trial_ended] = wait_until(
                    lambda: mails(mail_folder, subject="Your Masthead free trial has ended"),
                    timeout=60,
                    what="the trial-ended mail",
                    log=site.log,
                )
                assert trial_ended["To"] == EMAIL
                assert membership(database_url, email_address=EMAIL)["trial_ended_at"]
            # Honcho.stop() has run: every process started has stopped, or the test has failed
            assert list((state / "beat").glob("celerybeat-schedule*"))
        finally:
            redis_cleaned(redis_url, queue)
