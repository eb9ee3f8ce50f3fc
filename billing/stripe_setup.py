"""What Masthead needs at Stripe, found again on every run and made to match (`manage.py stripe_setup`).

- A Product and a recurring Price for each plan, found by the plan's lookup key.
- A Customer Portal configuration: cancel at the end of the period (and resume), update the
  payment method, see invoices, switch between the active plans with proration. Found by its
  metadata, which names the site (`stripe_api.SITE_METADATA_KEY`: SITE_URL).
- The webhook endpoint at SITE_URL + /billing/stripe/webhook/, sent exactly the event types
  billing handles (`services.HANDLERS`), its events rendered as the pinned API version. Found by
  its metadata, else by its URL (one made by hand in the Dashboard is adopted).

Each `*_sync(apply=...)` compares Stripe with what the plans and settings call for. With
apply=False it changes nothing and its report lists each difference; with apply=True it makes
the changes (and records the plans' Stripe ids) and the report says what it did. Nothing is
ever made twice: what exists is updated in place. Every call goes through billing.stripe_api.
"""

from dataclasses import dataclass, field

import stripe
from django.conf import settings
from django.urls import reverse
from django.utils.text import slugify

from billing import stripe_api
from billing.models import Plan, format_amount
from billing.services import HANDLERS

# Stripe's portal switches between at most this many products.
PORTAL_PRODUCTS_MAX = 10


@dataclass
class Report:
    changes: list[str] = field(default_factory=list)  # what differs, or what was changed
    notes: list[str] = field(default_factory=list)  # up to date, or left for a person to do
    warnings: list[str] = field(default_factory=list)  # differences this command cannot mend
    secret: str | None = None  # a new webhook endpoint's signing secret, shown by Stripe once


def _site_metadata() -> dict:
    return {stripe_api.SITE_METADATA_KEY: settings.SITE_URL}


# ---- plans: a Product and a Price each ------------------------------------------------


def plans_sync(*, apply: bool) -> Report:
    """Each plan's Price at Stripe, found by lookup key, with its amount, interval and activity.

    A Price cannot change its amount, currency or interval: a changed plan gets a new Price
    that takes over the lookup key, and the old one is archived.
    """
    report = Report()
    plans = list(Plan.objects.all())
    if not plans:
        report.notes.append("No plans to sync.")
        return report
    prices = stripe_api.prices_by_lookup_keys(lookup_keys=[p.lookup_key for p in plans])
    found = {p["lookup_key"]: p for p in prices}
    for plan in plans:
        _plan_sync(plan, found.get(plan.lookup_key), apply=apply, report=report)
    return report


def _plan_sync(plan: Plan, price: dict | None, *, apply: bool, report: Report) -> None:
    key = plan.lookup_key
    wanted = f"{plan.display_price} per {plan.interval}"
    changed = len(report.changes)
    if price is None:
        # No Price with this key here: a product id the plan recorded is another account's
        # (or a restarted stand-in's), so the plan gets a new Product too.
        product_id = price_id = None
        if apply:
            product_id = stripe_api.product_create(
                name=plan.name,
                idempotency_key=f"masthead-product-{key}-{slugify(plan.name)}",
            )["id"]
            price_id = _price_create(plan, product_id)
            report.changes.append(
                f"{key}: new Price {price_id} ({wanted}), new Product {product_id}"
            )
        else:
            report.changes.append(f"{key}: no Price with this lookup key at Stripe")
    else:
        product_id, price_id = price_product_id(price), price["id"]
        name = price_product_name(price)
        if name not in (None, plan.name):
            if apply:
                stripe_api.product_update(product_id=product_id, name=plan.name)
            report.changes.append(
                f"{key}: Product {product_id} renamed from {name!r} to {plan.name!r}"
                if apply
                else f"{key}: Product {product_id} is named {name!r}, the plan {plan.name!r}"
            )
        if _differs(price, plan):
            if apply:
                price_id = _price_create(plan, product_id)
                stripe_api.price_update(price_id=price["id"], active=False)
            report.changes.append(
                f"{key}: new Price {price_id} ({wanted}), archived {price['id']}"
                if apply
                else f"{key}: Price {price['id']} charges {_price_label(price)}, the plan {wanted}"
            )
        elif price["active"] != plan.active:
            if apply:
                stripe_api.price_update(price_id=price_id, active=plan.active)
            state = "active" if plan.active else "archived"
            report.changes.append(
                f"{key}: {'activated' if plan.active else 'archived'} {price_id}"
                if apply
                else f"{key}: Price {price_id} should be {state}, as the plan is"
            )
    if apply:
        Plan.objects.filter(pk=plan.pk).update(
            stripe_price_id=price_id, stripe_product_id=product_id
        )
    elif price_id and (plan.stripe_price_id, plan.stripe_product_id) != (price_id, product_id):
        report.changes.append(
            f"{key}: the plan records {plan.stripe_price_id or 'no Price'}, Stripe's is {price_id}"
        )
    if len(report.changes) == changed:
        report.notes.append(f"{key}: up to date ({price_id})")


