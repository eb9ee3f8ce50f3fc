"""The web benchmark: every reading page against a hello-world ceiling, in one run.

    python bench/web_bench.py [--seconds 10] [--rounds 5] [--connections 10] [--page NAME ...]

Starts the site under gunicorn with production settings (DEBUG off) on PostgreSQL
(database bench_web) and Redis (db 7), seeds it (bench/seed_web.py, skipped when done),
checks that each page is what it claims (the subscriber and the metered member get the
premium body, the anonymous reader the teaser), then loads each page with wrk for a fixed time, in slices
that alternate with slices of a hello-world view served by the same gunicorn (the ceiling),
so load from elsewhere on the machine weighs on both alike. It prints requests per second,
p50 and p99 latency for each page, its ratio to the ceiling, and the unloaded latency (one
request at a time). Exits 1 if a target (issues 6 and 11) is missed. Stops gunicorn itself.

Everything stays on 127.0.0.1. Needs wrk (Debian: `apt-get install -y wrk`).
BENCH_WEB_DATABASE_URL and BENCH_WEB_REDIS_URL change where it runs.
"""

import argparse
import http.client
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

import psycopg

REPO = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
HOST = "127.0.0.1"
DATABASE_URL = os.environ.get(
    "BENCH_WEB_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench_web"
)
REDIS_URL = os.environ.get("BENCH_WEB_REDIS_URL", "redis://127.0.0.1:6379/7")
PREMIUM = "/articles/bench-premium-article/"
BODY_MARKER = "The bench marker sentence sits only behind the paywall."
UNLOADED_REQUESTS = 200

METERED_FREE_ARTICLES = "3"
# page -> (url, who reads it: "" anonymous or a signed-in reader of seed_web.py's sessions,
# minimum share of the ceiling's requests per second)
PAGES = {
    "home": ("/", "", 0.20),
    "topic page": ("/topics/leadership/", "", None),
    "premium article, anonymous (teaser)": (PREMIUM, "", 0.25),
    "premium article, subscriber (full)": (PREMIUM, "subscriber", 0.15),  # issue 11: 15 %
    # a free member re-reading, this month, an article read on the meter (issue 16): the
    # member's query also brings the month's reads, and nothing is written
    "premium article, metered member (full)": (PREMIUM, "metered", 0.12),
}
UNLOADED_P50_TARGET_MS = 5.0  # for the article page, both readers


def production_environment(port: int) -> dict:
    """Production settings, with only what a local plain-HTTP run needs relaxed."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if key
        not in {"DEBUG", "DATABASE_URL", "REDIS_URL", "TEST_REDIS_URL", "DJANGO_SETTINGS_MODULE"}
    }
    environment.update(
        DEBUG="0",
        SECRET_KEY="bench-only-secret-key-not-for-any-real-site-0123456789",
        ALLOWED_HOSTS=HOST,
        SITE_URL=f"http://{HOST}:{port}",
        DATABASE_URL=DATABASE_URL,
        REDIS_URL=REDIS_URL,
        CELERY_BROKER_URL=REDIS_URL,
        STRIPE_SECRET_KEY="sk_test_bench",
        STRIPE_WEBHOOK_SECRET="whsec_bench",
        SECURE_SSL_REDIRECT="0",  # plain HTTP on the loopback; TLS is a proxy's job
        SECURE_COOKIES="0",
        BENCH_CEILING="1",
        LOG_LEVEL="WARNING",
        METERED_FREE_ARTICLES=METERED_FREE_ARTICLES,
    )
    return environment


def ensure_database() -> None:
    name = DATABASE_URL.rsplit("/", 1)[1]
    with psycopg.connect(
        DATABASE_URL.rsplit("/", 1)[0] + "/postgres", autocommit=True
    ) as connection:
        if not connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [name]
        ).fetchone():
            connection.execute(f'CREATE DATABASE "{name}"')


def run(command: list[str], environment: dict) -> str:
    result = subprocess.run(
        command, check=False, cwd=REPO, env=environment, capture_output=True, text=True
    )
    if result.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def get(port: int, path: str, cookie: str = "") -> tuple[int, str, float]:
    """One request on a new connection, as a reader's browser would open one: (status, body, seconds)."""
    started = time.perf_counter()
    connection = http.client.HTTPConnection(HOST, port, timeout=10)
    connection.request("GET", path, headers={"Cookie": cookie} if cookie else {})
    response = connection.getresponse()
    body = response.read().decode()
    elapsed = time.perf_counter() - started
    connection.close()
    return response.status, body, elapsed


