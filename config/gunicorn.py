"""gunicorn's settings for the `web` process: `gunicorn -c config/gunicorn.py config.wsgi` (Procfile).

Change any of them without editing this file: WEB_CONCURRENCY and PORT below, and anything else
with GUNICORN_CMD_ARGS (e.g. "--timeout 60 --bind 127.0.0.1:8000"), which gunicorn applies on
top of this file. The README's "Deploying" section says how the processes fit together.
"""

import os

# Listen on every interface: the load balancer or the platform's router sits in front.
bind = [f"0.0.0.0:{os.environ.get('PORT') or '8000'}"]

# Sync workers, each serving one request at a time: pages are short CPU-bound renders with a few
# quick reads from PostgreSQL and Redis. Two per core and one more (gunicorn's rule of thumb:
# one computing while another waits on a query), from the cores this process may use, which a
# container can limit below the machine's; bench/web_bench.py measures with the same count.
# Sync workers do not guard against slow clients: the CDN or load balancer in front buffers.
try:
    cores = len(os.sched_getaffinity(0))
except AttributeError:  # not Linux
    cores = os.cpu_count() or 1
_concurrency = os.environ.get("WEB_CONCURRENCY") or str(2 * cores + 1)
if not _concurrency.isdigit() or int(_concurrency) < 1:
    raise SystemExit(
        f"WEB_CONCURRENCY must be a whole number of workers, at least 1, not {_concurrency!r}."
    )
workers = int(_concurrency)
worker_class = "sync"

# A worker silent for 30 s is killed and replaced, its request answered by the proxy with an
# error: no page takes near that, so it is stuck (a Stripe call that hangs, a lock). On SIGTERM
# (a deploy or a scale-down) workers finish the requests in hand for up to 30 s more.
timeout = 30
graceful_timeout = 30
# No max_requests: each worker keeps the article renders it has made (CACHES["local"], bounded),
# and recycling workers would throw them away for no known leak.

# Logs to stdout/stderr, for the platform to collect. One line a request: client, time, method
# and path (no query string: search terms and tokens stay out of the logs), status, bytes,
# milliseconds, user agent.
accesslog = "-"
errorlog = "-"
access_log_format = '%(h)s %(t)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms "%(a)s"'

# The workers' heartbeat files: in memory where there is /dev/shm (a container's /tmp may be a
# slow disk that stalls them into the timeout), else the system's temporary folder.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None

# gunicorn's control socket (for gunicornc) is a file in $XDG_RUNTIME_DIR or ~/.gunicorn/, one
# path for every gunicorn this user runs on the host: nothing here uses it, so none is made.
control_socket_disable = True