def _price_create(plan: Plan, product_id: str) -> str:
    return stripe_api.price_create(
        product_id=product_id,
        amount=plan.amount,
        currency=plan.currency,
        interval=plan.interval,
        lookup_key=plan.lookup_key,
        nickname=plan.name,
        active=plan.active,  # an inactive plan's Price is made archived, not archived next run
    )["id"]


def price_product_id(price: dict) -> str:
    product = price["product"]
    return product["id"] if isinstance(product, dict) else product


def price_product_name(price: dict) -> str | None:
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


def _price_label(price: dict) -> str:
    interval = (price.get("recurring") or {}).get("interval", "once")
    return f"{format_amount(price['unit_amount'], price['currency'])} per {interval}"


# ---- the Customer Portal configuration ---------------------------------------------------


def portal_features() -> tuple[dict, list[str]]:
    """The portal's features, and the active plans its switch leaves out (beyond Stripe's 10 products).

    The switch offers the active plans' recorded Prices, grouped by Product.
    """
    products: dict[str, list[str]] = {}
    left_out = []
    for plan in Plan.objects.active().exclude(stripe_price_id=""):
        if plan.stripe_product_id in products:
            products[plan.stripe_product_id].append(plan.stripe_price_id)
        elif len(products) < PORTAL_PRODUCTS_MAX:
            products[plan.stripe_product_id] = [plan.stripe_price_id]
        else:
            left_out.append(plan.lookup_key)
    switch = {"enabled": False}
    if products:
        switch = {
            "enabled": True,
            "default_allowed_updates": ["price"],
            "proration_behavior": "create_prorations",
            "products": [{"product": p, "prices": prices} for p, prices in products.items()],
        }
    features = {
        # A pending cancellation can always be resumed in the portal; nothing is refunded.
        "subscription_cancel": {
            "enabled": True,
            "mode": "at_period_end",
            "proration_behavior": "none",
        },
        "subscription_update": switch,
        "payment_method_update": {"enabled": True},
        "invoice_history": {"enabled": True},
        # The member's address is the site's, verified there: the portal does not change it.
        "customer_update": {"enabled": False},
    }
    return features, left_out


def portal_sync(*, apply: bool) -> Report:
    report = Report()
    features, left_out = portal_features()
    if left_out:
        report.warnings.append(
            f"Stripe's portal switches between at most {PORTAL_PRODUCTS_MAX} products: "
            f"plans left out of the switch: {', '.join(left_out)}"
        )
    current = stripe_api.portal_configuration_find(site_url=settings.SITE_URL)
    if current is None:
        if apply:
            current = stripe_api.portal_configuration_create(
                features=features, metadata=_site_metadata()
            )
            report.changes.append(
                f"Portal configuration {current['id']}: created ({_describe(features)})"
            )
        else:
            report.changes.append(f"Portal configuration: none made for {settings.SITE_URL}")
        return report
    differences = _portal_differences(current, features)
    if not differences:
        report.notes.append(f"Portal configuration {current['id']}: up to date")
        return report
    if apply:
        stripe_api.portal_configuration_update(
            configuration_id=current["id"], features=features, metadata=_site_metadata()
        )
    report.changes.append(
        f"Portal configuration {current['id']}: {'updated' if apply else 'differs'} "
        f"({'; '.join(differences)})"
    )
    return report


