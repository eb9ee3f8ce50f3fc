"""``python -m stripe_standin.site``: `make run`'s Stripe, the stand-in set up from the site's settings.

Procfile.dev runs it beside the web server. Without STRIPE_SECRET_KEY it listens at
settings.STRIPE_API_BASE, posts signed webhooks (STRIPE_WEBHOOK_SECRET) to the site's own
webhook, SITE_URL + reverse("billing:webhook"), and, once it is up, runs
`manage.py stripe_setup`, as a deploy does: the stand-in starts empty every time, and this gives
it the plans' Prices and the portal configuration, and adopts its webhook endpoint (the one it
posts to, found by its URL) for the event types billing handles. With STRIPE_SECRET_KEY set the
site talks to Stripe, and this only waits. Development only: it refuses to start with DEBUG off.

The one module of the stand-in that imports Django, and only here, so that the site's apps
never import the stand-in and the stand-in itself runs without Django.
"""

import contextlib
import os
import sys
import threading
from urllib.parse import urlsplit

from .server import create_server


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.urls import reverse

    if not settings.STRIPE_USES_STANDIN:
        print("STRIPE_SECRET_KEY is set: the site talks to Stripe, no stand-in needed.", flush=True)
        _wait()  # stay up: honcho stops every process when one exits
        return 0
    if not settings.DEBUG:  # the settings refuse this already; the stand-in makes sure
        return "The Stripe stand-in is for development only (DEBUG is off)."

    base = urlsplit(settings.STRIPE_API_BASE)
    webhook_url = settings.SITE_URL + reverse("billing:webhook")
    server = create_server(
        base.hostname or "127.0.0.1",
        base.port or 12111,
        webhook_url=webhook_url,
        webhook_secret=settings.STRIPE_WEBHOOK_SECRET,
        # Stripe's test-mode retries (three, over hours) in seconds: a site restarting under
        # runserver's autoreload for a minute still gets every event.
        retry_base=10.0,
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        print(
            f"Stripe stand-in listening on {server.base_url}, webhooks to {webhook_url}",
            flush=True,
        )
        call_command("stripe_setup")
        print(
            "Pay in its checkout with 4242 4242 4242 4242 (declined: 4000 0000 0000 0002). "
            f"State: {server.base_url}/_standin/state",
            flush=True,
        )
        _wait()
    finally:
        server.shutdown()
        server.server_close()
    return 0


def _wait():
    """Block until interrupted (Ctrl-C in honcho); honcho's SIGTERM ends the process outright."""
    with contextlib.suppress(KeyboardInterrupt):
        threading.Event().wait()


if __name__ == "__main__":
    sys.exit(main())
