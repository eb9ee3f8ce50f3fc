"""`make run`'s Stripe: the local stand-in, with the plans' Prices created in it."""

import threading
import time
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse


class Command(BaseCommand):
    help = (
        "Serve the local Stripe stand-in at STRIPE_API_BASE, posting signed webhooks to this site, "
        "and create the plans' Prices in it. Development only: with STRIPE_SECRET_KEY set, the site "
        "uses Stripe and this command only waits (Procfile.dev runs it either way)."
    )

    def handle(self, *args, **options):
        if not settings.STRIPE_USES_STANDIN:
            self.stdout.write(
                "STRIPE_SECRET_KEY is set: the site talks to Stripe, no stand-in needed."
            )
            threading.Event().wait()  # stay up: honcho stops every process when one exits
            return
        if not settings.DEBUG:
            raise CommandError("The Stripe stand-in is for development only (DEBUG is off).")
        from stripe_standin import create_server

        base = urlsplit(settings.STRIPE_API_BASE)
        webhook_url = settings.SITE_URL + reverse("billing:webhook")
        server = create_server(
            base.hostname or "127.0.0.1",
            base.port or 12111,
            webhook_url=webhook_url,
            webhook_secret=settings.STRIPE_WEBHOOK_SECRET,
        )
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        self.stdout.write(
            f"Stripe stand-in listening on {server.base_url}, webhooks to {webhook_url}",
            ending="\n",
        )
        self.stdout.flush()
        # The stand-in starts empty every time: give it this site's plans.
        call_command("stripe_sync_plans", stdout=self.stdout)
        self.stdout.write(
            f"Pay in its checkout with 4242 4242 4242 4242 (declined: 4000 0000 0000 0002). State: {server.base_url}/_standin/state"
        )
        self.stdout.flush()
        try:
            while thread.is_alive():
                time.sleep(1)
        except KeyboardInterrupt:
            pass
        finally:
            server.shutdown()
            server.server_close()
