"""The boundary with Stripe: every call Masthead makes to Stripe goes through here.

The official SDK, pointed at settings.STRIPE_API_BASE with settings.STRIPE_SECRET_KEY,
so tests and `make run` talk to the local stand-in (stripe_standin/) and production
to Stripe. Functions return plain dicts (Stripe's JSON), so callers never depend on
the SDK's object types; failures raise `StripeError` (or its `APIConnectionError`).
"""

import json
from collections.abc import Iterator
from typing import Any

import stripe
from django.conf import settings

StripeError = stripe.StripeError
APIConnectionError = stripe.APIConnectionError
InvalidRequestError = stripe.InvalidRequestError
SignatureVerificationError = stripe.SignatureVerificationError

StripeDict = dict[str, Any]

# Stripe answers a prices.list with more lookup keys than this with a 400.
LOOKUP_KEYS_PER_CALL = 10
# The metadata key that marks what `manage.py stripe_setup` made, and for which site (SITE_URL):
# two sites sharing a Stripe account (a staging copy in test mode) each find their own.
SITE_METADATA_KEY = "masthead_site"
# A portal configuration's products are an includable field: Stripe returns them only when asked.
PORTAL_PRODUCTS = "features.subscription_update.products"


def _client() -> stripe.StripeClient:
    # Built per call: cheap, and settings changed by tests take effect at once. The SDK waits
    # 80 s for an answer by default, longer than gunicorn lets a request live (30 s): a Stripe
    # that hangs would get the worker killed, not the member told. STRIPE_TIMEOUT_SECONDS bounds
    # each try, so the member sees "couldn't reach our payment provider" instead.
    return stripe.StripeClient(
        settings.STRIPE_SECRET_KEY,
        base_addresses={"api": settings.STRIPE_API_BASE},
        max_network_retries=settings.STRIPE_NETWORK_RETRIES,
        http_client=stripe.new_default_http_client(timeout=settings.STRIPE_TIMEOUT_SECONDS),
    )


def _idempotent(key: str) -> dict:
    """Request options with this site's idempotency key: the settings' prefix, then `key`.

    Stripe keeps a key for 24 hours per account, not per site; two sites on one account (or a
    staging copy) would otherwise get each other's results back for the same member number.
    """
    return {"idempotency_key": settings.STRIPE_IDEMPOTENCY_PREFIX + key}


def _plain(obj) -> StripeDict:
    # JSON again (the SDK turns *_decimal fields into Decimal), so results can be stored as they came.
    return json.loads(json.dumps(obj.to_dict(), default=str))


class MalformedEvent(ValueError):
    """A correctly signed body that is not an event: not a JSON object, or no `id` or `type`."""


def webhook_event_construct(*, payload: bytes, signature: str | None) -> StripeDict:
    """Verify a webhook's signature on the raw body, then its shape.

    Raises SignatureVerificationError (or ValueError) when it is not provably from Stripe, and
    MalformedEvent when it is signed but is not an event (the caller records that).
    """
    stripe.WebhookSignature.verify_header(
        payload, signature, settings.STRIPE_WEBHOOK_SECRET, stripe.Webhook.DEFAULT_TOLERANCE
    )
    try:
        event = json.loads(payload)  # the event exactly as Stripe sent it
    except ValueError as error:
        raise MalformedEvent(f"not JSON: {error}") from None
    if not isinstance(event, dict):
        raise MalformedEvent(f"a JSON {type(event).__name__}, not an object")
    for field in ("id", "type"):
        if not isinstance(event.get(field), str) or not event[field]:
            raise MalformedEvent(f"no {field}")
    return event


def customer_create(*, email: str, user_id: int, idempotency_key: str) -> StripeDict:
    return _plain(
        _client().v1.customers.create(
            params={"email": email, "metadata": {"user_id": str(user_id)}},
            options=_idempotent(idempotency_key),
        )
    )