def _portal_differences(current: dict, features: dict) -> list[str]:
    differences = [] if current["active"] else ["inactive"]
    for name, wanted in features.items():
        have = current["features"][name]
        if not wanted["enabled"]:
            if have["enabled"]:
                differences.append(f"{name} is on")
            continue
        for key, value in wanted.items():
            if key == "products":
                if _products(have.get(key)) != _products(value):
                    differences.append(f"{name}.products are {_products(have.get(key)) or 'none'}")
            elif have.get(key) != value:
                differences.append(f"{name}.{key} is {have.get(key)!r}")
    return differences


def _products(products: list | None) -> list:
    return sorted((p["product"], sorted(p["prices"])) for p in products or [])


def _describe(features: dict) -> str:
    switch = features["subscription_update"]
    prices = sum(len(p["prices"]) for p in switch.get("products", []))
    return "cancel at period end and resume, payment method, invoices" + (
        f", switch between {prices} plans with proration" if switch["enabled"] else ""
    )


# ---- the webhook endpoint -------------------------------------------------------------


def webhook_url() -> str:
    return settings.SITE_URL + reverse("billing:webhook")


def webhook_events() -> list[str]:
    """Exactly the event types billing handles: Stripe sends nothing else."""
    return sorted(HANDLERS)


def webhook_endpoint_sync(*, apply: bool) -> Report:
    report = Report()
    url, events = webhook_url(), webhook_events()
    endpoints = stripe_api.webhook_endpoints_list()
    site = settings.SITE_URL
    ours = [
        e for e in endpoints if (e.get("metadata") or {}).get(stripe_api.SITE_METADATA_KEY) == site
    ]
    ours = ours or [e for e in endpoints if e["url"] == url]
    description = f"Masthead at {site} (manage.py stripe_setup)"
    if not ours:
        if apply:
            created = stripe_api.webhook_endpoint_create(
                url=url, enabled_events=events, metadata=_site_metadata(), description=description
            )
            report.secret = created["secret"]
            report.changes.append(
                f"Webhook endpoint {created['id']}: created for {url}, "
                f"sent the {len(events)} event types billing handles"
            )
        else:
            report.changes.append(f"Webhook endpoint: none posts to {url}")
        return report
    endpoint = ours[0]
    for other in endpoints:
        if other["url"] == url and other["id"] != endpoint["id"]:
            report.warnings.append(
                f"Webhook endpoint {other['id']} also posts to {url}: each event comes twice, one "
                "signed with a secret the site does not have. Delete it in the Dashboard."
            )
    if endpoint["api_version"] != stripe.api_version:
        report.warnings.append(
            f"Webhook endpoint {endpoint['id']} renders events as API version "
            f"{endpoint['api_version'] or 'the account default'}, not {stripe.api_version}, and "
            "Stripe cannot change that: delete it in the Dashboard and run stripe_setup again "
            "(it prints the new endpoint's secret for STRIPE_WEBHOOK_SECRET)."
        )
    differences = _endpoint_differences(endpoint, url, events)
    if not differences:
        report.notes.append(f"Webhook endpoint {endpoint['id']}: up to date")
        return report
    if apply:
        stripe_api.webhook_endpoint_update(
            endpoint_id=endpoint["id"],
            url=url,
            enabled_events=events,
            metadata=_site_metadata(),
            description=description,
        )
    report.changes.append(
        f"Webhook endpoint {endpoint['id']}: {'updated' if apply else 'differs'} "
        f"({'; '.join(differences)})"
    )
    return report


def _endpoint_differences(endpoint: dict, url: str, events: list[str]) -> list[str]:
    differences = []
    if endpoint["url"] != url:
        differences.append(f"posts to {endpoint['url']}")
    have = endpoint["enabled_events"]
    if "*" in have:
        differences.append("sent every event type ('*'), not only those billing handles")
    elif sorted(have) != events:
        missing, extra = sorted(set(events) - set(have)), sorted(set(have) - set(events))
        parts = [
            f"{what} {', '.join(types)}"
            for what, types in (("missing", missing), ("extra", extra))
            if types
        ]
        differences.append(f"event types {'; '.join(parts)}")
    if endpoint["status"] != "enabled":
        differences.append(endpoint["status"])
    if (endpoint.get("metadata") or {}).get(stripe_api.SITE_METADATA_KEY) != settings.SITE_URL:
        differences.append("not yet marked as this site's")
    return differences