def wait_until_up(port: int, server: subprocess.Popen) -> None:
    for _ in range(100):
        if server.poll() is not None:
            sys.exit("gunicorn exited during start-up (see its output above).")
        try:
            if get(port, "/_ceiling/")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    sys.exit("gunicorn did not answer within 20 seconds.")


def check_pages(port: int, cookies: dict) -> None:
    """The benchmark measures the right pages: the teaser for anonymous, the body for the
    subscriber and for the metered member (on the meter: its banner shows)."""
    for path, who in [(url, who) for url, who, _ in PAGES.values()]:
        status, _, _ = get(port, path, cookies[who])
        if status != 200:
            sys.exit(f"{path} answered {status}, not 200.")
    _, anonymous, _ = get(port, PREMIUM)
    _, subscriber, _ = get(port, PREMIUM, cookies["subscriber"])
    _, metered, _ = get(port, PREMIUM, cookies["metered"])
    if BODY_MARKER in anonymous or 'class="paywall"' not in anonymous:
        sys.exit("The anonymous reader did not get the teaser: not benchmarking a leaking site.")
    if BODY_MARKER not in subscriber:
        sys.exit("The subscriber did not get the premium body: the session is not signed in.")
    if BODY_MARKER not in metered or "free articles left this month" not in metered:
        sys.exit("The metered member did not read the premium body on the meter.")


def unloaded_p50_ms(port: int, path: str, cookie: str) -> float:
    times = [get(port, path, cookie)[2] for _ in range(UNLOADED_REQUESTS)]
    return statistics.median(times) * 1000


def milliseconds(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(number) * {"us": 0.001, "ms": 1, "s": 1000}[unit]


def wrk(port: int, path: str, cookie: str, seconds: int, connections: int) -> dict:
    command = [
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{seconds}s",
        "--latency",
        f"http://{HOST}:{port}{path}",
    ]
    if cookie:
        command[1:1] = ["-H", f"Cookie: {cookie}"]
    output = subprocess.run(
        command, capture_output=True, text=True, check=True, timeout=seconds + 30
    ).stdout
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if errors or "Socket errors" in output:
        print(output, flush=True)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "p50": milliseconds(re.search(r"\s50%\s+(\S+)", output).group(1)),
        "p99": milliseconds(re.search(r"\s99%\s+(\S+)", output).group(1)),
        "non_2xx": int(errors.group(1)) if errors else 0,
    }