def checkout_session_create(
    *,
    customer_id: str,
    price_id: str,
    user_id: int,
    success_url: str,
    cancel_url: str,
    trial_days: int | None = None,
    trial_end: int | None = None,
    idempotency_key: str | None = None,
) -> StripeDict:
    """A new Checkout Session for one Price, or, for a repeated `idempotency_key`, the one it
    made. Its trial lasts `trial_days`, or ends at `trial_end` (a Unix time at least 48 hours
    away, as Stripe requires). Promotion codes are accepted, and with
    settings.STRIPE_AUTOMATIC_TAX Stripe Tax adds the tax due (from the billing address the page
    asks for, saved on the Customer: Checkout needs it to calculate).

    Stripe answers a repeat with the first response as it was then; the session may have been
    expired or paid since, so a replayed one is fetched again and returned as it is now.
    """
    params: dict[str, Any] = {
        "mode": "subscription",
        "customer": customer_id,
        "client_reference_id": str(user_id),
        "line_items": [{"price": price_id, "quantity": 1}],
        "success_url": success_url,
        "cancel_url": cancel_url,
        "allow_promotion_codes": True,
        "metadata": {"user_id": str(user_id)},
    }
    subscription_data: dict[str, Any] = {"metadata": {"user_id": str(user_id)}}
    if trial_days:
        subscription_data["trial_period_days"] = trial_days
    elif trial_end:
        subscription_data["trial_end"] = trial_end
    params["subscription_data"] = subscription_data
    if settings.STRIPE_AUTOMATIC_TAX:
        params["automatic_tax"] = {"enabled": True}
        params["customer_update"] = {"address": "auto"}
    client = _client()
    options = _idempotent(idempotency_key) if idempotency_key else {}
    session = client.v1.checkout.sessions.create(params=params, options=options)
    headers = {k.lower(): v for k, v in (session.last_response.headers or {}).items()}
    if headers.get("idempotent-replayed") == "true":
        session = client.v1.checkout.sessions.retrieve(session.id)
    return _plain(session)


def checkout_session_retrieve(*, session_id: str) -> StripeDict:
    """The session with its subscription expanded (None until paid)."""
    return _plain(
        _client().v1.checkout.sessions.retrieve(session_id, params={"expand": ["subscription"]})
    )


def checkout_session_expire(*, session_id: str) -> StripeDict:
    return _plain(_client().v1.checkout.sessions.expire(session_id))


def portal_session_create(
    *, customer_id: str, return_url: str, configuration_id: str | None
) -> StripeDict:
    """A portal session; without a configuration Stripe uses the account's default, if it has one."""
    params = {"customer": customer_id, "return_url": return_url}
    if configuration_id:
        params["configuration"] = configuration_id
    return _plain(_client().v1.billing_portal.sessions.create(params=params))


def portal_configurations_list() -> list[StripeDict]:
    """Every portal configuration of the account, newest first, with its products."""
    page = _client().v1.billing_portal.configurations.list(
        params={"limit": 100, "expand": [f"data.{PORTAL_PRODUCTS}"]}
    )
    return [_plain(c) for c in page.auto_paging_iter()]


def portal_configuration_find(*, site_url: str) -> StripeDict | None:
    """The configuration `stripe_setup` made for this site (its metadata names it), if any."""
    for configuration in portal_configurations_list():
        if (configuration.get("metadata") or {}).get(SITE_METADATA_KEY) == site_url:
            return configuration
    return None


def portal_configuration_create(*, features: dict, metadata: dict) -> StripeDict:
    return _plain(
        _client().v1.billing_portal.configurations.create(
            params={"features": features, "metadata": metadata, "expand": [PORTAL_PRODUCTS]}
        )
    )


def portal_configuration_update(
    *, configuration_id: str, features: dict, metadata: dict
) -> StripeDict:
    """Set these features (and make it active again); features not named are left as they are."""
    return _plain(
        _client().v1.billing_portal.configurations.update(
            configuration_id,
            params={
                "active": True,
                "features": features,
                "metadata": metadata,
                "expand": [PORTAL_PRODUCTS],
            },
        )
    )


def webhook_endpoints_list() -> list[StripeDict]:
    page = _client().v1.webhook_endpoints.list(params={"limit": 100})
    return [_plain(e) for e in page.auto_paging_iter()]


def webhook_endpoint_create(
    *, url: str, enabled_events: list[str], metadata: dict, description: str
) -> StripeDict:
    """A new endpoint, its events rendered as the pinned API version; the result holds its
    signing `secret`, which Stripe shows this once only."""
    return _plain(
        _client().v1.webhook_endpoints.create(
            params={
                "url": url,
                "enabled_events": enabled_events,
                "api_version": stripe.api_version,
                "metadata": metadata,
                "description": description,
            }
        )
    )


def webhook_endpoint_update(
    *, endpoint_id: str, url: str, enabled_events: list[str], metadata: dict, description: str
) -> StripeDict:
    """Point an endpoint here, subscribe it to these events and enable it (its API version and
    secret stay: Stripe sets them at creation only)."""
    return _plain(
        _client().v1.webhook_endpoints.update(
            endpoint_id,
            params={
                "url": url,
                "enabled_events": enabled_events,
                "disabled": False,
                "metadata": metadata,
                "description": description,
            },
        )
    )


def subscription_retrieve(*, subscription_id: str) -> StripeDict:
    """The subscription with its latest invoice expanded: what it charged (discounts, tax),
    whether it is paid, and its hosted page (where a payment needing the member is confirmed)."""
    return _plain(
        _client().v1.subscriptions.retrieve(subscription_id, params={"expand": ["latest_invoice"]})
    )


