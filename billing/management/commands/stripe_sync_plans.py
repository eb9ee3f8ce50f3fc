"""Make Stripe's Prices match the plans staff define in the admin, or import Stripe's into plans.

The Prices alone: `manage.py stripe_setup` does this and sets up the rest of what the site needs.
"""

from django.core.management.base import BaseCommand, CommandError

from billing import stripe_api, stripe_setup
from billing.models import Interval, Plan


class Command(BaseCommand):
    help = (
        "Create or update a Stripe Price for every plan, found again by its lookup key (safe to run "
        "again). A changed amount makes a new Price that takes over the lookup key; the old one is "
        "archived. With --import, create or update plans from Stripe's active recurring Prices instead."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--import",
            action="store_true",
            dest="import_prices",
            help="Import Stripe's Prices as plans.",
        )

    def handle(self, *args, import_prices=False, **options):
        try:
            if import_prices:
                self._import()
            else:
                self._export()
        except stripe_api.StripeError as error:
            raise CommandError(f"Stripe refused or could not be reached: {error}") from error

    def _export(self):
        report = stripe_setup.plans_sync(apply=True)
        for line in report.notes + report.changes:
            self.stdout.write(line)

    def _import(self):
        for price in stripe_api.prices_list_active():
            recurring = price.get("recurring") or {}
            if (
                recurring.get("interval") not in Interval.values
                or recurring.get("interval_count", 1) != 1
            ):
                self.stdout.write(f"Skipped {price['id']}: not a monthly or yearly price.")
                continue
            lookup_key = price.get("lookup_key") or price["id"]
            plan, created = Plan.objects.update_or_create(
                lookup_key=lookup_key,
                defaults={
                    "name": price.get("nickname")
                    or stripe_setup.price_product_name(price)
                    or lookup_key,
                    "amount": price["unit_amount"],
                    "currency": price["currency"],
                    "interval": recurring["interval"],
                    "active": True,
                    "stripe_price_id": price["id"],
                    "stripe_product_id": stripe_setup.price_product_id(price),
                },
            )
            self.stdout.write(
                f"{'Imported' if created else 'Updated'} {plan.lookup_key} from {price['id']}"
            )