def combined(slices: list[dict]) -> dict:
    """Several wrk runs of equal length as one: mean req/s, median p50, worst p99."""
    return {
        "rps": statistics.mean(s["rps"] for s in slices),
        "p50": statistics.median(s["p50"] for s in slices),
        "p99": max(s["p99"] for s in slices),
        "non_2xx": sum(s["non_2xx"] for s in slices),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--seconds", type=int, default=10, help="load each page this long (default 10)"
    )
    parser.add_argument(
        "--connections", type=int, default=10, help="wrk's open connections (default 10)"
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=5,
        help="slices each page and its ceiling alternate in (default 5)",
    )
    parser.add_argument(
        "--page",
        action="append",
        choices=list(PAGES),
        help="measure only this page (again for more); default: every page",
    )
    options = parser.parse_args()
    pages = {name: PAGES[name] for name in options.page or PAGES}
    slice_seconds = max(1, options.seconds // options.rounds)

    if not shutil.which("wrk"):
        print("wrk is not installed. On Debian or Ubuntu: apt-get install -y wrk", file=sys.stderr)
        return 2

    cores = os.cpu_count() or 1
    workers = (
        2 * cores + 1
    )  # gunicorn's rule of thumb for sync workers: one busy, one waiting on I/O per core
    port = free_port()
    environment = production_environment(port)

    print(
        f"web bench: {cores} cores, gunicorn {workers} sync workers, wrk 1 thread {options.connections} connections, "
        f"{options.seconds} s a page in {options.rounds} slices alternating with the ceiling",
        flush=True,
    )
    ensure_database()
    run([PYTHON, "manage.py", "migrate", "--no-input"], environment)
    run([PYTHON, "manage.py", "collectstatic", "--no-input"], environment)
    run([PYTHON, "bench/seed_web.py"], environment)
    sessions = dict(
        re.findall(
            r"(\w+)_session=(\S+)", run([PYTHON, "bench/seed_web.py", "--session"], environment)
        )
    )
    cookies = {"": "", **{who: f"sessionid={key}" for who, key in sessions.items()}}

    server = subprocess.Popen(
        [
            str(Path(PYTHON).parent / "gunicorn"),
            "config.wsgi",
            f"--workers={workers}",
            f"--bind={HOST}:{port}",
            "--worker-class=sync",
            "--log-level=warning",
        ],
        cwd=REPO,
        env=environment,
        start_new_session=True,
    )
    try:
        wait_until_up(port, server)
        check_pages(port, cookies)
        for url, who, _ in pages.values():  # warm the caches and every worker's connection
            for _ in range(workers * 4):
                get(port, url, cookies[who])

        unloaded = {
            name: unloaded_p50_ms(port, url, cookies[who]) for name, (url, who, _) in pages.items()
        }
        unloaded["ceiling (hello world)"] = unloaded_p50_ms(port, "/_ceiling/", "")

        # Each page is loaded in slices that alternate with slices of the ceiling, so a change in
        # what else the machine is doing weighs on a page and on its ceiling alike.
        loaded, ceilings = {}, {}
        for name, (url, who, _) in pages.items():
            page_slices, ceiling_slices = [], []
            for _ in range(options.rounds):
                ceiling_slices.append(
                    wrk(port, "/_ceiling/", "", slice_seconds, options.connections)
                )
                page_slices.append(wrk(port, url, cookies[who], slice_seconds, options.connections))
            loaded[name], ceilings[name] = combined(page_slices), combined(ceiling_slices)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)

    ceiling = combined(list(ceilings.values()))
    missed = []
    print()
    print(
        f"{'page':<38} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'unloaded p50':>13} {'of ceiling':>11}  target"
    )
    for name, result in [("ceiling (hello world)", ceiling), *loaded.items()]:
        ratio = result["rps"] / (ceilings[name]["rps"] if name in ceilings else ceiling["rps"])
        minimum = PAGES[name][2] if name in PAGES else None
        verdict = ""
        if minimum is not None:
            verdict = f">= {minimum:.0%} {'ok' if ratio >= minimum else 'MISSED'}"
            if ratio < minimum:
                missed.append(f"{name}: {ratio:.1%} of the ceiling, target {minimum:.0%}")
        if result["non_2xx"]:
            missed.append(f"{name}: {result['non_2xx']} responses were not 2xx")
        print(
            f"{name:<38} {result['rps']:>8.0f} {result['p50']:>8.2f} {result['p99']:>8.2f} "
            f"{unloaded[name]:>10.2f} ms {ratio:>10.1%}  {verdict}"
        )
    for name in ("premium article, anonymous (teaser)", "premium article, subscriber (full)"):
        if name in unloaded and unloaded[name] > UNLOADED_P50_TARGET_MS:
            missed.append(
                f"{name}: unloaded p50 {unloaded[name]:.2f} ms, target <= {UNLOADED_P50_TARGET_MS} ms"
            )
    print(
        "\nof ceiling = the page's req/s over the ceiling's in the slices alternating with it: "
        + ", ".join(f"{ceilings[name]['rps']:.0f}" for name in pages)
        + " req/s"
    )
    print(f"unloaded = median of {UNLOADED_REQUESTS} sequential requests, each on a new connection")
    print(f"unloaded p50 of the article page: target <= {UNLOADED_P50_TARGET_MS:.0f} ms")
    if missed:
        print("\nMISSED:\n  " + "\n  ".join(missed))
        return 1
    print("\nAll targets met.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