def invoice_payment_needs_action(*, invoice_id: str) -> bool:
    """Whether the invoice's payment waits for the cardholder to authenticate (3-D Secure): its
    PaymentIntent `requires_action`, not a declined card (`requires_payment_method`)."""
    invoice = _plain(
        _client().v1.invoices.retrieve(
            invoice_id, params={"expand": ["payments.data.payment.payment_intent"]}
        )
    )
    return any(
        isinstance((payment.get("payment") or {}).get("payment_intent"), dict)
        and payment["payment"]["payment_intent"].get("status") == "requires_action"
        for payment in (invoice.get("payments") or {}).get("data", [])
    )


def invoice_preview(*, subscription_id: str) -> StripeDict | None:
    """The subscription's next invoice as Stripe would make it now (discounts, tax), or None
    when it will not invoice again (canceled, or ending at period end)."""
    try:
        return _plain(
            _client().v1.invoices.create_preview(params={"subscription": subscription_id})
        )
    except stripe.InvalidRequestError as error:
        if getattr(error, "code", None) == "invoice_upcoming_none":
            return None
        raise


def subscription_cancellation_clear(
    *, subscription_id: str, clear: str, idempotency_key: str
) -> StripeDict:
    """Stop a pending cancellation: `clear` names how it was scheduled.

    `cancel_at_period_end` is turned off with `false`; a date in `cancel_at` is unset with an
    empty string, as Stripe unsets any nullable field. One at a time: each undoes its own kind.
    """
    params: dict[str, Any] = (
        {"cancel_at_period_end": False} if clear == "cancel_at_period_end" else {"cancel_at": ""}
    )
    return _plain(
        _client().v1.subscriptions.update(
            subscription_id, params=params, options=_idempotent(idempotency_key)
        )
    )


def _list_page(path: str, params: dict[str, Any]) -> StripeDict:
    """One page of a list, as Stripe's JSON: no SDK objects made for thousands of rows."""
    return _client().raw_request("get", path, **params).data


def events_pages(*, created_gte: int, types: list[str]) -> Iterator[list[StripeDict]]:
    """Events created since `created_gte` (a Unix time), a page of up to 100 at a time, newest
    first: one page in memory at once, however many there are."""
    params: dict[str, Any] = {"created": {"gte": created_gte}, "types": types, "limit": 100}
    while True:
        page = _list_page("/v1/events", params)
        yield page["data"]
        if not page["has_more"] or not page["data"]:
            return
        params["starting_after"] = page["data"][-1]["id"]


def subscriptions_page(*, starting_after: str | None = None) -> tuple[list[StripeDict], str | None]:
    """One page (up to 100) of every subscription of the account, whatever its status, newest
    first, each with its latest invoice (as `subscription_retrieve` has it); and the cursor of
    the next page (None after the last)."""
    params: dict[str, Any] = {"status": "all", "limit": 100, "expand": ["data.latest_invoice"]}
    if starting_after:
        params["starting_after"] = starting_after
    page = _list_page("/v1/subscriptions", params)
    subscriptions = page["data"]
    more = page["has_more"] and subscriptions
    return subscriptions, subscriptions[-1]["id"] if more else None


def prices_by_lookup_keys(*, lookup_keys: list[str]) -> list[StripeDict]:
    """The Prices holding any of these lookup keys (active or not), asked ten keys at a time."""
    found = []
    for start in range(0, len(lookup_keys), LOOKUP_KEYS_PER_CALL):
        page = _client().v1.prices.list(
            params={
                "lookup_keys": lookup_keys[start : start + LOOKUP_KEYS_PER_CALL],
                "limit": 100,
                "expand": ["data.product"],
            }
        )
        found += [_plain(p) for p in page.auto_paging_iter()]
    return found


def prices_list_active() -> list[StripeDict]:
    page = _client().v1.prices.list(
        params={"active": True, "type": "recurring", "limit": 100, "expand": ["data.product"]}
    )
    return [_plain(p) for p in page.auto_paging_iter()]


def product_create(*, name: str, idempotency_key: str) -> StripeDict:
    return _plain(
        _client().v1.products.create(params={"name": name}, options=_idempotent(idempotency_key))
    )


def product_update(*, product_id: str, name: str) -> StripeDict:
    return _plain(_client().v1.products.update(product_id, params={"name": name}))


def price_create(
    *,
    product_id: str,
    amount: int,
    currency: str,
    interval: str,
    lookup_key: str,
    nickname: str,
    active: bool = True,
) -> StripeDict:
    """A new recurring Price that takes over `lookup_key` from any older one."""
    return _plain(
        _client().v1.prices.create(
            params={
                "product": product_id,
                "unit_amount": amount,
                "currency": currency,
                "recurring": {"interval": interval},
                "lookup_key": lookup_key,
                "transfer_lookup_key": True,
                "nickname": nickname,
                "active": active,
            }
        )
    )


def price_update(*, price_id: str, active: bool) -> StripeDict:
    return _plain(_client().v1.prices.update(price_id, params={"active": active}))
