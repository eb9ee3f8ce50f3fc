"""Masthead's settings: one file, production differing from development only by environment.

Every variable read here is listed, with its default, in the README's settings table.
"""

import os
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from kombu import Exchange, Queue

from config.env import env, envbool, envchoice, envint, envlist, folder_ready

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = envbool("DEBUG", "False")
SECRET_KEY = (
    env("SECRET_KEY", required=not DEBUG) or "insecure-development-key-never-used-in-production"
)
# Required in production: with none, Django would answer every request with a bare 400.
ALLOWED_HOSTS = envlist(
    "ALLOWED_HOSTS", "127.0.0.1,localhost,testserver" if DEBUG else "", required=not DEBUG
)
SITE_URL = env("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
if not SITE_URL.startswith(("http://", "https://")):
    raise ImproperlyConfigured(f"SITE_URL must start with http:// or https://, not {SITE_URL!r}.")
SITE_NAME = env("SITE_NAME", "Masthead")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.sitemaps",
    "csp",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "accounts",
    "articles",
    "billing",
]

MIDDLEWARE = [
    # first, so it sees every cookie the others set before it marks a page public or private
    "articles.http_cache.CacheHeadersMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "accounts.middleware.AccessMiddleware",
    "config.security.StaffMFAMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "config.context_processors.site",
            ],
        },
    },
]

try:
    DATABASES = {
        "default": dj_database_url.parse(
            env("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
            conn_max_age=envint("DATABASE_CONN_MAX_AGE", "60", minimum=0),
            conn_health_checks=True,
        )
    }
except ValueError as error:
    raise ImproperlyConfigured(f"DATABASE_URL is malformed: {error}") from None
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    if DATABASES["default"]["NAME"] != ":memory:":  # the file's folder, on a fresh volume
        folder_ready("DATABASE_URL", Path(DATABASES["default"]["NAME"]).parent)
    # The local run has a web process and a Celery worker writing at once: take the write
    # lock when a transaction begins (a deferred one fails with "database is locked" when
    # two try to upgrade), wait for it rather than fail, and let readers read meanwhile.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        transaction_mode="IMMEDIATE", timeout=20, init_command="PRAGMA journal_mode=WAL;"
    )

