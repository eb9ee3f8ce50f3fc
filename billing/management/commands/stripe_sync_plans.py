"""Make Stripe's Prices match the plans staff define in the admin, or import Stripe's into plans."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.text import slugify

from billing import stripe_api
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
        plans = list(Plan.objects.all())
        if not plans:
            self.stdout.write("No plans to sync.")
            return
        existing = {
            p["lookup_key"]: p
            for p in stripe_api.prices_by_lookup_keys(lookup_keys=[p.lookup_key for p in plans])
        }
        for plan in plans:
            price = existing.get(plan.lookup_key)
            product_id = _product_id(price) if price else plan.stripe_product_id
            if product_id and price is None:
                product_id = (
                    ""  # a product id from another Stripe account (or a restarted stand-in)
                )
            if not product_id:
                product_id = stripe_api.product_create(
                    name=plan.name,
                    idempotency_key=f"masthead-product-{plan.lookup_key}-{slugify(plan.name)}",
                )["id"]
            elif price and _product_name(price) not in (None, plan.name):
                stripe_api.product_update(product_id=product_id, name=plan.name)
            if price is None or _differs(price, plan):
                new = stripe_api.price_create(
                    product_id=product_id,
                    amount=plan.amount,
                    currency=plan.currency,
                    interval=plan.interval,
                    lookup_key=plan.lookup_key,
                    nickname=plan.name,
                )
                if price is not None:
                    stripe_api.price_update(price_id=price["id"], active=False)
                self.stdout.write(
                    f"{plan.lookup_key}: new Price {new['id']}"
                    + (f" (archived {price['id']})" if price else "")
                )
                price = new
            elif price["active"] != plan.active:
                stripe_api.price_update(price_id=price["id"], active=plan.active)
                self.stdout.write(
                    f"{plan.lookup_key}: {'activated' if plan.active else 'archived'} {price['id']}"
                )
            else:
                self.stdout.write(f"{plan.lookup_key}: up to date ({price['id']})")
            Plan.objects.filter(pk=plan.pk).update(
                stripe_price_id=price["id"], stripe_product_id=product_id
            )

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
                    "name": price.get("nickname") or _product_name(price) or lookup_key,
                    "amount": price["unit_amount"],
                    "currency": price["currency"],
                    "interval": recurring["interval"],
                    "active": True,
                    "stripe_price_id": price["id"],
                    "stripe_product_id": _product_id(price),
                },
            )
            self.stdout.write(
                f"{'Imported' if created else 'Updated'} {plan.lookup_key} from {price['id']}"
            )


def _product_id(price: dict) -> str:
    product = price["product"]
    return product["id"] if isinstance(product, dict) else product


def _product_name(price: dict) -> str | None:
    product = price["product"]
    return product.get("name") if isinstance(product, dict) else None


def _differs(price: dict, plan: Plan) -> bool:
    """Prices cannot change amount, currency or interval: any of those needs a new Price."""
    recurring = price.get("recurring") or {}
    return (price["unit_amount"], price["currency"], recurring.get("interval")) != (
        plan.amount,
        plan.currency,
        plan.interval,
    )
