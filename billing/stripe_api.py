"""The boundary with Stripe: every call Masthead makes to Stripe goes through here.

The official SDK, pointed at settings.STRIPE_API_BASE with settings.STRIPE_SECRET_KEY,
so tests and `make run` talk to the local stand-in (stripe_standin/) and production
to Stripe. Functions return plain dicts (Stripe's JSON), so callers never depend on
the SDK's object types; failures raise `StripeError` (or its `APIConnectionError`).
"""

import json
from typing import Any

import stripe
from django.conf import settings

StripeError = stripe.StripeError
APIConnectionError = stripe.APIConnectionError
InvalidRequestError = stripe.InvalidRequestError
SignatureVerificationError = stripe.SignatureVerificationError

StripeDict = dict[str, Any]


def _client() -> stripe.StripeClient:
    # Built per call: cheap, and settings changed by tests take effect at once.
    return stripe.StripeClient(
        settings.STRIPE_SECRET_KEY,
        base_addresses={"api": settings.STRIPE_API_BASE},
        max_network_retries=settings.STRIPE_NETWORK_RETRIES,
    )


def _plain(obj) -> StripeDict:
    # JSON again (the SDK turns *_decimal fields into Decimal), so results can be stored as they came.
    return json.loads(json.dumps(obj.to_dict(), default=str))


def webhook_event_construct(*, payload: bytes, signature: str | None) -> StripeDict:
    """Verify a webhook's signature on the raw body; raises SignatureVerificationError or ValueError."""
    stripe.Webhook.construct_event(payload, signature, settings.STRIPE_WEBHOOK_SECRET)
    return json.loads(payload)  # the event exactly as Stripe sent it


def customer_create(*, email: str, user_id: int, idempotency_key: str) -> StripeDict:
    return _plain(
        _client().v1.customers.create(
            params={"email": email, "metadata": {"user_id": str(user_id)}},
            options={"idempotency_key": idempotency_key},
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
) -> StripeDict:
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
    params["subscription_data"] = subscription_data
    return _plain(_client().v1.checkout.sessions.create(params=params))


def checkout_session_retrieve(*, session_id: str) -> StripeDict:
    """The session with its subscription expanded (None until paid)."""
    return _plain(
        _client().v1.checkout.sessions.retrieve(session_id, params={"expand": ["subscription"]})
    )


def checkout_session_expire(*, session_id: str) -> StripeDict:
    return _plain(_client().v1.checkout.sessions.expire(session_id))


def portal_session_create(*, customer_id: str, return_url: str) -> StripeDict:
    return _plain(
        _client().v1.billing_portal.sessions.create(
            params={"customer": customer_id, "return_url": return_url}
        )
    )


def subscription_retrieve(*, subscription_id: str) -> StripeDict:
    return _plain(_client().v1.subscriptions.retrieve(subscription_id))


def events_list(*, created_gte: int, types: list[str]) -> list[StripeDict]:
    """Events created since `created_gte` (a Unix time), oldest first."""
    page = _client().v1.events.list(
        params={"created": {"gte": created_gte}, "types": types, "limit": 100}
    )
    return list(reversed([_plain(e) for e in page.auto_paging_iter()]))


def prices_by_lookup_keys(*, lookup_keys: list[str]) -> list[StripeDict]:
    page = _client().v1.prices.list(
        params={"lookup_keys": lookup_keys, "limit": 100, "expand": ["data.product"]}
    )
    return [_plain(p) for p in page.auto_paging_iter()]


def prices_list_active() -> list[StripeDict]:
    page = _client().v1.prices.list(
        params={"active": True, "type": "recurring", "limit": 100, "expand": ["data.product"]}
    )
    return [_plain(p) for p in page.auto_paging_iter()]


def product_create(*, name: str, idempotency_key: str) -> StripeDict:
    return _plain(
        _client().v1.products.create(
            params={"name": name}, options={"idempotency_key": idempotency_key}
        )
    )


def product_update(*, product_id: str, name: str) -> StripeDict:
    return _plain(_client().v1.products.update(product_id, params={"name": name}))


def price_create(
    *, product_id: str, amount: int, currency: str, interval: str, lookup_key: str, nickname: str
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
            }
        )
    )


def price_update(*, price_id: str, active: bool) -> StripeDict:
    return _plain(_client().v1.prices.update(price_id, params={"active": active}))