REDIS_URL = env("REDIS_URL", "")
if REDIS_URL:
    if not REDIS_URL.startswith(("redis://", "rediss://", "unix://")):
        raise ImproperlyConfigured(f"REDIS_URL must be a redis:// URL, not {REDIS_URL!r}.")
    # A Redis outage must not take pages down: errors are logged and read as cache misses,
    # and short timeouts keep a stuck Redis from holding requests.
    CACHES = {
        "default": {
            "BACKEND": "config.cache.ForgivingRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# In each process, in front of Redis: the Markdown HTML of the article versions read most
# (articles/caching.py), keyed by the version, so no web node has to be told to drop one; the
# least recently used make way. (Template fragments keep their own renders in each process.)
CACHES["local"] = {
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    "LOCATION": "renders",
    "OPTIONS": {"MAX_ENTRIES": 600},  # a long read's full text is 20-40 kB: tens of MB at most
}

# Sessions: read from Redis, written through to the database (cached_db), so any web node
# serves any reader without a query per request, and a Redis restart signs nobody out.
# Without Redis the cache is per process, which would let one process serve a session that
# another has ended, so the database alone keeps them.
SESSION_ENGINE = envchoice(
    "SESSION_ENGINE",
    "django.contrib.sessions.backends.cached_db"
    if REDIS_URL
    else "django.contrib.sessions.backends.db",
    (
        "django.contrib.sessions.backends.cached_db",
        "django.contrib.sessions.backends.db",
        "django.contrib.sessions.backends.cache",
    ),
)
# How long a CDN or browser may keep an anonymous reader's page (articles/http_cache.py), and
# how long the server keeps an anonymous article page (articles/caching.py).
PUBLIC_CACHE_SECONDS = envint("PUBLIC_CACHE_SECONDS", "60", minimum=0)
# Serves the hello-world ceiling at /_ceiling/ for `make bench` (config/bench_views.py).
BENCH_CEILING = envbool("BENCH_CEILING", "False")

AUTH_USER_MODEL = "accounts.User"
# Django's and allauth's, each loading the session's member with their access in one query.
AUTHENTICATION_BACKENDS = [
    "accounts.backends.MemberModelBackend",
    "accounts.backends.MemberAllauthBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"

# allauth: email is the login, verification is mandatory, logout only by POST,
# and its rate limits (on by default, kept in the cache) stay on.
ACCOUNT_LOGIN_METHODS = {"email"}
# One password field (with a show/hide control) rather than typing it twice: accounts/forms.py.
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*"]
ACCOUNT_FORMS = {"signup": "accounts.forms.SignupForm"}
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
# The mailed link confirms on the click itself (GET), no second button. Safe enough because
# the link only proves the mailbox got it: allauth signs in on confirmation only in the browser
# that signed up, within ACCOUNT_LOGIN_TIMEOUT (its pending login lives in that session), so a
# mail scanner that fetches links, or anyone the mail is forwarded to, confirms the address
# and gets no session. The cost: such a scanner uses the link first, and the reader's own
# click then finds it used (the page says so and offers to sign in).
ACCOUNT_CONFIRM_EMAIL_ON_GET = True
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_CHANGE_EMAIL = True
ACCOUNT_PREVENT_ENUMERATION = True
# A member hears of every change to their account's security (password, address, two-factor),
# so one they did not make does not go unnoticed.
ACCOUNT_EMAIL_NOTIFICATIONS = True
# allauth's limits, plus one for the newsletter sign-up form (accounts.views.newsletter_signup):
# each posts a confirmation mail, so an address or a script cannot flood an inbox.
# "signup_resend": the Resend button of an unconfirmed sign-up (accounts/signup.py), on top of
# allauth's one verification mail per address per ACCOUNT_EMAIL_CONFIRMATION_COOLDOWN.
ACCOUNT_RATE_LIMITS = {"newsletter_signup": "20/h/ip", "signup_resend": "10/h/ip"}
# Account mail speaks as the brand (accounts/adapter.py and templates/account/email/): the
# subject starts with the site's name, never allauth's default of the Site's host name.
ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"
ACCOUNT_EMAIL_SUBJECT_PREFIX = f"{SITE_NAME}: "
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https" if SITE_URL.startswith("https://") else "http"

# Two-factor authentication (TOTP and recovery codes) for every member; staff must set it
# up before they use the admin when MFA_REQUIRED_FOR_STAFF is on (config/security.py).
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = SITE_NAME
MFA_REQUIRED_FOR_STAFF = envbool("MFA_REQUIRED_FOR_STAFF", "False" if DEBUG else "True")

# The membership: how long the free trial lasts, counted from email verification.
TRIAL_DAYS = envint("TRIAL_DAYS", "7", minimum=0)
# The meter: premium articles a free member (verified, no trial or subscription in force) reads
# in full each calendar month before the paywall; 0 turns it off. Anonymous readers are asked
# to create an account for them (accounts/entitlements.py).
METERED_FREE_ARTICLES = envint("METERED_FREE_ARTICLES", "0", minimum=0)
if METERED_FREE_ARTICLES > 100:
    raise ImproperlyConfigured(
        f"METERED_FREE_ARTICLES must be at most 100 a month, not {METERED_FREE_ARTICLES}."
    )

# Billing. no_card: the site's own trial, then Checkout without a trial; card: no trial at
# sign-up, Checkout starts a Stripe trial of the plan's trial days (once per person).
TRIAL_MODE = envchoice("TRIAL_MODE", "no_card", ("no_card", "card"))
PAYMENT_GRACE_DAYS = envint("PAYMENT_GRACE_DAYS", "7", minimum=0)

# Stripe. Without a secret key, development talks to the local stand-in (stripe_standin/),
# which `make run` starts; production refuses anything but Stripe itself.
STRIPE_LIVE_API_BASE = "https://api.stripe.com"
STRIPE_STANDIN_API_BASE = "http://127.0.0.1:12111"
STRIPE_SECRET_KEY = env("STRIPE_SECRET_KEY", "")
STRIPE_USES_STANDIN = not STRIPE_SECRET_KEY
STRIPE_API_BASE = env(
    "STRIPE_API_BASE", STRIPE_STANDIN_API_BASE if STRIPE_USES_STANDIN else STRIPE_LIVE_API_BASE
).rstrip("/")
# The stand-in signs with this in development; billing's system check refuses it anywhere else.
STRIPE_DEVELOPMENT_WEBHOOK_SECRET = "whsec_masthead_development"
STRIPE_WEBHOOK_SECRET = env(
    "STRIPE_WEBHOOK_SECRET", STRIPE_DEVELOPMENT_WEBHOOK_SECRET if DEBUG else ""
)
STRIPE_NETWORK_RETRIES = envint("STRIPE_NETWORK_RETRIES", "2", minimum=0)
# Each try's limit: (retries + 1) tries must fit in gunicorn's 30 s request timeout.
STRIPE_TIMEOUT_SECONDS = envint("STRIPE_TIMEOUT_SECONDS", "8", minimum=1)
# Every idempotency key the site sends Stripe starts with this, so two sites sharing a Stripe
# account (a staging copy in test mode) never answer each other's requests with a replay.
STRIPE_IDEMPOTENCY_PREFIX = env(
    "STRIPE_IDEMPOTENCY_PREFIX", SITE_URL.split("://", 1)[-1].rstrip("/") + ":"
)
if len(STRIPE_IDEMPOTENCY_PREFIX) > 100:
    raise ImproperlyConfigured(
        "STRIPE_IDEMPOTENCY_PREFIX must be at most 100 characters (Stripe's keys hold 255)."
    )
# Stripe Tax in Checkout: the tax due is added to each invoice, and shown as Stripe charges it.
STRIPE_AUTOMATIC_TAX = envbool("STRIPE_AUTOMATIC_TAX", "False")
if DEBUG and STRIPE_USES_STANDIN:
    STRIPE_SECRET_KEY = "sk_test_masthead_standin"  # the stand-in accepts any sk_test_ key
if not DEBUG and not STRIPE_SECRET_KEY:
    raise ImproperlyConfigured(
        "STRIPE_SECRET_KEY is required in production (sk_live_..., sk_test_... or rk_...)."
    )
if STRIPE_SECRET_KEY and not STRIPE_SECRET_KEY.startswith(
    ("sk_live_", "sk_test_", "rk_live_", "rk_test_")
):
    raise ImproperlyConfigured(
        "STRIPE_SECRET_KEY must start with sk_live_, sk_test_ or rk_ (a Stripe secret key)."
    )
# Empty is allowed: going live, the endpoint and its secret are made by `stripe_setup`, which
# runs in the first deploy's release step; until the secret is set every event is refused (400,
# so Stripe retries it) and `check --deploy` says so (billing.E004).
if STRIPE_WEBHOOK_SECRET and not STRIPE_WEBHOOK_SECRET.startswith("whsec_"):
    raise ImproperlyConfigured(
        "STRIPE_WEBHOOK_SECRET must start with whsec_ (an endpoint's signing secret), "
        f"not {STRIPE_WEBHOOK_SECRET[:6]!r}..."
    )
if not STRIPE_API_BASE.startswith(("http://", "https://")):
    raise ImproperlyConfigured(f"STRIPE_API_BASE must be an http(s) URL, not {STRIPE_API_BASE!r}.")
# A secret key goes to Stripe only. One exception with DEBUG off: a test key to this machine's
# loopback, where the production smoke test runs the stand-in (tests/integration/processes/);
# billing's deploy check (billing.W001) still flags it.
_standin_on_loopback = urlsplit(STRIPE_API_BASE).hostname in (
    "127.0.0.1",
    "localhost",
    "::1",
) and STRIPE_SECRET_KEY.startswith(("sk_test_", "rk_test_"))
if STRIPE_API_BASE != STRIPE_LIVE_API_BASE and (
    STRIPE_SECRET_KEY.startswith(("sk_live_", "rk_live_")) or not (DEBUG or _standin_on_loopback)
):
    raise ImproperlyConfigured(
        f"STRIPE_API_BASE must be {STRIPE_LIVE_API_BASE} in production (or a loopback address "
        f"with a test key) and with a live key, not {STRIPE_API_BASE!r}."
    )

EMAIL_BACKEND = env(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env("EMAIL_HOST", "localhost")
EMAIL_PORT = envint("EMAIL_PORT", "25", minimum=1)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = envbool("EMAIL_USE_TLS", "False")
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", f"{SITE_NAME} <hello@example.com>")
EMAIL_FILE_PATH = env(
    "EMAIL_FILE_PATH", str(BASE_DIR / "var" / "mail")
)  # for the file-based backend
if EMAIL_BACKEND == "django.core.mail.backends.filebased.EmailBackend":
    folder_ready("EMAIL_FILE_PATH", EMAIL_FILE_PATH)
# Mail through a provider's API: EMAIL_BACKEND=anymail.backends.<provider>.EmailBackend, and
# its settings as ANYMAIL_<NAME> (ANYMAIL_POSTMARK_SERVER_TOKEN=... -> ANYMAIL["POSTMARK_SERVER_TOKEN"]).
ANYMAIL = {
    name.removeprefix("ANYMAIL_"): env(name)
    for name in sorted(os.environ)
    if name.startswith("ANYMAIL_")
}

# Celery: trial ends, reminders and member mail (see config/celery.py and accounts/tasks.py).
# The local run needs no broker server: kombu's filesystem transport keeps messages
# under var/celery/. Production and CI use Redis; a production run without a broker
# stops here rather than losing mail.
CELERY_BROKER_URL = env(
    "CELERY_BROKER_URL", "filesystem://localhost/" if DEBUG else None, required=not DEBUG
)
if CELERY_BROKER_URL.startswith("filesystem://"):
    _celery_folder = Path(env("CELERY_FILESYSTEM_FOLDER", str(BASE_DIR / "var" / "celery")))
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_celery_folder / "queue"),
        "data_folder_out": str(_celery_folder / "queue"),
        "processed_folder": str(_celery_folder / "processed"),
        "control_folder": str(_celery_folder / "control"),
        "polling_interval": 0.1,  # seconds between looks at the folder (the default is 1)
    }
    for _folder in ("queue", "processed", "control"):
        folder_ready("CELERY_FILESYSTEM_FOLDER", _celery_folder / _folder)
elif CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    # Redis hands an unacknowledged task to another worker after this long: longer than any
    # task's hard time limit, or a slow task would run twice at once, and longer than the
    # longest retry countdown (mail's backoff, at most 30 minutes), or a retry waiting in a
    # worker is handed out again before it is due, and its copies multiply.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
else:
    raise ImproperlyConfigured(
        f"CELERY_BROKER_URL must be a redis:// URL or filesystem://, not {CELERY_BROKER_URL!r}."
    )
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_IGNORE_RESULT = True  # tasks change records and send mail; nobody waits on a result
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# A task is acknowledged when it is done, and handed to another worker if its worker dies.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Every task has a time limit; tasks that need another set their own.
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_TASK_TIME_LIMIT = 300
# Mail has its own queue, so a slow mail server never holds up the sweeps (and the other
# way round). A worker started without -Q consumes both.
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_TASK_DEFAULT_QUEUE", "masthead")
CELERY_MAIL_QUEUE = f"{CELERY_TASK_DEFAULT_QUEUE}.mail"
CELERY_NEWSLETTER_QUEUE = f"{CELERY_TASK_DEFAULT_QUEUE}.newsletter"
CELERY_TASK_QUEUES = [
    Queue(name, Exchange(name), routing_key=name)
    for name in (CELERY_TASK_DEFAULT_QUEUE, CELERY_MAIL_QUEUE, CELERY_NEWSLETTER_QUEUE)
]
CELERY_TASK_ROUTES = {
    "accounts.tasks.mail_send_task": {"queue": CELERY_MAIL_QUEUE},
    # a newsletter's batches on a queue of their own: account mail is never stuck behind them
    "articles.tasks.newsletter_send_batch_task": {"queue": CELERY_NEWSLETTER_QUEUE},
    "articles.tasks.newsletter_plan_task": {"queue": CELERY_NEWSLETTER_QUEUE},
}
# Beat keeps each job's last run in this file (a shelve): losing it only makes every job
# wait one interval more. config.celery.Scheduler creates its folder when beat starts, and
# only there: a web node never needs it.
CELERY_BEAT_SCHEDULE_FILENAME = env(
    "CELERY_BEAT_SCHEDULE_FILENAME", str(BASE_DIR / "var" / "celerybeat-schedule")
)
CELERY_BEAT_SCHEDULER = "config.celery:Scheduler"
# How often beat ends due trials (the clock already ended their access; this records the end
# and sends the trial-ended mail). Settable so the production smoke test sees it within seconds.
TRIAL_END_SWEEP_SECONDS = envint("TRIAL_END_SWEEP_SECONDS", "60", minimum=1)
CELERY_BEAT_SCHEDULE = {
    "trials-end-due": {
        "task": "accounts.tasks.trials_end_due_task",
        "schedule": float(TRIAL_END_SWEEP_SECONDS),
    },
    "trials-remind-ending": {
        "task": "accounts.tasks.trials_remind_ending_task",
        "schedule": 10 * 60.0,
    },
    "mail-requeue-unsent": {
        "task": "accounts.tasks.mail_requeue_unsent_task",
        "schedule": 15 * 60.0,
    },
    "complimentary-end-due": {
        "task": "accounts.tasks.complimentary_end_due_task",
        "schedule": 60 * 60.0,
    },
    "grace-end-due": {"task": "billing.tasks.grace_end_due_task", "schedule": 60 * 60.0},
    "newsletter-sends-start-due": {
        "task": "articles.tasks.newsletter_sends_start_due_task",
        "schedule": 60.0,
    },
    "stripe-reconcile": {"task": "billing.tasks.stripe_reconcile_task", "schedule": 24 * 60 * 60.0},
    "meter-reads-prune": {
        "task": "accounts.tasks.meter_reads_prune_task",
        "schedule": 24 * 60 * 60.0,
    },
}
# Rows per transaction in the trial sweeps: large enough that a million due trials end
# within a minute (bench/trial_sweep.py), small enough to hold each row lock for well
# under a second.
TRIAL_SWEEP_CHUNK = envint("TRIAL_SWEEP_CHUNK", "5000", minimum=1)
# Recipients per newsletter sending task: a thousand tasks for a million members, and a
# task short enough (well under its 240 s limit) to pause or cancel between batches.
NEWSLETTER_BATCH = envint("NEWSLETTER_BATCH", "500", minimum=1)
# How a batch goes out (articles/newsletter_transport.py): auto, one provider API call per
# version of the article when EMAIL_BACKEND is django-anymail's for Mailgun or SparkPost, else a
# message per recipient; per-message, always the latter; anymail-batch, always the former, and
# start-up stops when EMAIL_BACKEND cannot (articles/apps.py).
NEWSLETTER_TRANSPORT = envchoice(
    "NEWSLETTER_TRANSPORT", "auto", ("auto", "per-message", "anymail-batch")
)

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# Where collectstatic (the release step) writes, and whitenoise serves from on each web node.
STATIC_ROOT = Path(env("STATIC_ROOT", str(BASE_DIR / "var" / "static")))
STATICFILES_DIRS = [BASE_DIR / "static"]
# Uploaded files: articles' attachments, which only the download view serves, after the
# entitlement check (articles/views.py download). No URL serves this folder, so MEDIA_URL stays
# unset; made at start, so a fresh clone or a new volume works.
MEDIA_ROOT = folder_ready("MEDIA_ROOT", env("MEDIA_ROOT", str(BASE_DIR / "var" / "media")))
ATTACHMENT_MAX_BYTES = envint("ATTACHMENT_MAX_BYTES", str(20 * 1024 * 1024), minimum=1)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# HTTPS and cookies. Production (DEBUG off) defaults to the strict side; each can be relaxed
# through the environment. `manage.py check --deploy --fail-level WARNING` passes with these.
SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", "False" if DEBUG else "True")
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # load balancers probe over plain HTTP
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", "0" if DEBUG else "31536000", minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool(
    "SECURE_HSTS_INCLUDE_SUBDOMAINS", "False" if DEBUG else "True"
)
SECURE_HSTS_PRELOAD = envbool("SECURE_HSTS_PRELOAD", "False" if DEBUG else "True")
# Behind a proxy that terminates TLS, Django learns the scheme from X-Forwarded-Proto; only
# safe when that proxy always sets (overwrites) the header.
if envbool("TRUST_X_FORWARDED_PROTO", "False"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# How many proxies in front of the site append to X-Forwarded-For. allauth's rate limits count
# per client address: 0 uses the connection's address, so a forged header cannot dodge them.
ALLAUTH_TRUSTED_PROXY_COUNT = envint("TRUSTED_PROXY_COUNT", "0", minimum=0)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = envbool("SECURE_COOKIES", "False" if DEBUG else "True")
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

# Content Security Policy (django-csp): our own origin only; an inline script must carry the
# request's nonce ({{ request.csp_nonce }}). Stripe Checkout is a redirect, not an embed, so
# nothing of Stripe's is loaded here. img-src allows data: for the TOTP QR code.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    # The Stripe SDK logs every request at INFO; its warnings and errors still show.
    "loggers": {"stripe": {"level": "WARNING"}},
}
