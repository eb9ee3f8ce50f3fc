"""The article page's cost inside one process, without HTTP: a steadier figure than wrk's on a busy machine.

    python bench/render_bench.py [--requests 100] [--rounds 20]

Uses the web benchmark's database and Redis (run `make bench-web` once first, which seeds them;
BENCH_WEB_DATABASE_URL and BENCH_WEB_REDIS_URL change where) and its production settings, and
times GETs of the premium article through Django's test client: the subscriber's full article
and a signed-in lapsed member's teaser (a signed-in reader's page is never served from the page
cache, so both are rendered each time). Each round times --requests requests per page, the pages
alternating; it prints each page's median and best time per request over the rounds, in wall
time and in this process's CPU time. On a shared machine compare the best rounds: many short
rounds make it likely that some ran while nothing else did.
"""

import argparse
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from web_bench import BODY_MARKER, PREMIUM, production_environment  # noqa: E402

os.environ.update(production_environment(port=8000))
os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"

import django  # noqa: E402

django.setup()

from allauth.account.models import EmailAddress  # noqa: E402
from django.test import Client  # noqa: E402
from seed_web import SUBSCRIBER, subscriber  # noqa: E402

from accounts.models import User  # noqa: E402
from accounts.services import trial_set  # noqa: E402

LAPSED = "bench-lapsed@example.com"


def lapsed() -> User:
    """A verified member with no trial left and no subscription: the teaser, signed in."""
    user, created = User.objects.get_or_create(email=LAPSED, defaults={"password": "!"})
    if created:
        EmailAddress.objects.create(user=user, email=LAPSED, verified=True, primary=True)
        trial_set(
            user_id=user.pk,
            started_at=user.date_joined - timedelta(days=8),
            ends_at=user.date_joined - timedelta(days=1),
        )
    return user


def signed_in(user) -> Client:
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    return client


def timed(client, requests: int) -> tuple[float, float]:
    """Milliseconds per GET of the premium article over `requests`: (wall, this process's CPU)."""
    started, cpu = time.perf_counter(), time.process_time()
    for _ in range(requests):
        client.get(PREMIUM)
    return (
        (time.perf_counter() - started) * 1000 / requests,
        (time.process_time() - cpu) * 1000 / requests,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=100, help="per page and round")
    parser.add_argument("--rounds", type=int, default=20)
    options = parser.parse_args()

    readers = {
        "premium article, subscriber (full)": signed_in(subscriber()),
        "premium article, lapsed member (teaser)": signed_in(lapsed()),
    }
    full = readers["premium article, subscriber (full)"].get(PREMIUM).content.decode()
    teaser = readers["premium article, lapsed member (teaser)"].get(PREMIUM).content.decode()
    if BODY_MARKER not in full or BODY_MARKER in teaser:
        sys.exit(f"{SUBSCRIBER} should read the body and {LAPSED} should not: not measuring.")
    for client in readers.values():  # warm every cache and the connection
        timed(client, 50)

    results = {name: [] for name in readers}
    for _ in range(options.rounds):
        for name, client in readers.items():
            results[name].append(timed(client, options.requests))
    print(
        f"{'page':<42} {'wall ms':>8} {'best':>7} {'CPU ms':>8} {'best':>7}"
        f"   ({options.rounds} rounds x {options.requests})"
    )
    for name, times in results.items():
        wall, cpu = [t[0] for t in times], [t[1] for t in times]
        print(
            f"{name:<42} {statistics.median(wall):>8.3f} {min(wall):>7.3f} "
            f"{statistics.median(cpu):>8.3f} {min(cpu):>7.3f}"
        )
    print(
        "wall: the median and best round's time per request; CPU: the same in this process's "
        "CPU time (not PostgreSQL's or Redis's), which moves less with the machine's load"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
