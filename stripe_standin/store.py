"""The stand-in's in-memory Stripe account: objects, events and the rules that change them.

Callers hold ``Store.lock`` around every call (the server does it once per
request), so each request sees and leaves a consistent state. Methods take
decoded request parameters (strings, dicts, lists; see forms.py) and raise
``StandinError`` with Stripe's error shape when a request is invalid.
"""

import contextlib
import copy
import threading
import time
import typing
from urllib.parse import urlsplit

from stripe.params import WebhookEndpointCreateParams

from . import objects

# Test cards and what paying with them does. None means the payment succeeds.
CARD_OUTCOMES = {
    "4242424242424242": None,
    "4000000000000002": "Your card was declined.",
    "4000000000009995": "Your card has insufficient funds.",
}
INCORRECT_CARD = "Your card number is incorrect."
# Stripe's 3-D Secure test cards (docs.stripe.com/testing, "regulatory cards"): both need the
# cardholder to authenticate a payment made on-session (Checkout, the hosted invoice page).
# Off-session (a renewal), the first no longer does once it was set up by an authenticated
# payment; the second always does, so its renewals wait for the member (requires_action).
AUTHENTICATE_UNLESS_SET_UP = "4000002500003155"
ALWAYS_AUTHENTICATE = "4000002760003184"
THREE_D_SECURE_CARDS = frozenset({AUTHENTICATE_UNLESS_SET_UP, ALWAYS_AUTHENTICATE})
# Stripe's message for payment_intent_authentication_failure.
AUTHENTICATION_FAILED = (
    "We are unable to authenticate your payment method. Please choose a different payment "
    "method and try again."
)
# What a challenge can end in: the two buttons of Stripe's test 3-D Secure page, and (control API
# only) a challenge nobody answers while Checkout still completes the session, as Stripe's events
# show it can: checkout.session.completed with the subscription `incomplete`.
AUTHENTICATION_OUTCOMES = ("complete", "fail", "unanswered")
# Stripe's "attaches to the customer, but charges fail" card: accepted where nothing is charged
# now (a checkout starting a trial), declined by every charge after that (renewals, retries).
ATTACH_ONLY_CARDS = {"4000000000000341": "Your card was declined."}
ALREADY_COMPLETE = "This checkout session is already complete."
EXPIRED = "This checkout session has expired."

# What the account's Billing > Revenue recovery settings say, changed through the control API
# (POST /_standin/settings/billing). Smart Retries pick their own times (8 tries within 2 weeks by
# default); the stand-in follows a custom schedule, as Stripe's Dashboard also offers one:
# `retry_days` are the days after the previous attempt, here retries on days 1, 3, 5 and 7 after
# the failed renewal. `after_retries` is "If all retries for a payment fail": cancel the
# subscription (Stripe's default), mark it unpaid, or leave it past_due.
DEFAULT_BILLING_SETTINGS = {"retry_days": [1, 2, 2, 2], "after_retries": "cancel"}
AFTER_RETRIES = ("cancel", "unpaid", "past_due")
# customer.subscription.trial_will_end comes three days before the trial ends (at once if less).
TRIAL_WILL_END_BEFORE = 3 * 86400
# "If the first invoice is not paid within 23 hours, the subscription transitions to
# incomplete_expired" (the Subscription object's `status`).
INCOMPLETE_EXPIRES_AFTER = 23 * 3600

# What a portal session without a `configuration` meets in an account whose portal settings were
# never saved in the Dashboard (the hand work issue 13 describes); close to Stripe's wording.
NO_DEFAULT_PORTAL_CONFIGURATION = (
    "No configuration provided and your test mode default configuration has not been created. "
    "Provide a configuration or create your default by saving your customer portal settings in "
    "test mode at https://dashboard.stripe.com/test/settings/billing/portal."
)
# The includable field of a portal configuration: in a response only when expanded.
PORTAL_PRODUCTS = "features.subscription_update.products"
# An invoice's includable list of payments: not in its published example, nor in a response
# that does not expand it.
INVOICE_PAYMENTS = "payments"


class StandinError(Exception):
    """An API error, rendered as Stripe's ``{"error": {...}}`` body."""

    def __init__(self, message, *, status=400, param=None, code=None, type="invalid_request_error"):
        super().__init__(message)
        self.message = message
        self.status = status
        self.param = param
        self.code = code
        self.type = type

    def body(self):
        error = {"type": self.type, "message": self.message}
        if self.param:
            error["param"] = self.param
        if self.code:
            error["code"] = self.code
        return {"error": error}


def missing(label, object_id, param="id"):
    # Stripe answers 404 for the object in the URL, 400 for an id passed as a parameter.
    return StandinError(
        f"No such {label}: '{object_id}'",
        status=404 if param == "id" else 400,
        param=param,
        code="resource_missing",
    )


# ---- parameter helpers -------------------------------------------------------


def check_known(params, allowed, where=None):
    """Reject parameters the stand-in does not implement, as Stripe rejects unknown ones.

    ``where`` names the hash they are in, e.g. ``features[subscription_cancel]``.
    """
    for name in params:
        if name not in allowed and name != "expand":
            param = f"{where}[{name}]" if where else name
            raise StandinError(
                f"Received unknown parameter: {param} "
                f"(the Stripe stand-in accepts: {', '.join(sorted(allowed))})",
                param=param,
            )


def require(params, name):
    value = params.get(name)
    if value in (None, ""):
        raise StandinError(f"Missing required param: {name}.", param=name)
    return value


def as_bool(params, name, default=None):
    value = params.get(name)
    if value is None:
        return default
    if value not in ("true", "false"):
        raise StandinError(f"Invalid boolean: {value}", param=name)
    return value == "true"


def as_int(params, name, default=None, minimum=None, maximum=None):
    value = params.get(name)
    if value in (None, ""):
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise StandinError(f"Invalid integer: {value}", param=name) from None
    if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
        raise StandinError(f"Invalid value for {name}: {value}", param=name)
    return number


def merged_metadata(old, new, param="metadata"):
    """Stripe's metadata update: keys merge, an empty value deletes a key, "" clears all."""
    if new is None:
        return old
    if new == "":
        return {}
    if not isinstance(new, dict):
        raise StandinError("Invalid hash", param=param)
    result = dict(old)
    for key, value in new.items():
        if value == "":
            result.pop(key, None)
        else:
            result[key] = value
    return result


def expand_ids(node, path, find, param="expand"):
    """Replace the id at ``path`` ("subscription", "data.product", ...) with its object."""
    if isinstance(node, list):
        for entry in node:
            expand_ids(entry, path, find, param)
        return
    if not isinstance(node, dict):
        return
    key, _, rest = path.partition(".")
    if key not in node:
        raise StandinError(f"This property cannot be expanded ({path}).", param=param)
    if isinstance(node[key], str):
        found = find(node[key])
        if found is None:  # not an id of ours: a plain string field
            raise StandinError(f"This property cannot be expanded ({path}).", param=param)
        node[key] = copy.deepcopy(found)
    if rest:
        expand_ids(node[key], rest, find, param)


def paginate(items, params, url):
    """A Stripe list page from ``items`` ordered newest first."""
    limit = as_int(params, "limit", default=10, minimum=1, maximum=100)
    ids = [item["id"] for item in items]
    for cursor in ("starting_after", "ending_before"):
        if params.get(cursor) and params[cursor] not in ids:
            raise missing("object", params[cursor], param=cursor)
    if params.get("starting_after"):
        rest = items[ids.index(params["starting_after"]) + 1 :]
        page, has_more = rest[:limit], len(rest) > limit
    elif params.get("ending_before"):
        rest = items[: ids.index(params["ending_before"])]
        page, has_more = rest[-limit:], len(rest) > limit
    else:
        page, has_more = items[:limit], len(items) > limit
    return {"object": "list", "data": copy.deepcopy(page), "has_more": has_more, "url": url}


def created_filter(value):
    """``created`` as Stripe accepts it: an exact timestamp or {gt, gte, lt, lte}."""
    if value is None:
        return lambda ts: True
    if isinstance(value, str):
        exact = as_int({"created": value}, "created")
        return lambda ts: ts == exact
    bounds = {op: as_int(value, op) for op in ("gt", "gte", "lt", "lte")}
    return lambda ts: (
        (bounds["gt"] is None or ts > bounds["gt"])
        and (bounds["gte"] is None or ts >= bounds["gte"])
        and (bounds["lt"] is None or ts < bounds["lt"])
        and (bounds["lte"] is None or ts <= bounds["lte"])
    )


def sdk_choices(params_type, name):
    """Every string the pinned SDK's typed parameter ``name`` allows (a Literal, however nested).

    The SDK's params are generated from Stripe's OpenAPI for the API version it pins, so this
    is the list Stripe checks, e.g. the event types an endpoint may subscribe to.
    """
    found, stack = set(), [params_type.__annotations__[name]]
    while stack:
        node = stack.pop()
        if typing.get_origin(node) is typing.Literal:
            found.update(typing.get_args(node))
        else:
            stack.extend(typing.get_args(node))
    return frozenset(found)


def as_list(params, name, choices=None, where=None):
    """An array parameter: a list (``a[]=x``), or "" to empty it; each value one of ``choices``."""
    param = f"{where}[{name}]" if where else name
    value = params.get(name)
    if value == "":
        return []
    if not isinstance(value, list):
        raise StandinError("Invalid array", param=param)
    for index, item in enumerate(value):
        if choices is not None and item not in choices:
            raise StandinError(
                f"Invalid {param}[{index}]: must be one of {', '.join(sorted(choices))}",
                param=f"{param}[{index}]",
            )
    return list(value)


def as_choice(params, name, choices, where=None):
    param = f"{where}[{name}]" if where else name
    value = params.get(name)
    if value not in choices:
        raise StandinError(
            f"Invalid {param}: must be one of {', '.join(sorted(choices))}", param=param
        )
    return value


def without_includable(node, included):
    """Drop the includable fields nobody expanded from every object in ``node`` (in place)."""
    if isinstance(node, list):
        for item in node:
            without_includable(item, included)
    elif isinstance(node, dict):
        if node.get("object") == "billing_portal.configuration" and not included:
            node["features"]["subscription_update"].pop("products", None)
        for value in node.values():
            without_includable(value, included)
    return node


def event_type_matches(pattern, event_type):
    # Stripe allows one trailing wildcard: "customer.subscription.*".
    if pattern.endswith("*"):
        return event_type.startswith(pattern[:-1])
    return event_type == pattern


class Store:
    def __init__(self, base_url, on_event=None, webhook_url=None, webhook_secret=None):
        self.lock = threading.RLock()
        self.base_url = base_url
        # Called with each new event id, under the lock; the webhook deliverer queues it.
        self.on_event = on_event or (lambda event_id: None)
        # The endpoint the stand-in posts to (--webhook-url), kept as an endpoint object like
        # any other, as if made in the Dashboard: it is there again after every reset.
        self.posting_endpoint = (webhook_url, webhook_secret) if webhook_url else None
        self.reset()

    def reset(self):
        with self.lock:
            self.customers = {}
            self.products = {}
            self.prices = {}
            self.checkout_sessions = {}
            self.portal_sessions = {}
            self.subscriptions = {}
            self.invoices = {}
            self.events = {}  # creation order, oldest first
            # What a checkout session will subscribe to; not part of Stripe's object.
            self.checkout_plans = {}
            self.idempotency = {}
            self.clock_offset = 0
            # While the clock engine runs a moment's work, "now" is that moment (see _at()).
            self.frozen_now = None
            self.test_clocks = {}
            # The card each customer's payments are charged to (the last one given at checkout or
            # to the control API); not part of Stripe's customer object.
            self.customer_cards = {}
            self.trial_will_end_sent = set()  # subscription ids
            self.billing_settings = copy.deepcopy(DEFAULT_BILLING_SETTINGS)
            self.portal_configurations = {}
            self.webhook_endpoints = {}
            self.coupons = {}
            self.promotion_codes = {}
            self.discounts = {}
            self.payment_intents = {}
            # Each invoice's payments (invoice_payment objects, oldest first): its includable
            # `payments` field, in a response only when expanded.
            self.invoice_payments = {}
            # Not Stripe objects: a Checkout payment waiting for 3-D Secure, and the discounts of
            # duration `once` that have had their invoice.
            self.checkout_authentications = {}
            self.spent_discounts = set()
            # Each endpoint's signing secret: in the create response only, as at Stripe.
            self.webhook_secrets = {}
            self.posting_endpoint_id = None
            if self.posting_endpoint:
                url, secret = self.posting_endpoint
                endpoint = objects.webhook_endpoint(
                    now=self.now(),
                    url=url,
                    enabled_events=["*"],
                    api_version=objects.API_VERSION,
                    description="Where the stand-in posts events (its --webhook-url)",
                )
                self.webhook_endpoints[endpoint["id"]] = endpoint
                self.webhook_secrets[endpoint["id"]] = secret
                self.posting_endpoint_id = endpoint["id"]
            # Set by the server while it handles an API request, so events record it.
            self.request_context = {"id": None, "idempotency_key": None}

    # ---- time and events -----------------------------------------------------

    def now(self):
        if self.frozen_now is not None:
            return self.frozen_now
        return int(time.time() + self.clock_offset)

    @contextlib.contextmanager
    def _at(self, moment):
        """Make "now" ``moment`` (a test clock's time, or when a renewal fell due) meanwhile."""
        previous, self.frozen_now = self.frozen_now, moment
        try:
            yield
        finally:
            self.frozen_now = previous

    def _customer_time(self, customer_id):
        """Make "now" the customer's test clock time meanwhile (the account's, if on none)."""
        customer = self.customers.get(customer_id)
        clock = self.test_clocks.get(customer["test_clock"]) if customer else None
        return self._at(clock["frozen_time"] if clock else self.frozen_now)

    def advance_clock(self, seconds):
        """Move the account's clock on; what fell due meanwhile for the customers on no test
        clock happens, in order, each at its own moment (as time passing at Stripe does)."""
        until = self.now() + int(seconds)
        on_real_time = [s["id"] for s in self.subscriptions.values() if s["test_clock"] is None]
        self._run_due(on_real_time, until)
        self.clock_offset += seconds
        return self.clock_state()

    def clock_state(self):
        return {"now": self.now(), "offset_seconds": self.clock_offset}

    def emit(self, event_type, obj, before=None):
        """Record an event with a snapshot of ``obj`` and queue it for delivery.

        ``before`` is the object's snapshot before the change, for previous_attributes.
        """
        previous = objects.previous_attributes(before, obj) if before is not None else None
        event = objects.event(
            now=self.now(),
            type=event_type,
            data_object=obj,
            previous_attributes=previous,
            request_id=self.request_context["id"],
            idempotency_key=self.request_context["idempotency_key"],
        )
        self.events[event["id"]] = event
        # Sent if the endpoint was enabled and subscribed when it happened, as at Stripe.
        endpoint = self.webhook_endpoints.get(self.posting_endpoint_id)
        if self.delivery_target() and any(
            event_type_matches(p, event_type) for p in endpoint["enabled_events"]
        ):
            self.on_event(event["id"])
        return event

    def delivery_target(self):
        """(url, secret) of the endpoint the stand-in posts to; None once deleted or disabled.

        Stripe stops retrying an event whose endpoint was disabled or deleted meanwhile.
        """
        endpoint = self.webhook_endpoints.get(self.posting_endpoint_id)
        if endpoint is None or endpoint["status"] != "enabled":
            return None
        return endpoint["url"], self.webhook_secrets[endpoint["id"]]

    def find(self, object_id):
        """Any stored object by id, for ``expand``."""
        for collection in self._collections().values():
            if object_id in collection:
                return collection[object_id]
        return None

    def _collections(self):
        return {
            "customers": self.customers,
            "products": self.products,
            "prices": self.prices,
            "checkout_sessions": self.checkout_sessions,
            "billing_portal_sessions": self.portal_sessions,
            "billing_portal_configurations": self.portal_configurations,
            "webhook_endpoints": self.webhook_endpoints,
            "test_clocks": self.test_clocks,
            "subscriptions": self.subscriptions,
            "invoices": self.invoices,
            "coupons": self.coupons,
            "promotion_codes": self.promotion_codes,
            "discounts": self.discounts,
            "payment_intents": self.payment_intents,
            "events": self.events,
        }

    def dump(self):
        state = {name: copy.deepcopy(c) for name, c in self._collections().items()}
        state["clock"] = self.clock_state()
        state["billing_settings"] = copy.deepcopy(self.billing_settings)
        # Never in an API response after the create: here so a test can check a secret it was shown.
        state["webhook_endpoint_secrets"] = dict(self.webhook_secrets)
        # The Idempotency-Key of every request kept for replay, as Stripe's request log shows them.
        state["idempotency_keys"] = [key for _api_key, key in self.idempotency]
        return state

    def get(self, collection, label, object_id, param="id"):
        obj = getattr(self, collection).get(object_id)
        if obj is None:
            raise missing(label, object_id, param)
        return obj

    def response(self, obj, params):
        """A copy of ``obj`` with the ``expand[]`` paths of the request applied.

        An includable field (a portal configuration's products) is in it only when expanded.
        """
        result = copy.deepcopy(obj)
        expand = params.get("expand") or []
        if isinstance(expand, str):  # expand=x without brackets
            expand = [expand]
        included = False
        for index, path in enumerate(expand):
            if path == PORTAL_PRODUCTS or path.endswith("." + PORTAL_PRODUCTS):
                included = True
            else:
                if INVOICE_PAYMENTS in path.split("."):
                    self._include_invoice_payments(result)
                expand_ids(result, path, self.find, param=f"expand[{index}]")
        return without_includable(result, included)

    def _include_invoice_payments(self, node):
        """Fill the includable `payments` of every invoice in ``node`` (an expand asked for it)."""
        if isinstance(node, list):
            for item in node:
                self._include_invoice_payments(item)
        elif isinstance(node, dict):
            if node.get("object") == "invoice" and "payments" not in node and node.get("id"):
                node["payments"] = objects.list_object(
                    copy.deepcopy(self.invoice_payments.get(node["id"], [])),
                    f"/v1/invoice_payments?invoice={node['id']}",
                )
            for value in node.values():
                self._include_invoice_payments(value)

    # ---- customers -----------------------------------------------------------

    CUSTOMER_PARAMS = frozenset({"email", "name", "description", "phone", "metadata"})

    def create_customer(self, params):
        check_known(params, self.CUSTOMER_PARAMS | {"test_clock"})
        clock = None
        if params.get("test_clock"):
            clock = self.get("test_clocks", "test_clock", params["test_clock"], param="test_clock")
        # A customer on a test clock lives at the clock's time from its creation on.
        with self._at(clock["frozen_time"] if clock else self.frozen_now):
            return self._create_customer(params, clock)

    def _create_customer(self, params, clock):
        customer = objects.customer(
            now=self.now(),
            test_clock=clock["id"] if clock else None,
            email=params.get("email") or None,
            name=params.get("name") or None,
            description=params.get("description") or None,
            phone=params.get("phone") or None,
            metadata=merged_metadata({}, params.get("metadata")),
        )
        self.customers[customer["id"]] = customer
        self.emit("customer.created", customer)
        return customer

    def update_customer(self, customer_id, params):
        check_known(params, self.CUSTOMER_PARAMS)
        customer = self.get("customers", "customer", customer_id)
        before = copy.deepcopy(customer)
        for field in ("email", "name", "description", "phone"):
            if field in params:
                customer[field] = params[field] or None
        customer["metadata"] = merged_metadata(customer["metadata"], params.get("metadata"))
        if customer != before:
            self.emit("customer.updated", customer, before)
        return customer

    def list_customers(self, params):
        check_known(params, {"email", "test_clock", "limit", "starting_after", "ending_before"})
        found = [
            c
            for c in reversed(self.customers.values())
            if (not params.get("email") or c["email"] == params["email"])
            and (not params.get("test_clock") or c["test_clock"] == params["test_clock"])
        ]
        return paginate(found, params, "/v1/customers")

    # ---- products and prices -------------------------------------------------

    PRODUCT_PARAMS = frozenset({"name", "description", "active", "metadata"})

    def create_product(self, params):
        check_known(params, self.PRODUCT_PARAMS | {"id"})
        product = objects.product(
            now=self.now(),
            name=require(params, "name"),
            description=params.get("description") or None,
            active=as_bool(params, "active", True),
            metadata=merged_metadata({}, params.get("metadata")),
        )
        if params.get("id"):
            if params["id"] in self.products:
                raise StandinError(
                    "Product already exists.", param="id", code="resource_already_exists"
                )
            product["id"] = params["id"]
        self.products[product["id"]] = product
        self.emit("product.created", product)
        return product

    def update_product(self, product_id, params):
        check_known(params, self.PRODUCT_PARAMS)
        product = self.get("products", "product", product_id)
        before = copy.deepcopy(product)
        if "name" in params:
            product["name"] = require(params, "name")
        if "description" in params:
            product["description"] = params["description"] or None
        product["active"] = as_bool(params, "active", product["active"])
        product["metadata"] = merged_metadata(product["metadata"], params.get("metadata"))
        if product != before:
            product["updated"] = self.now()
            self.emit("product.updated", product, before)
        return product

    def list_products(self, params):
        check_known(params, {"active", "limit", "starting_after", "ending_before"})
        active = as_bool(params, "active")
        found = [
            p for p in reversed(self.products.values()) if active is None or p["active"] == active
        ]
        return paginate(found, params, "/v1/products")

    PRICE_PARAMS = frozenset(
        {
            "product",
            "product_data",
            "unit_amount",
            "currency",
            "recurring",
            "lookup_key",
            "transfer_lookup_key",
            "active",
            "metadata",
            "nickname",
        }
    )

    def create_price(self, params):
        check_known(params, self.PRICE_PARAMS)
        product_id = self._price_product(params)
        recurring = params.get("recurring")
        if recurring is not None:
            recurring = self._recurring(recurring)
        unit_amount = as_int(params, "unit_amount", minimum=0)
        if unit_amount is None:
            raise StandinError("Missing required param: unit_amount.", param="unit_amount")
        lookup_key = params.get("lookup_key") or None
        self._claim_lookup_key(lookup_key, as_bool(params, "transfer_lookup_key", False))
        price = objects.price(
            now=self.now(),
            product_id=product_id,
            unit_amount=unit_amount,
            currency=require(params, "currency").lower(),
            recurring=recurring,
            lookup_key=lookup_key,
            nickname=params.get("nickname") or None,
            active=as_bool(params, "active", True),
            metadata=merged_metadata({}, params.get("metadata")),
        )
        self.prices[price["id"]] = price
        self.emit("price.created", price)
        return price

    def _price_product(self, params):
        if params.get("product"):
            return self.get("products", "product", params["product"], param="product")["id"]
        product_data = params.get("product_data")
        if not isinstance(product_data, dict):
            raise StandinError("Missing required param: product.", param="product")
        return self.create_product(
            {k: v for k, v in product_data.items() if k in self.PRODUCT_PARAMS}
        )["id"]

    def _recurring(self, recurring):
        if not isinstance(recurring, dict):
            raise StandinError("Invalid hash", param="recurring")
        interval = recurring.get("interval")
        if interval not in ("day", "week", "month", "year"):
            raise StandinError(
                "Invalid recurring[interval]: must be one of day, week, month, or year",
                param="recurring[interval]",
            )
        count = as_int(recurring, "interval_count", default=1, minimum=1)
        return {"interval": interval, "interval_count": count}

    def _claim_lookup_key(self, lookup_key, transfer, for_price=None):
        """Lookup keys are unique across prices; ``transfer`` takes one from its holder."""
        if not lookup_key:
            return
        for price in self.prices.values():
            if price["lookup_key"] == lookup_key and price["id"] != for_price:
                if not transfer:
                    raise StandinError(
                        f"A price (`{price['id']}`) already uses the lookup key `{lookup_key}`. "
                        "Pass `transfer_lookup_key=true` to move it to this price.",
                        param="lookup_key",
                    )
                before = copy.deepcopy(price)
                price["lookup_key"] = None
                self.emit("price.updated", price, before)

    def update_price(self, price_id, params):
        check_known(params, {"active", "metadata", "lookup_key", "transfer_lookup_key", "nickname"})
        price = self.get("prices", "price", price_id)
        before = copy.deepcopy(price)
        if "lookup_key" in params:
            lookup_key = params["lookup_key"] or None
            self._claim_lookup_key(
                lookup_key, as_bool(params, "transfer_lookup_key", False), price_id
            )
            price["lookup_key"] = lookup_key
        if "nickname" in params:
            price["nickname"] = params["nickname"] or None
        price["active"] = as_bool(params, "active", price["active"])
        price["metadata"] = merged_metadata(price["metadata"], params.get("metadata"))
        if price != before:
            self.emit("price.updated", price, before)
        return price

    def list_prices(self, params):
        check_known(
            params,
            {
                "lookup_keys",
                "active",
                "product",
                "type",
                "currency",
                "limit",
                "starting_after",
                "ending_before",
            },
        )
        lookup_keys = params.get("lookup_keys")
        if isinstance(lookup_keys, str):
            lookup_keys = [lookup_keys]
        if lookup_keys is not None and len(lookup_keys) > 10:
            raise StandinError(  # Stripe's words: "You can specify up to 10 lookup_keys."
                "Array lookup_keys exceeded maximum 10 allowed elements.", param="lookup_keys"
            )
        active = as_bool(params, "active")
        found = [
            p
            for p in reversed(self.prices.values())
            if (lookup_keys is None or p["lookup_key"] in lookup_keys)
            and (active is None or p["active"] == active)
            and (not params.get("product") or p["product"] == params["product"])
            and (not params.get("type") or p["type"] == params["type"])
            and (not params.get("currency") or p["currency"] == params["currency"])
        ]
        return paginate(found, params, "/v1/prices")

    # ---- checkout ------------------------------------------------------------

    CHECKOUT_PARAMS = frozenset(
        {
            "mode",
            "customer",
            "customer_email",
            "client_reference_id",
            "line_items",
            "success_url",
            "cancel_url",
            "allow_promotion_codes",
            "subscription_data",
            "metadata",
            "locale",
            "automatic_tax",
            # Accepted and ignored: they only change what Stripe's own page collects.
            "billing_address_collection",
            "payment_method_types",
            "customer_update",
            "tax_id_collection",
            "payment_method_collection",
        }
    )

    def create_checkout_session(self, params):
        check_known(params, self.CHECKOUT_PARAMS)
        if params.get("mode") != "subscription":
            raise StandinError("The Stripe stand-in supports only mode=subscription.", param="mode")
        require(params, "success_url")
        customer_id = params.get("customer") or None
        if customer_id:
            self.get("customers", "customer", customer_id, param="customer")
            if params.get("customer_email"):
                raise StandinError(
                    "You may only specify one of these parameters: customer, customer_email.",
                    param="customer_email",
                )
        price, quantity = self._checkout_line_item(params.get("line_items"))
        trial_days, trial_end, sub_metadata = self._subscription_data(
            params.get("subscription_data")
        )
        as_bool(params, "allow_promotion_codes")  # validates the value
        automatic_tax = self._checkout_automatic_tax(params.get("automatic_tax"))
        session = objects.checkout_session(
            now=self.now(),
            base_url=self.base_url,
            params=dict(params, metadata=merged_metadata({}, params.get("metadata"))),
            amount=price["unit_amount"] * quantity,
            currency=price["currency"],
            customer_id=customer_id,
        )
        self.checkout_sessions[session["id"]] = session
        self.checkout_plans[session["id"]] = {
            "price": price["id"],
            "quantity": quantity,
            "trial_days": trial_days,
            "trial_end": trial_end,
            "metadata": sub_metadata,
            "automatic_tax": automatic_tax,
            "promotion_code": None,
        }
        if automatic_tax:
            session["automatic_tax"].update(enabled=True, status="complete", provider="stripe")
            session["automatic_tax"]["liability"] = {"type": "self"}
            self._checkout_totals(session)
        return session

    @staticmethod
    def _checkout_automatic_tax(value):
        if value is None:
            return False
        if not isinstance(value, dict):
            raise StandinError("Invalid hash", param="automatic_tax")
        check_known(value, {"enabled", "liability"}, "automatic_tax")
        if value.get("enabled") in (None, ""):
            raise StandinError(
                "Missing required param: automatic_tax[enabled].", param="automatic_tax[enabled]"
            )
        return as_bool(value, "enabled")

    def _checkout_totals(self, session):
        """The session's amounts after its promotion code and tax, as its first invoice has them."""
        plan = self.checkout_plans[session["id"]]
        subtotal = session["amount_subtotal"]
        discount = 0
        if plan["promotion_code"]:
            promotion_code = self.promotion_codes[plan["promotion_code"]]
            discount = objects.coupon_off(
                self.coupons[promotion_code["promotion"]["coupon"]], subtotal
            )
        tax = objects.tax_on(subtotal - discount) if plan["automatic_tax"] else 0
        session["total_details"].update(amount_discount=discount, amount_tax=tax)
        session["amount_total"] = subtotal - discount + tax

    def checkout_apply_promotion_code(self, session_id, code):
        """The code a reader typed on the hosted page: its promotion code, or a StandinError.

        Codes are matched case-insensitively, as Stripe's Checkout does; only with
        ``allow_promotion_codes``.
        """
        session = self.get("checkout_sessions", "checkout session", session_id)
        plan = self.checkout_plans[session_id]
        code = (code or "").strip()
        if not code:
            plan["promotion_code"] = None
            session["discounts"] = []
            self._checkout_totals(session)
            return None
        if not session["allow_promotion_codes"]:
            raise StandinError(
                "This checkout session does not accept promotion codes.", param="code"
            )
        now = self.now()
        for promotion_code in self.promotion_codes.values():
            coupon = self.coupons[promotion_code["promotion"]["coupon"]]
            if promotion_code["code"].lower() == code.lower() and self._redeemable(
                promotion_code, coupon, now, session
            ):
                plan["promotion_code"] = promotion_code["id"]
                session["discounts"] = [{"coupon": None, "promotion_code": promotion_code["id"]}]
                self._checkout_totals(session)
                return promotion_code
        raise StandinError("This code is invalid.", param="code", code="promotion_code_invalid")

    @staticmethod
    def _redeemable(promotion_code, coupon, now, session):
        limits = (
            (promotion_code["max_redemptions"], promotion_code["times_redeemed"]),
            (coupon["max_redemptions"], coupon["times_redeemed"]),
        )
        return (
            promotion_code["active"]
            and coupon["valid"]
            and (promotion_code["expires_at"] is None or now < promotion_code["expires_at"])
            and (coupon["redeem_by"] is None or now < coupon["redeem_by"])
            and all(most is None or used < most for most, used in limits)
            and (promotion_code["customer"] in (None, session["customer"]))
            and (coupon["amount_off"] is None or coupon["currency"] == session["currency"])
        )

    def _checkout_line_item(self, line_items):
        if not isinstance(line_items, list) or not line_items:
            raise StandinError("Missing required param: line_items.", param="line_items")
        if len(line_items) > 1:
            raise StandinError(
                "The Stripe stand-in supports exactly one line item.", param="line_items[1]"
            )
        line = line_items[0]
        if not isinstance(line, dict) or not line.get("price"):
            raise StandinError(
                "Missing required param: line_items[0][price].", param="line_items[0][price]"
            )
        price = self.get("prices", "price", line["price"], param="line_items[0][price]")
        if not price["active"]:
            raise StandinError(
                "The price specified is inactive. This field only accepts active prices.",
                param="line_items[0][price]",
            )
        if price["type"] != "recurring":
            raise StandinError(
                "You must provide at least one recurring price in `subscription` mode "
                "when using prices.",
                param="line_items[0][price]",
            )
        quantity = as_int(line, "quantity", default=1, minimum=1)
        return price, quantity

    # subscription_data[trial_end]: "Has to be at least 48 hours in the future." (Stripe's API reference)
    MIN_CHECKOUT_TRIAL_END = 48 * 3600

    def _subscription_data(self, data):
        """(trial days, trial end, metadata) of a session's subscription_data."""
        if data is None:
            return None, None, {}
        if not isinstance(data, dict):
            raise StandinError("Invalid hash", param="subscription_data")
        check_known(data, {"trial_period_days", "trial_end", "metadata", "description"})
        trial_days = as_int(data, "trial_period_days", minimum=1, maximum=730)
        trial_end = as_int(data, "trial_end")
        if trial_end is not None:
            param = "subscription_data[trial_end]"
            if trial_days:
                raise StandinError(
                    "You may only specify one of these parameters: "
                    "subscription_data[trial_end], subscription_data[trial_period_days].",
                    param=param,
                )
            if trial_end < self.now() + self.MIN_CHECKOUT_TRIAL_END:
                raise StandinError(
                    "The `trial_end` date has to be at least 2 days in the future.", param=param
                )
            if trial_end > self.now() + 730 * 86400:
                raise StandinError(
                    "The `trial_end` date can be at most 730 days in the future.", param=param
                )
        metadata = merged_metadata({}, data.get("metadata"), "subscription_data[metadata]")
        return trial_days, trial_end, metadata

    def success_redirect(self, session):
        return session["success_url"].replace("{CHECKOUT_SESSION_ID}", session["id"])

    def pay_checkout_session(self, session_id, card_number, authentication=None):
        """Pay an open session with a test card, as the hosted page's form does.

        A 3-D Secure card first needs the cardholder: without ``authentication`` the result is
        ``requires_action`` with the challenge page to go to; with it (one of
        AUTHENTICATION_OUTCOMES) the challenge is answered at once, as the control API does.
        Returns {"status", "redirect", "error", "subscription", "requires_action", "http_status"}.
        """
        session = self.get("checkout_sessions", "checkout session", session_id)
        result = {
            "status": session["status"],
            "redirect": None,
            "error": None,
            "subscription": None,
            "requires_action": False,
        }
        if session["status"] == "complete":
            return dict(
                result,
                error=ALREADY_COMPLETE,
                redirect=self.success_redirect(session),
                subscription=session["subscription"],
                http_status=409,
            )
        if session["status"] == "expired":
            return dict(result, error=EXPIRED, http_status=409)
        card = "".join(ch for ch in (card_number or "") if ch.isdigit())
        if card in THREE_D_SECURE_CARDS:
            with self._customer_time(session["customer"]):
                self._checkout_authentication_start(session, card)
            if authentication is None:
                return dict(
                    result,
                    requires_action=True,
                    redirect=f"{self.base_url}/checkout/{session_id}/authenticate",
                    http_status=200,
                )
            return self.authenticate_checkout_session(session_id, authentication)
        if card in ATTACH_ONLY_CARDS:  # saved for later; declined if anything is due now
            decline = (
                None if self.checkout_plans[session_id]["trial_days"] else ATTACH_ONLY_CARDS[card]
            )
        else:
            decline = CARD_OUTCOMES.get(card, INCORRECT_CARD)
        if decline:
            return dict(result, error=decline, http_status=402)

        with self._customer_time(session["customer"]):
            subscription = self._subscribe_from_checkout(session, card)
        return dict(
            result,
            status="complete",
            redirect=self.success_redirect(session),
            subscription=subscription["id"],
            http_status=200,
        )

    def checkout_authentication(self, session_id):
        """The payment of an open session waiting for 3-D Secure, or None."""
        session = self.checkout_sessions.get(session_id)
        if session is None or session["status"] != "open":
            return None
        return self.checkout_authentications.get(session_id)

    def _checkout_authentication_start(self, session, card):
        pending = self.checkout_authentications.get(session["id"])
        if pending is None:
            pending = {"card": card, "subscription": None, "invoice": None}
            plan = self.checkout_plans[session["id"]]
            if not (plan["trial_days"] or plan["trial_end"]):
                # Checkout makes the subscription before it confirms the first payment: until
                # the cardholder authenticates, it is `incomplete` and its first invoice open,
                # its payment requiring action (docs.stripe.com/billing/subscriptions/overview).
                customer = self._checkout_customer(session)
                subscription = self._checkout_subscription(session, customer, status="incomplete")
                invoice = self._new_invoice(subscription, "subscription_create")
                self._payment_attempt(invoice, "requires_action")
                pending.update(subscription=subscription["id"], invoice=invoice["id"])
                self.emit("customer.subscription.created", subscription)
                self._emit_finalized(invoice)
            self.checkout_authentications[session["id"]] = pending
        pending["card"] = card
        return pending

    def authenticate_checkout_session(self, session_id, outcome):
        """Answer the 3-D Secure challenge of a session's payment (Stripe's test page: Complete
        or Fail). Returns what ``pay_checkout_session`` returns."""
        session = self.get("checkout_sessions", "checkout session", session_id)
        if outcome not in AUTHENTICATION_OUTCOMES:
            raise StandinError(
                f"authentication must be one of: {', '.join(AUTHENTICATION_OUTCOMES)}",
                param="authentication",
            )
        pending = self.checkout_authentication(session_id)
        result = {
            "status": session["status"],
            "redirect": None,
            "error": None,
            "subscription": None,
            "requires_action": False,
        }
        if pending is None:
            return dict(result, error="No payment is waiting for authentication.", http_status=409)
        if outcome == "fail":
            invoice = self.invoices.get(pending["invoice"])
            if invoice is not None:
                invoice.update(attempted=True, attempt_count=invoice["attempt_count"] + 1)
                self._payment_attempt(invoice, "requires_payment_method")
                self.emit("invoice.payment_failed", invoice)
            return dict(result, error=AUTHENTICATION_FAILED, http_status=402)
        if outcome == "unanswered" and pending["subscription"]:
            del self.checkout_authentications[session_id]
            customer_id = self.subscriptions[pending["subscription"]]["customer"]
            self._checkout_redeem(session)
            session.update(
                status="complete",
                payment_status="unpaid",
                subscription=pending["subscription"],
                invoice=pending["invoice"],
                customer=customer_id,
                customer_details=objects.customer_details(self.customers[customer_id]),
            )
            self.emit("checkout.session.completed", session)
            return dict(
                result,
                status="complete",
                redirect=self.success_redirect(session),
                subscription=pending["subscription"],
                http_status=200,
            )
        with self._customer_time(session["customer"]):
            subscription = self._subscribe_from_checkout(session, pending["card"])
        return dict(
            result,
            status="complete",
            redirect=self.success_redirect(session),
            subscription=subscription["id"],
            http_status=200,
        )

    def _checkout_customer(self, session):
        if session["customer"]:
            customer = self.customers[session["customer"]]
        else:
            customer = self.create_customer({"email": session["customer_email"] or ""})
            session["customer"] = customer["id"]
        if customer["currency"] is None:
            customer["currency"] = session["currency"]
        return customer

    def _checkout_subscription(self, session, customer, status=None):
        """The subscription a session makes, with the session's promotion code and tax."""
        plan = self.checkout_plans[session["id"]]
        price = self.prices[plan["price"]]
        subscription = objects.subscription(
            now=self.now(),
            customer_id=customer["id"],
            price_obj=price,
            quantity=plan["quantity"],
            trial_days=plan["trial_days"],
            trial_end=plan["trial_end"],
            metadata=plan["metadata"],
            test_clock=customer["test_clock"],
        )
        if status:
            subscription["status"] = status
        if plan["automatic_tax"]:
            subscription["automatic_tax"].update(enabled=True, liability={"type": "self"})
        if plan["promotion_code"]:
            promotion_code = self.promotion_codes[plan["promotion_code"]]
            coupon = self.coupons[promotion_code["promotion"]["coupon"]]
            discount = objects.discount(
                now=self.now(),
                coupon=coupon,
                promotion_code_id=promotion_code["id"],
                customer_id=customer["id"],
                subscription_id=subscription["id"],
                checkout_session_id=session["id"],
            )
            self.discounts[discount["id"]] = discount
            subscription["discounts"] = [discount["id"]]
        self.subscriptions[subscription["id"]] = subscription
        return subscription

    def _checkout_redeem(self, session):
        plan = self.checkout_plans[session["id"]]
        if plan["promotion_code"]:
            promotion_code = self.promotion_codes[plan["promotion_code"]]
            promotion_code["times_redeemed"] += 1
            self.coupons[promotion_code["promotion"]["coupon"]]["times_redeemed"] += 1

    def _subscribe_from_checkout(self, session, card):
        customer = self._checkout_customer(session)
        # An authenticated card is set up for the renewals (off-session) that follow.
        self.customer_cards[customer["id"]] = card
        self._checkout_redeem(session)
        pending = self.checkout_authentications.pop(session["id"], None)
        if pending and pending["subscription"]:
            # The incomplete subscription a challenge left: its first invoice is paid now.
            subscription = self.subscriptions[pending["subscription"]]
            invoice = self.invoices[pending["invoice"]]
            before = copy.deepcopy(subscription)
            subscription["status"] = "active"
            self._mark_paid(invoice)
            self._checkout_complete(session, customer, subscription, invoice)
            self.emit("invoice.paid", invoice)
            self.emit("invoice.payment_succeeded", invoice)
            self.emit("customer.subscription.updated", subscription, before)
            self.emit("checkout.session.completed", session)
            return subscription

        plan = self.checkout_plans[session["id"]]
        subscription = self._checkout_subscription(session, customer)
        price = self.prices[plan["price"]]
        trialing = subscription["status"] == "trialing"
        amount = 0 if trialing else price["unit_amount"] * plan["quantity"]
        invoice = self._new_invoice(subscription, "subscription_create", amount)
        self._checkout_complete(session, customer, subscription, invoice)
        self.emit("customer.subscription.created", subscription)
        self._emit_finalized(invoice)
        self._mark_paid(invoice)
        self.emit("invoice.paid", invoice)
        self.emit("invoice.payment_succeeded", invoice)
        # A trial of three days or less is told it will end at once.
        self._run_due([subscription["id"]], self.now())
        self.emit("checkout.session.completed", session)
        return subscription

    def _checkout_complete(self, session, customer, subscription, invoice):
        session.update(
            status="complete",
            payment_status="no_payment_required" if invoice["amount_due"] == 0 else "paid",
            subscription=subscription["id"],
            invoice=invoice["id"],
            customer=customer["id"],
            customer_details=objects.customer_details(customer),
        )

    def expire_checkout_session(self, session_id):
        session = self.get("checkout_sessions", "checkout session", session_id)
        if session["status"] != "open":
            raise StandinError('Only Checkout Sessions with a status in ["open"] can be expired.')
        session["status"] = "expired"
        self.emit("checkout.session.expired", session)
        return session

    # ---- invoices ------------------------------------------------------------

    def _new_invoice(self, subscription, billing_reason, amount=None, credit_line=None):
        """The subscription's new invoice, finalized and priced; ``credit_line`` (a callable
        making the proration credit's line from the price's line) adds a line before the
        discounts and tax are worked out over them all."""
        item = subscription["items"]["data"][0]
        if amount is None:
            amount = item["price"]["unit_amount"] * item["quantity"]
        customer = self.customers[subscription["customer"]]
        number = f"{customer['invoice_prefix']}-{customer['next_invoice_sequence']:04d}"
        customer["next_invoice_sequence"] += 1
        invoice = objects.invoice(
            now=self.now(),
            subscription_obj=subscription,
            customer_obj=customer,
            product_name=self.products[item["price"]["product"]]["name"],
            amount=amount,
            billing_reason=billing_reason,
            number=number,
        )
        invoice["hosted_invoice_url"] = f"{self.base_url}/i/{invoice['id']}"
        if credit_line:
            lines = invoice["lines"]["data"]
            lines.append(credit_line(lines[0]))
        self._price_invoice(invoice, subscription)
        self.invoices[invoice["id"]] = invoice
        subscription["latest_invoice"] = invoice["id"]
        return invoice

    def _price_invoice(self, invoice, subscription, spend=True):
        """The subscription's discounts and tax on a new invoice, as Stripe computes them.

        ``spend=False`` for a preview: a `once` discount it shows is still there afterwards, and
        the customer's balance it applies is not used up.
        """
        remaining = max(0, sum(line["amount"] for line in invoice["lines"]["data"]))
        discount_amounts = []
        for discount_id in subscription.get("discounts") or []:
            discount = self.discounts.get(discount_id)
            if discount is None or not self._discount_applies(discount, invoice, spend):
                continue
            off = objects.coupon_off(self.coupons[discount["source"]["coupon"]], remaining)
            remaining -= off
            discount_amounts.append({"amount": off, "discount": discount_id})
        # A credit on the customer's balance (negative) pays the next invoices first, as at Stripe.
        customer = self.customers[subscription["customer"]]
        objects.invoice_amounts(
            invoice,
            discount_amounts=discount_amounts,
            taxed=subscription["automatic_tax"]["enabled"],
            starting_balance=min(0, customer["balance"]),
        )
        if spend:
            customer["balance"] = invoice["ending_balance"]

    def _discount_applies(self, discount, invoice, spend=True):
        coupon = self.coupons[discount["source"]["coupon"]]
        if coupon["duration"] == "once":
            # Its one invoice is the first that charges something (a trial's £0 one does not).
            if discount["id"] in self.spent_discounts:
                return False
            if invoice["subtotal"] and spend:
                self.spent_discounts.add(discount["id"])
            return True
        return discount["end"] is None or invoice["period_start"] < discount["end"]

    def _mark_paid(self, invoice):
        invoice.update(
            status="paid",
            amount_paid=invoice["amount_due"],
            amount_remaining=0,
            attempted=True,
            attempt_count=invoice["attempt_count"] + (1 if invoice["amount_due"] else 0),
            next_payment_attempt=None,
        )
        invoice["status_transitions"]["paid_at"] = self.now()
        if invoice["amount_due"]:
            self._payment_attempt(invoice, "succeeded")

    def _mark_failed(self, invoice):
        """Count a failed attempt and schedule the next retry (None once the schedule is used up)."""
        attempts = invoice["attempt_count"] + 1
        retry_days = self.billing_settings["retry_days"]
        retries_made = attempts - 1
        next_attempt = (
            self.now() + int(retry_days[retries_made] * 86400)
            if retries_made < len(retry_days)
            else None
        )
        invoice.update(attempted=True, attempt_count=attempts, next_payment_attempt=next_attempt)
        self._payment_attempt(invoice, "requires_payment_method")

    def _payment_attempt(self, invoice, status):
        """The invoice's PaymentIntent after an attempt to pay it: ``succeeded``,
        ``requires_payment_method`` (declined) or ``requires_action`` (the bank wants the
        cardholder: 3-D Secure). One PaymentIntent per invoice, as Stripe's invoices make, and its
        invoice_payment in the invoice's `payments`."""
        payments = self.invoice_payments.setdefault(invoice["id"], [])
        if payments:
            intent = self.payment_intents[payments[-1]["payment"]["payment_intent"]]
        else:
            intent = objects.payment_intent(
                now=self.now(),
                amount=invoice["amount_due"],
                currency=invoice["currency"],
                customer_id=invoice["customer"],
                description="Subscription creation"
                if invoice["billing_reason"] == "subscription_create"
                else "Subscription update",
            )
            self.payment_intents[intent["id"]] = intent
            payments.append(objects.invoice_payment(now=self.now(), invoice=invoice, intent=intent))
        objects.payment_intent_status(intent, status, now=self.now())
        payment = payments[-1]
        if status == "succeeded":
            payment.update(status="paid", amount_paid=intent["amount_received"])
            payment["status_transitions"]["paid_at"] = self.now()
        return intent

    def preview_invoice(self, params):
        """POST /v1/invoices/create_preview for a subscription: its next invoice as it would be
        made now (discounts still running, tax), never stored, with no number and no page.

        A subscription that will not invoice again (canceled, or ending at period end) has none:
        Stripe's 400 invoice_upcoming_none.
        """
        check_known(params, {"subscription", "customer"})
        subscription = self.get(
            "subscriptions", "subscription", require(params, "subscription"), param="subscription"
        )
        if params.get("customer") and params["customer"] != subscription["customer"]:
            raise StandinError(
                "The subscription does not belong to that customer.", param="customer"
            )
        period_end = subscription["items"]["data"][0]["current_period_end"]
        if (
            subscription["status"] in ("canceled", "incomplete_expired")
            or subscription["cancel_at_period_end"]
            or (subscription["cancel_at"] is not None and subscription["cancel_at"] <= period_end)
        ):
            raise StandinError(
                f"No upcoming invoices for subscription: {subscription['id']}",
                code="invoice_upcoming_none",
            )
        upcoming = copy.deepcopy(subscription)
        self._start_next_period(upcoming)
        item = upcoming["items"]["data"][0]
        invoice = objects.invoice(
            now=self.now(),
            subscription_obj=upcoming,
            customer_obj=self.customers[upcoming["customer"]],
            product_name=self.products[item["price"]["product"]]["name"],
            amount=item["price"]["unit_amount"] * item["quantity"],
            billing_reason="upcoming",
            number=None,
        )
        invoice.update(id=f"upcoming_{invoice['id']}", status="draft", auto_advance=False)
        invoice["status_transitions"]["finalized_at"] = None
        self._price_invoice(invoice, upcoming, spend=False)
        return invoice

    def _emit_finalized(self, invoice):
        """invoice.created and invoice.finalized: Stripe makes a draft, then finalizes it (an hour
        later at a renewal; the stand-in does both at once)."""
        draft = copy.deepcopy(invoice)
        draft.update(status="draft", number=None, effective_at=None)
        draft["status_transitions"]["finalized_at"] = None
        self.emit("invoice.created", draft)
        self.emit("invoice.finalized", invoice)

    def list_invoices(self, params):
        check_known(
            params,
            {"customer", "subscription", "status", "limit", "starting_after", "ending_before"},
        )
        found = [
            i
            for i in reversed(self.invoices.values())
            if all(not params.get(f) or i[f] == params[f] for f in ("customer", "status"))
            and (
                not params.get("subscription")
                or i["parent"]["subscription_details"]["subscription"] == params["subscription"]
            )
        ]
        return paginate(found, params, "/v1/invoices")

    # ---- coupons and promotion codes -----------------------------------------

    COUPON_PARAMS = frozenset(
        {
            "id",
            "name",
            "percent_off",
            "amount_off",
            "currency",
            "duration",
            "duration_in_months",
            "max_redemptions",
            "redeem_by",
            "metadata",
        }
    )

    def create_coupon(self, params):
        check_known(params, self.COUPON_PARAMS)
        percent_off, amount_off = params.get("percent_off"), as_int(params, "amount_off", minimum=1)
        if (percent_off in (None, "")) == (amount_off is None):
            raise StandinError(
                "You must pass exactly one of percent_off or amount_off.", param="percent_off"
            )
        if percent_off not in (None, ""):
            try:
                percent_off = float(percent_off)
            except ValueError:
                raise StandinError(f"Invalid decimal: {percent_off}", param="percent_off") from None
            if not 0 < percent_off <= 100:
                raise StandinError(
                    "percent_off must be greater than 0 and at most 100.", param="percent_off"
                )
        else:
            percent_off = None
        currency = (params.get("currency") or "").lower() or None
        if amount_off is not None and currency is None:
            raise StandinError("Missing required param: currency.", param="currency")
        duration = params.get("duration") or "once"
        if duration not in ("once", "repeating", "forever"):
            raise StandinError(
                "Invalid duration: must be one of forever, once, or repeating", param="duration"
            )
        months = as_int(params, "duration_in_months", minimum=1)
        if (duration == "repeating") != (months is not None):
            raise StandinError(
                "duration_in_months is required with duration=repeating, and only then.",
                param="duration_in_months",
            )
        coupon = objects.coupon(
            now=self.now(),
            coupon_id=params.get("id") or None,
            name=params.get("name") or None,
            percent_off=percent_off,
            amount_off=amount_off,
            currency=currency,
            duration=duration,
            duration_in_months=months,
            max_redemptions=as_int(params, "max_redemptions", minimum=1),
            redeem_by=as_int(params, "redeem_by"),
            metadata=merged_metadata({}, params.get("metadata")),
        )
        if coupon["id"] in self.coupons:
            raise StandinError("Coupon already exists.", param="id", code="resource_already_exists")
        self.coupons[coupon["id"]] = coupon
        self.emit("coupon.created", coupon)
        return coupon

    def list_coupons(self, params):
        check_known(params, {"created", "limit", "starting_after", "ending_before"})
        in_range = created_filter(params.get("created"))
        found = [c for c in reversed(self.coupons.values()) if in_range(c["created"])]
        return paginate(found, params, "/v1/coupons")

    PROMOTION_CODE_PARAMS = frozenset(
        {
            "promotion",
            "code",
            "active",
            "customer",
            "expires_at",
            "max_redemptions",
            "restrictions",
            "metadata",
        }
    )

    def create_promotion_code(self, params):
        check_known(params, self.PROMOTION_CODE_PARAMS)
        promotion = params.get("promotion")
        if not isinstance(promotion, dict):
            raise StandinError("Missing required param: promotion.", param="promotion")
        check_known(promotion, {"type", "coupon"}, "promotion")
        as_choice(promotion, "type", {"coupon"}, "promotion")
        coupon = self.get(
            "coupons", "coupon", require(promotion, "coupon"), param="promotion[coupon]"
        )
        code = params.get("code") or objects.promotion_code_text()
        if any(
            p["active"] and p["code"].lower() == code.lower() for p in self.promotion_codes.values()
        ):
            raise StandinError(
                "An active promotion code with `code` already exists.",
                param="code",
                code="resource_already_exists",
            )
        customer = params.get("customer") or None
        if customer:
            self.get("customers", "customer", customer, param="customer")
        if params.get("restrictions") not in (None, ""):
            restrictions = params["restrictions"]
            if not isinstance(restrictions, dict):
                raise StandinError("Invalid hash", param="restrictions")
            check_known(restrictions, {"first_time_transaction"}, "restrictions")
        promotion_code = objects.promotion_code(
            now=self.now(),
            code=code,
            coupon_id=coupon["id"],
            active=as_bool(params, "active", True),
            customer_id=customer,
            expires_at=as_int(params, "expires_at"),
            max_redemptions=as_int(params, "max_redemptions", minimum=1),
            metadata=merged_metadata({}, params.get("metadata")),
        )
        self.promotion_codes[promotion_code["id"]] = promotion_code
        self.emit("promotion_code.created", promotion_code)
        return promotion_code

    def update_promotion_code(self, promotion_code_id, params):
        check_known(params, {"active", "metadata"})
        promotion_code = self.get("promotion_codes", "promotion code", promotion_code_id)
        before = copy.deepcopy(promotion_code)
        promotion_code["active"] = as_bool(params, "active", promotion_code["active"])
        promotion_code["metadata"] = merged_metadata(
            promotion_code["metadata"], params.get("metadata")
        )
        if promotion_code != before:
            self.emit("promotion_code.updated", promotion_code, before)
        return promotion_code

    def list_promotion_codes(self, params):
        check_known(
            params,
            {"code", "active", "coupon", "customer", "limit", "starting_after", "ending_before"},
        )
        active = as_bool(params, "active")
        found = [
            p
            for p in reversed(self.promotion_codes.values())
            if (not params.get("code") or p["code"].lower() == params["code"].lower())
            and (active is None or p["active"] == active)
            and (not params.get("coupon") or p["promotion"]["coupon"] == params["coupon"])
            and (not params.get("customer") or p["customer"] == params["customer"])
        ]
        return paginate(found, params, "/v1/promotion_codes")

    # ---- billing portal ------------------------------------------------------

    def create_portal_session(self, params):
        check_known(params, {"customer", "return_url", "locale", "configuration"})
        customer = self.get("customers", "customer", require(params, "customer"), param="customer")
        configuration = self._session_configuration(params.get("configuration"))
        session = objects.portal_session(
            now=self.now(),
            base_url=self.base_url,
            customer_id=customer["id"],
            return_url=params.get("return_url") or configuration["default_return_url"],
            configuration_id=configuration["id"],
        )
        session["locale"] = params.get("locale")
        self.portal_sessions[session["id"]] = session
        self.emit("billing_portal.session.created", session)
        return session

    def customer_subscriptions(self, customer_id):
        return [s for s in self.subscriptions.values() if s["customer"] == customer_id]

    def _session_configuration(self, configuration_id):
        """The configuration a new portal session uses: the one named, else the account's default."""
        if configuration_id:
            configuration = self.get(
                "portal_configurations", "configuration", configuration_id, param="configuration"
            )
            if not configuration["active"]:
                raise StandinError(
                    f"The configuration {configuration_id} is inactive; activate it or use another.",
                    param="configuration",
                )
            return configuration
        for configuration in self.portal_configurations.values():
            if configuration["is_default"] and configuration["active"]:
                return configuration
        raise StandinError(NO_DEFAULT_PORTAL_CONFIGURATION)

    def portal_cancel_actions(self, portal_id):
        """The cancellation buttons the session's configuration allows (Resume always is)."""
        session = self.get("portal_sessions", "billing portal session", portal_id)
        cancel = self.portal_configurations[session["configuration"]]["features"][
            "subscription_cancel"
        ]
        if not cancel["enabled"]:
            return set()
        return {"cancel_at_period_end" if cancel["mode"] == "at_period_end" else "cancel_now"}

    def portal_switch_prices(self, portal_id, subscription):
        """The prices the session's configuration lets this subscription switch to (not its own)."""
        session = self.get("portal_sessions", "billing portal session", portal_id)
        update = self.portal_configurations[session["configuration"]]["features"][
            "subscription_update"
        ]
        if (
            not update["enabled"]
            or "price" not in update["default_allowed_updates"]
            or subscription["status"] not in ("active", "trialing")
            or subscription["cancel_at"]
            or subscription[
                "cancel_at_period_end"
            ]  # Stripe's portal offers only Renew until it is resumed
        ):
            return []
        current = subscription["items"]["data"][0]["price"]["id"]
        return [
            self.prices[price_id]
            for product in update["products"] or []
            for price_id in product["prices"]
            if price_id != current and price_id in self.prices and self.prices[price_id]["active"]
        ]

    def portal_action(self, portal_id, subscription_id, action, price_id=None):
        """Apply a portal button. Only the portal's own customer's subscriptions may change,
        and only as the session's configuration allows."""
        portal = self.get("portal_sessions", "billing portal session", portal_id)
        subscription = self.subscriptions.get(subscription_id)
        if subscription is None or subscription["customer"] != portal["customer"]:
            raise missing("subscription", subscription_id, param="subscription")
        if action in ("cancel_at_period_end", "cancel_now") and action not in (
            self.portal_cancel_actions(portal_id)
        ):
            raise StandinError(
                "This portal's configuration does not offer that.", status=403, param="action"
            )
        with self._customer_time(subscription["customer"]):
            return self._portal_action(portal_id, subscription, action, price_id)

    def _portal_action(self, portal_id, subscription, action, price_id):
        subscription_id = subscription["id"]
        if action == "cancel_at_period_end":
            return self._set_cancel_at_period_end(subscription, True)
        if action == "resume":
            if subscription["cancel_at"] and not subscription["cancel_at_period_end"]:
                return self._resume_scheduled(subscription)
            return self._set_cancel_at_period_end(subscription, False)
        if action == "cancel_now":
            return self.cancel_subscription(subscription_id)
        if action == "switch":
            allowed = {p["id"]: p for p in self.portal_switch_prices(portal_id, subscription)}
            if price_id not in allowed:
                raise StandinError(
                    "This portal's configuration does not offer that plan.",
                    status=403,
                    param="price",
                )
            return self._switch_price(portal_id, subscription, allowed[price_id])
        raise StandinError(f"Unknown portal action: {action}", param="action")

    def _switch_price(self, portal_id, subscription, price):
        """The portal's plan switch, as Stripe applies it with the configuration's settings.

        Stripe's rules (Change subscriptions, Prorations): a price of the same interval keeps
        the billing period; a price of another interval (monthly <-> annual) starts a new period
        now and is invoiced at once. `proration_behavior` decides the credit for the unused part
        of the old price: `none` gives none; `create_prorations` puts it on the next invoice (at
        once when the interval changes, since that invoice is made now); `always_invoice`
        invoices the difference now. A trial ends with `trial_update_behavior=end_trial` (the
        default) and carries on with `continue_trial`. A credit larger than the new charge goes
        to the customer's balance, which pays their next invoices;
        a change Stripe would schedule at the period's end (`schedule_at_period_end`) is refused.
        """
        session = self.portal_sessions[portal_id]
        update = self.portal_configurations[session["configuration"]]["features"][
            "subscription_update"
        ]
        item = subscription["items"]["data"][0]
        old_price, quantity, now = item["price"], item["quantity"], self.now()
        if update["schedule_at_period_end"]["conditions"]:
            raise StandinError(
                "The Stripe stand-in does not schedule plan changes at the period's end.",
                status=400,
                param="price",
            )
        before = copy.deepcopy(subscription)
        recurring, old_recurring = price["recurring"], old_price["recurring"]
        same_interval = (recurring["interval"], recurring["interval_count"]) == (
            old_recurring["interval"],
            old_recurring["interval_count"],
        )
        trialing = subscription["status"] == "trialing"
        continue_trial = trialing and update["trial_update_behavior"] == "continue_trial"
        # The unused share of what the old price paid for (nothing during a trial).
        start, end = item["current_period_start"], item["current_period_end"]
        unused = 0.0 if trialing or end <= start else max(0, end - now) / (end - start)
        credit = round(old_price["unit_amount"] * quantity * unused)
        full = price["unit_amount"] * quantity
        item.update(price=copy.deepcopy(price), plan=objects.plan_from_price(price))
        charge, prorated = None, False
        if continue_trial:
            pass  # the trial carries on; its end stays the first payment on the new price
        elif trialing or not same_interval:
            # A new period from now, invoiced at once (Stripe resets the billing cycle anchor).
            item["current_period_start"] = now
            item["current_period_end"] = objects.add_interval(
                now, recurring["interval"], recurring["interval_count"]
            )
            subscription["billing_cycle_anchor"] = now
            if trialing:
                subscription.update(status="active", trial_end=now)
            prorated = update["proration_behavior"] != "none"
            charge = full
        elif update["proration_behavior"] == "always_invoice":
            charge = max(0, round(full * unused) - credit)
        self.emit("customer.subscription.updated", subscription, before)
        if charge is None:
            return subscription
        credit_line = None
        if credit and prorated:
            # The new price's line in full and the unused time as a negative line: discounts
            # and tax are worked out over both. More credit than the new plan costs (annual to
            # monthly) makes a negative total: nothing is due, and the rest goes to the
            # customer's balance, as at Stripe.
            def credit_line(price_line):
                line = copy.deepcopy(price_line)
                line.update(
                    id=objects.new_id("il_"),
                    amount=-credit,
                    subtotal=-credit,
                    description=f"Unused time on {self.products[old_price['product']]['name']}",
                    period={"start": now, "end": end},
                )
                line["parent"]["subscription_item_details"]["proration"] = True
                line["pricing"]["unit_amount_decimal"] = old_price["unit_amount_decimal"]
                return line

        invoice = self._new_invoice(subscription, "subscription_update", charge, credit_line)
        self._emit_finalized(invoice)
        self._attempt_payment(subscription, invoice)
        return subscription

    # ---- subscriptions -------------------------------------------------------

    def update_subscription(self, subscription_id, params):
        check_known(
            params,
            {
                "cancel_at_period_end",
                "cancel_at",
                "metadata",
                "description",
                "cancellation_details",
            },
        )
        subscription = self.get("subscriptions", "subscription", subscription_id)
        before = copy.deepcopy(subscription)
        cancel_at_period_end = as_bool(params, "cancel_at_period_end")
        if subscription["status"] == "canceled" and (
            cancel_at_period_end is not None or "cancel_at" in params
        ):
            raise StandinError(
                "A canceled subscription can only update its cancellation_details and metadata.",
                param="cancel_at_period_end" if cancel_at_period_end is not None else "cancel_at",
            )
        cancel_at = self._cancel_at(subscription, params)
        if cancel_at and cancel_at_period_end:
            raise StandinError(
                "You may only specify one of these parameters: cancel_at, cancel_at_period_end.",
                param="cancel_at",
            )
        subscription["metadata"] = merged_metadata(subscription["metadata"], params.get("metadata"))
        if "description" in params:
            subscription["description"] = params["description"] or None
        details = params.get("cancellation_details")
        if isinstance(details, dict):
            for field in ("comment", "feedback"):
                if field in details:
                    subscription["cancellation_details"][field] = details[field] or None
        if (
            cancel_at is not None
        ):  # first: `cancel_at=""` with `cancel_at_period_end=true` ends it then
            self._apply_cancel_at(subscription, cancel_at)
        if (
            cancel_at_period_end is not None
            and cancel_at_period_end != subscription["cancel_at_period_end"]
        ):
            self._apply_cancel_at_period_end(subscription, cancel_at_period_end)
        if subscription != before:
            self.emit("customer.subscription.updated", subscription, before)
        return subscription

    def _set_cancel_at_period_end(self, subscription, flag):
        if subscription["status"] == "canceled":
            raise StandinError("This subscription is already canceled.", param="subscription")
        if subscription["cancel_at_period_end"] == flag:
            return subscription
        before = copy.deepcopy(subscription)
        self._apply_cancel_at_period_end(subscription, flag)
        self.emit("customer.subscription.updated", subscription, before)
        return subscription

    def _resume_scheduled(self, subscription):
        """The portal's Resume for an end set on a date: the date is unset."""
        if subscription["status"] == "canceled":
            raise StandinError("This subscription is already canceled.", param="subscription")
        before = copy.deepcopy(subscription)
        self._apply_cancel_at(subscription, 0)
        self.emit("customer.subscription.updated", subscription, before)
        return subscription

    def _apply_cancel_at_period_end(self, subscription, flag):
        details = subscription["cancellation_details"]
        if flag:
            subscription.update(
                cancel_at_period_end=True,
                cancel_at=subscription["items"]["data"][0]["current_period_end"],
                canceled_at=self.now(),
            )
            details["reason"] = "cancellation_requested"
        else:
            subscription.update(cancel_at_period_end=False, cancel_at=None, canceled_at=None)
            details["reason"] = None

    def _cancel_at(self, subscription, params):
        """`cancel_at` as given: a timestamp, 0 for "" (unset: no scheduled end), None if absent.

        Stripe's `min_period_end`/`max_period_end` resolve to the earliest/latest item's period
        end at once (one item here: its period end); unlike `cancel_at_period_end`, later period
        changes do not move them.
        """
        if "cancel_at" not in params:
            return None
        value = params["cancel_at"]
        if value == "":
            return 0
        if value in ("min_period_end", "max_period_end"):
            return subscription["items"]["data"][0]["current_period_end"]
        timestamp = as_int(params, "cancel_at")
        if timestamp <= self.now():
            raise StandinError("cancel_at must be in the future.", param="cancel_at")
        return timestamp

    def _apply_cancel_at(self, subscription, cancel_at):
        """Schedule the end on a date (a timestamp), or unset any scheduled end (0)."""
        details = subscription["cancellation_details"]
        if cancel_at:
            subscription.update(
                cancel_at=cancel_at,
                cancel_at_period_end=False,
                canceled_at=subscription["canceled_at"] or self.now(),
            )
            details["reason"] = "cancellation_requested"
        else:
            subscription.update(cancel_at_period_end=False, cancel_at=None, canceled_at=None)
            details["reason"] = None

    def cancel_subscription(self, subscription_id):
        """Cancel now: the subscription ends at once (DELETE /v1/subscriptions/{id})."""
        subscription = self.get("subscriptions", "subscription", subscription_id)
        if subscription["status"] == "canceled":
            raise StandinError("This subscription is already canceled.", param="subscription")
        before = copy.deepcopy(subscription)
        now = self.now()
        subscription.update(
            status="canceled", canceled_at=now, ended_at=now, cancel_at_period_end=False
        )
        subscription["cancellation_details"]["reason"] = "cancellation_requested"
        self.emit("customer.subscription.deleted", subscription, before)
        return subscription

    SUBSCRIPTION_STATUSES = frozenset(
        {
            "active",
            "trialing",
            "past_due",
            "canceled",
            "unpaid",
            "incomplete",
            "incomplete_expired",
            "paused",
            "ended",
            "all",
        }
    )

    def list_subscriptions(self, params):
        check_known(
            params, {"customer", "status", "price", "limit", "starting_after", "ending_before"}
        )
        status = params.get("status")
        if status and status not in self.SUBSCRIPTION_STATUSES:
            raise StandinError(f"Invalid status: {status}", param="status")

        def status_matches(sub):
            if status == "all":
                return True
            if status in (None, ""):
                return sub["status"] != "canceled"  # Stripe's default hides canceled ones
            if (
                status == "ended"
            ):  # "canceled and subscriptions that are expired due to incomplete payment"
                return sub["status"] in ("canceled", "incomplete_expired")
            return sub["status"] == status

        found = [
            s
            for s in reversed(self.subscriptions.values())
            if status_matches(s)
            and (not params.get("customer") or s["customer"] == params["customer"])
            and (not params.get("price") or s["items"]["data"][0]["price"]["id"] == params["price"])
        ]
        return paginate(found, params, "/v1/subscriptions")

    # ---- the subscription clock (control API) --------------------------------

    ADVANCE_ACTIONS = ("end_trial", "renew", "fail_renewal", "pay_failed_invoice", "end_period")

    def advance_subscription(self, subscription_id, action):
        """Move one subscription past a billing boundary, as time passing at Stripe would.

        The stand-in's clock is not moved: invoices and events are stamped with
        "now", and only the subscription's period fields jump forward.
        """
        subscription = self.get("subscriptions", "subscription", subscription_id)
        if action not in self.ADVANCE_ACTIONS:
            choices = ", ".join(self.ADVANCE_ACTIONS)
            raise StandinError(f"action must be one of: {choices}", param="action")
        status = subscription["status"]
        if status == "canceled":
            raise StandinError(f"Subscription {subscription_id} is canceled.", param="action")
        ends = subscription["cancel_at"]  # a date set with cancel_at ends it too, if it comes first
        period_end = subscription["items"]["data"][0]["current_period_end"]
        if action == "end_period" and (
            subscription["cancel_at_period_end"] or (ends and ends <= period_end)
        ):
            return self._end_at_period_end(subscription)
        if action in ("renew", "end_period"):
            action = "end_trial" if status == "trialing" else "renew"
        if action == "end_trial":
            self._require_status(subscription, "trialing", action)
            return self._end_trial(subscription)
        if action == "renew":
            self._require_status(subscription, "active", action)
            return self._renew(subscription)
        if action == "fail_renewal":
            self._require_status(subscription, ("active", "trialing"), action)
            return self._fail_renewal(subscription)
        self._require_status(subscription, ("past_due", "unpaid"), action)
        return self._pay_failed_invoice(subscription)

    def _require_status(self, subscription, allowed, action):
        allowed = (allowed,) if isinstance(allowed, str) else allowed
        if subscription["status"] not in allowed:
            raise StandinError(
                f"Cannot {action} a subscription with status {subscription['status']} "
                f"(needs {' or '.join(allowed)}).",
                param="action",
            )

    def _start_next_period(self, subscription):
        item = subscription["items"]["data"][0]
        recurring = item["price"]["recurring"]
        start = item["current_period_end"]
        item["current_period_start"] = start
        item["current_period_end"] = objects.add_interval(
            start, recurring["interval"], recurring["interval_count"]
        )
        if subscription["cancel_at_period_end"]:
            subscription["cancel_at"] = item["current_period_end"]

    def _needs_authentication(self, subscription):
        """Whether an off-session payment for it must wait for the cardholder (3-D Secure)."""
        return self.customer_cards.get(subscription["customer"]) == ALWAYS_AUTHENTICATE

    def _payment_needs_action(self, subscription, invoice):
        """A renewal whose payment the bank wants the cardholder to authenticate.

        As Stripe documents for a recurring payment that requires action: the invoice stays open
        (its PaymentIntent requires_action), the subscription becomes past_due, and Stripe sends
        invoice.payment_failed and invoice.payment_action_required. It retries no authentication
        failure on its own (next_payment_attempt stays null): the member confirms on the hosted
        invoice page.
        """
        before = copy.deepcopy(subscription)
        invoice.update(
            attempted=True, attempt_count=invoice["attempt_count"] + 1, next_payment_attempt=None
        )
        self._payment_attempt(invoice, "requires_action")
        self.emit("invoice.payment_failed", invoice)
        self.emit("invoice.payment_action_required", invoice)
        subscription["status"] = "past_due"
        if subscription != before:
            self.emit("customer.subscription.updated", subscription, before)

    def _end_trial(self, subscription):
        return self._cycle(subscription, succeed=True)

    def _renew(self, subscription):
        return self._cycle(subscription, succeed=True)

    def _fail_renewal(self, subscription):
        return self._cycle(subscription, succeed=False)

    def _cycle(self, subscription, succeed=None):
        """A period ends: the next one starts (a trial's end makes the subscription active) and its
        invoice is charged. ``succeed`` None: as the customer's card answers.

        Stripe's order: customer.subscription.updated (the new period), invoice.created,
        invoice.finalized, then invoice.paid and invoice.payment_succeeded, or
        invoice.payment_failed and a customer.subscription.updated to past_due.
        Stripe starts the new period even when its invoice cannot be paid.
        """
        before = copy.deepcopy(subscription)
        self._start_next_period(subscription)
        if subscription["status"] == "trialing":
            subscription["status"] = "active"
        self.emit("customer.subscription.updated", subscription, before)
        invoice = self._new_invoice(subscription, "subscription_cycle")
        self._emit_finalized(invoice)
        if (
            succeed is not False
            and invoice["amount_due"]
            and self._needs_authentication(subscription)
        ):
            self._payment_needs_action(subscription, invoice)
        else:
            self._attempt_payment(subscription, invoice, succeed)
        return subscription

    def _card_declines(self, customer_id):
        """Why a charge to the customer's card fails now, or None when it goes through."""
        card = self.customer_cards.get(customer_id, "4242424242424242")
        if card in THREE_D_SECURE_CARDS:
            return None  # set up by an authenticated payment; one that always asks never gets here
        return ATTACH_ONLY_CARDS.get(card) or CARD_OUTCOMES.get(card, INCORRECT_CARD)

    def _attempt_payment(self, subscription, invoice, succeed=None):
        """Charge an open invoice once; a failure schedules the next retry, and the last one
        does what the account's settings say (``after_retries``)."""
        if succeed is None:
            succeed = self._card_declines(subscription["customer"]) is None
        before = copy.deepcopy(subscription)
        if succeed:
            self._mark_paid(invoice)
            self.emit("invoice.paid", invoice)
            self.emit("invoice.payment_succeeded", invoice)
            if subscription["status"] in ("past_due", "unpaid"):
                subscription["status"] = "active"
                self.emit("customer.subscription.updated", subscription, before)
            return True
        self._mark_failed(invoice)
        self.emit("invoice.payment_failed", invoice)
        outcome = "past_due"
        if invoice["next_payment_attempt"] is None:  # that was the last try
            outcome = self.billing_settings["after_retries"]
        if outcome == "cancel":
            now = self.now()
            subscription.update(
                status="canceled", canceled_at=now, ended_at=now, cancel_at_period_end=False
            )
            subscription["cancellation_details"]["reason"] = "payment_failed"
            self.emit("customer.subscription.deleted", subscription, before)
        else:
            subscription["status"] = outcome
            if subscription != before:
                self.emit("customer.subscription.updated", subscription, before)
        return False

    def _pay_failed_invoice(self, subscription):
        invoice = self.invoices.get(subscription["latest_invoice"])
        if invoice is None or invoice["status"] != "open":
            raise StandinError(
                f"Subscription {subscription['id']} has no open invoice.", param="action"
            )
        self._attempt_payment(subscription, invoice, succeed=True)
        return subscription

    # ---- the hosted invoice page ------------------------------------------------

    def invoice_page_state(self, invoice_id):
        """(invoice, subscription or None, product name) for the hosted invoice page."""
        invoice = self.get("invoices", "invoice", invoice_id)
        subscription_id = (
            (invoice.get("parent") or {}).get("subscription_details", {}).get("subscription")
        )
        subscription = self.subscriptions.get(subscription_id)
        product = None
        if subscription:
            price = subscription["items"]["data"][0]["price"]
            product = self.products[price["product"]]["name"]
        return invoice, subscription, product

    def pay_invoice_on_page(self, invoice_id, outcome):
        """The member answers the 3-D Secure challenge for an open invoice on its hosted page.

        ``complete``: the invoice is paid and its subscription active again (invoice.paid,
        customer.subscription.updated); ``fail``: it stays open (invoice.payment_failed).
        Returns the error to show, or None.
        """
        invoice, subscription, _ = self.invoice_page_state(invoice_id)
        if outcome not in ("complete", "fail"):
            raise StandinError("authentication must be complete or fail.", param="authentication")
        if invoice["status"] != "open":
            return "This invoice is not open for payment."
        if outcome == "fail":
            invoice.update(attempted=True, attempt_count=invoice["attempt_count"] + 1)
            self._payment_attempt(invoice, "requires_payment_method")
            self.emit("invoice.payment_failed", invoice)
            return AUTHENTICATION_FAILED
        before = copy.deepcopy(subscription) if subscription else None
        self._mark_paid(invoice)
        self.emit("invoice.paid", invoice)
        self.emit("invoice.payment_succeeded", invoice)
        if (
            subscription
            and subscription["status"] in ("past_due", "unpaid", "incomplete")
            and subscription["latest_invoice"] == invoice["id"]
        ):
            subscription["status"] = "active"
            self.emit("customer.subscription.updated", subscription, before)
        return None

    # ---- time passing: trial ends, renewals and retries, in order --------------

    def _next_due(self, subscription):
        """(when, order, what) of the next thing time brings this subscription, or None."""
        status = subscription["status"]
        due = []
        if status == "incomplete":
            due.append((subscription["created"] + INCOMPLETE_EXPIRES_AFTER, 0, "expire_incomplete"))
        if status == "trialing" and subscription["id"] not in self.trial_will_end_sent:
            due.append((subscription["trial_end"] - TRIAL_WILL_END_BEFORE, 0, "trial_will_end"))
        invoice = self.invoices.get(subscription["latest_invoice"])
        if (
            status in ("past_due", "unpaid")
            and invoice
            and invoice["status"] == "open"
            and invoice["next_payment_attempt"]
        ):
            due.append((invoice["next_payment_attempt"], 1, "retry_payment"))
        # "cancel_at: A date in the future at which the subscription will automatically get
        # canceled" (set with cancel_at_period_end too). Ordered before the period's end, so an
        # end on the period's last moment ends it instead of renewing it; a later date comes
        # after the renewals before it, by time.
        if subscription["cancel_at"] and status in ("trialing", "active", "past_due", "unpaid"):
            due.append((subscription["cancel_at"], 2, "cancel_at"))
        # An unpaid subscription's later invoices stay drafts at Stripe: the stand-in makes none.
        if status in ("trialing", "active", "past_due"):
            due.append((subscription["items"]["data"][0]["current_period_end"], 3, "period_end"))
        return min(due) if due else None

    def _run_due(self, subscription_ids, until):
        """Make everything due up to ``until`` happen, earliest first, each at its own moment
        (never before the current one): the engine under the account's clock and test clocks."""
        for _ in range(100_000):  # a daily plan moved on by years stays well below
            due = []
            for subscription_id in subscription_ids:
                next_due = self._next_due(self.subscriptions[subscription_id])
                if next_due and next_due[0] <= until:
                    due.append((*next_due, subscription_id))
            if not due:
                return
            when, _, what, subscription_id = min(due)
            subscription = self.subscriptions[subscription_id]
            with self._at(max(when, self.now())):
                if what == "trial_will_end":
                    self.trial_will_end_sent.add(subscription_id)
                    self.emit("customer.subscription.trial_will_end", subscription)
                elif what == "retry_payment":
                    invoice = self.invoices[subscription["latest_invoice"]]
                    self._attempt_payment(subscription, invoice)
                elif what == "expire_incomplete":
                    self._expire_incomplete(subscription)
                elif what == "cancel_at":
                    self._end_at_period_end(subscription)
                else:
                    self._cycle(subscription)

    def _expire_incomplete(self, subscription):
        """A first payment not made within 23 hours: "This is a terminal status, the open invoice
        will be voided and no further invoices will be generated." The invoice's PaymentIntent
        is canceled with it, and a challenge Checkout left waiting on it is forgotten (a later
        payment on that session starts afresh)."""
        now = self.now()
        invoice = self.invoices.get(subscription["latest_invoice"])
        if invoice and invoice["status"] == "open":
            invoice.update(status="void", auto_advance=False, next_payment_attempt=None)
            invoice["status_transitions"]["voided_at"] = now
            for payment in self.invoice_payments.get(invoice["id"], []):
                intent = self.payment_intents[payment["payment"]["payment_intent"]]
                objects.payment_intent_status(intent, "canceled", now=now)
                payment["status"] = "canceled"
                payment["status_transitions"]["canceled_at"] = now
            self.emit("invoice.voided", invoice)
        for session_id, pending in list(self.checkout_authentications.items()):
            if pending["subscription"] == subscription["id"]:
                del self.checkout_authentications[session_id]
        before = copy.deepcopy(subscription)
        subscription.update(status="incomplete_expired", canceled_at=now, ended_at=now)
        self.emit("customer.subscription.updated", subscription, before)

    def set_customer_card(self, customer_id, card):
        """The card the customer's next charges go to, as updating it in the portal does."""
        customer = self.get("customers", "customer", customer_id)
        card = "".join(ch for ch in str(card or "") if ch.isdigit())
        known = card in CARD_OUTCOMES or card in ATTACH_ONLY_CARDS or card in THREE_D_SECURE_CARDS
        if not known:
            raise StandinError(INCORRECT_CARD, param="card")
        self.customer_cards[customer["id"]] = card
        return {"customer": customer["id"], "card": card}

    def update_billing_settings(self, data):
        """The account's retry settings (control API): ``retry_days``, ``after_retries``."""
        check_known(data, {"retry_days", "after_retries"})
        settings = copy.deepcopy(self.billing_settings)
        if "retry_days" in data:
            days = data["retry_days"]
            if not isinstance(days, list) or not all(
                isinstance(d, (int, float)) and not isinstance(d, bool) and d > 0 for d in days
            ):
                raise StandinError(
                    "retry_days must be a list of positive numbers of days.", param="retry_days"
                )
            settings["retry_days"] = list(days)
        if "after_retries" in data:
            if data["after_retries"] not in AFTER_RETRIES:
                raise StandinError(
                    f"after_retries must be one of: {', '.join(AFTER_RETRIES)}",
                    param="after_retries",
                )
            settings["after_retries"] = data["after_retries"]
        self.billing_settings = settings
        return copy.deepcopy(settings)

    # ---- test clocks ---------------------------------------------------------

    def create_test_clock(self, params):
        check_known(params, {"frozen_time", "name"})
        if params.get("frozen_time") in (None, ""):
            raise StandinError("Missing required param: frozen_time.", param="frozen_time")
        clock = objects.clock(
            now=self.now(),
            frozen_time=as_int(params, "frozen_time", minimum=0),
            name=params.get("name") or None,
        )
        self.test_clocks[clock["id"]] = clock
        self.emit("test_helpers.test_clock.created", clock)
        return clock

    def list_test_clocks(self, params):
        check_known(params, {"limit", "starting_after", "ending_before"})
        return paginate(
            list(reversed(self.test_clocks.values())), params, "/v1/test_helpers/test_clocks"
        )

    def delete_test_clock(self, clock_id, params):
        """Deleting a clock deletes the customers on it, and their subscriptions and invoices."""
        check_known(params, set())
        clock = self.get("test_clocks", "test_clock", clock_id)
        customers = {c for c, obj in self.customers.items() if obj["test_clock"] == clock_id}
        for collection in (self.subscriptions, self.invoices):
            for object_id in [i for i, obj in collection.items() if obj["customer"] in customers]:
                del collection[object_id]
        for customer_id in customers:
            del self.customers[customer_id]
            self.customer_cards.pop(customer_id, None)
        del self.test_clocks[clock_id]
        self.emit("test_helpers.test_clock.deleted", clock)
        return {"id": clock_id, "object": "test_helpers.test_clock", "deleted": True}

    def advance_test_clock(self, clock_id, params):
        """Move the clock to ``frozen_time``; everything due for its customers meanwhile happens
        in order, stamped with its own moment. Answers the clock ``advancing``, as Stripe does
        (its work is done by the time anyone can look: a retrieve shows it ``ready``)."""
        check_known(params, {"frozen_time"})
        clock = self.get("test_clocks", "test_clock", clock_id)
        if params.get("frozen_time") in (None, ""):
            raise StandinError("Missing required param: frozen_time.", param="frozen_time")
        target = as_int(params, "frozen_time")
        if target <= clock["frozen_time"]:
            raise StandinError(
                "The frozen_time must be after the test clock's current frozen_time.",
                param="frozen_time",
            )
        subscriptions = [
            s
            for s in self.subscriptions.values()
            if s["test_clock"] == clock_id and s["status"] not in ("canceled", "incomplete_expired")
        ]
        # "Cannot be more than two intervals in the future from the shortest subscription in this
        # test clock. If there are no subscriptions in this test clock, it cannot be more than two
        # years in the future."
        limit = min(
            (
                objects.add_interval(
                    clock["frozen_time"],
                    s["items"]["data"][0]["price"]["recurring"]["interval"],
                    2 * s["items"]["data"][0]["price"]["recurring"]["interval_count"],
                )
                for s in subscriptions
            ),
            default=objects.add_interval(clock["frozen_time"], "year", 2),
        )
        if target > limit:
            raise StandinError(
                "Cannot advance more than two intervals of the shortest subscription on this "
                f"test clock (or two years without one): at most {limit}.",
                param="frozen_time",
            )
        clock.update(status="advancing")
        with self._at(clock["frozen_time"]):
            self.emit("test_helpers.test_clock.advancing", clock)
        answer = copy.deepcopy(clock)
        with self._at(clock["frozen_time"]):
            self._run_due([s["id"] for s in subscriptions], target)
        clock.update(status="ready", frozen_time=target)
        with self._at(target):
            self.emit("test_helpers.test_clock.ready", clock)
        return answer

    def _end_at_period_end(self, subscription):
        before = copy.deepcopy(subscription)
        subscription.update(
            status="canceled",
            ended_at=subscription["cancel_at"]
            or subscription["items"]["data"][0]["current_period_end"],
        )
        self.emit("customer.subscription.deleted", subscription, before)
        return subscription

    # ---- webhook endpoints ---------------------------------------------------

    # The event types an endpoint may subscribe to ("*": all) and the API versions it may render
    # events as: the pinned SDK's own lists, generated from Stripe's OpenAPI.
    EVENT_TYPES = sdk_choices(WebhookEndpointCreateParams, "enabled_events")
    API_VERSIONS = sdk_choices(WebhookEndpointCreateParams, "api_version")
    MAX_WEBHOOK_ENDPOINTS = 16  # per account and mode, as Stripe's webhooks guide says

    def create_webhook_endpoint(self, params):
        check_known(
            params, {"url", "enabled_events", "api_version", "description", "metadata", "connect"}
        )
        url = self._webhook_url(params)
        enabled_events = self._enabled_events(params, required=True)
        api_version = params.get("api_version") or None
        if api_version is not None and api_version not in self.API_VERSIONS:
            raise StandinError(f"Invalid api_version: {api_version}", param="api_version")
        if as_bool(params, "connect", False):
            raise StandinError("The Stripe stand-in has no connected accounts.", param="connect")
        metadata = merged_metadata({}, params.get("metadata"))
        if len(self.webhook_endpoints) >= self.MAX_WEBHOOK_ENDPOINTS:
            raise StandinError(
                f"You have reached the maximum of {self.MAX_WEBHOOK_ENDPOINTS} test webhook "
                "endpoints.",
                param="url",
            )
        endpoint = objects.webhook_endpoint(
            now=self.now(),
            url=url,
            enabled_events=enabled_events,
            api_version=api_version,
            description=params.get("description") or None,
        )
        endpoint["metadata"] = metadata
        secret = objects.webhook_secret()
        self.webhook_endpoints[endpoint["id"]] = endpoint
        self.webhook_secrets[endpoint["id"]] = secret
        return dict(endpoint, secret=secret)  # the one response that carries the secret

    def update_webhook_endpoint(self, endpoint_id, params):
        # No api_version here: Stripe sets it at creation only.
        check_known(params, {"url", "enabled_events", "description", "disabled", "metadata"})
        endpoint = self.get("webhook_endpoints", "webhook endpoint", endpoint_id)
        changes = {}
        if "url" in params:
            changes["url"] = self._webhook_url(params)
        if "enabled_events" in params:
            changes["enabled_events"] = self._enabled_events(params, required=True)
        if "description" in params:
            changes["description"] = params["description"] or None
        disabled = as_bool(params, "disabled")
        if disabled is not None:
            changes["status"] = "disabled" if disabled else "enabled"
        changes["metadata"] = merged_metadata(endpoint["metadata"], params.get("metadata"))
        endpoint.update(changes)  # only once every parameter is valid
        return endpoint

    def delete_webhook_endpoint(self, endpoint_id, params):
        check_known(params, set())
        self.get("webhook_endpoints", "webhook endpoint", endpoint_id)
        del self.webhook_endpoints[endpoint_id]
        del self.webhook_secrets[endpoint_id]
        return {"id": endpoint_id, "object": "webhook_endpoint", "deleted": True}

    def list_webhook_endpoints(self, params):
        check_known(params, {"limit", "starting_after", "ending_before"})
        found = list(reversed(self.webhook_endpoints.values()))
        return paginate(found, params, "/v1/webhook_endpoints")

    def _webhook_url(self, params):
        url = require(params, "url")
        parts = urlsplit(url)
        # Stripe also refuses addresses it cannot reach from the internet; the stand-in posts
        # to local ones, which is what it is for.
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise StandinError(f"Invalid URL: {url}", param="url")
        return url

    def _enabled_events(self, params, *, required):
        if required and params.get("enabled_events") in (None, ""):
            raise StandinError("Missing required param: enabled_events.", param="enabled_events")
        events = as_list(params, "enabled_events")
        for index, event_type in enumerate(events):
            if event_type not in self.EVENT_TYPES:
                raise StandinError(
                    f"Invalid enabled_events[{index}]: {event_type!r} is not an event type "
                    "(nor '*', for all)",
                    param=f"enabled_events[{index}]",
                )
        return events

    # ---- billing portal configurations ---------------------------------------

    CONFIGURATION_PARAMS = frozenset(
        {"business_profile", "default_return_url", "features", "login_page", "metadata", "name"}
    )
    # Each feature's parameters; `enabled` is required for every one given on create, and for
    # these on update (the SDK's ConfigurationCreateParams / ConfigurationUpdateParams).
    PORTAL_FEATURES = {
        "customer_update": {"enabled", "allowed_updates"},
        "invoice_history": {"enabled"},
        "payment_method_update": {"enabled", "payment_method_configuration"},
        "subscription_cancel": {"enabled", "mode", "proration_behavior", "cancellation_reason"},
        "subscription_update": {
            "enabled",
            "default_allowed_updates",
            "products",
            "proration_behavior",
            "schedule_at_period_end",
            "trial_update_behavior",
            "billing_cycle_anchor",
        },
    }
    ENABLED_REQUIRED_ON_UPDATE = {"invoice_history", "payment_method_update"}
    CANCELLATION_REASONS = frozenset(
        {
            "customer_service",
            "low_quality",
            "missing_features",
            "other",
            "switched_service",
            "too_complex",
            "too_expensive",
            "unused",
        }
    )

    def create_portal_configuration(self, params):
        check_known(params, self.CONFIGURATION_PARAMS)
        if params.get("features") in (None, ""):
            raise StandinError("Missing required param: features.", param="features")
        configuration = objects.portal_configuration(now=self.now())
        self._configure(configuration, params, creating=True)
        self.portal_configurations[configuration["id"]] = configuration
        self.emit("billing_portal.configuration.created", self._as_sent(configuration))
        return configuration

    def update_portal_configuration(self, configuration_id, params):
        check_known(params, self.CONFIGURATION_PARAMS | {"active"})
        configuration = self.get("portal_configurations", "configuration", configuration_id)
        before = copy.deepcopy(configuration)
        self._configure(configuration, params, creating=False)
        if configuration != before:
            configuration["updated"] = self.now()
            self.emit(
                "billing_portal.configuration.updated",
                self._as_sent(configuration),
                self._as_sent(before),
            )
        return configuration

    def list_portal_configurations(self, params):
        check_known(params, {"active", "is_default", "limit", "starting_after", "ending_before"})
        active, is_default = as_bool(params, "active"), as_bool(params, "is_default")
        found = [
            c
            for c in reversed(self.portal_configurations.values())
            if (active is None or c["active"] == active)
            and (is_default is None or c["is_default"] == is_default)
        ]
        return paginate(found, params, "/v1/billing_portal/configurations")

    def default_portal_configuration(self):
        """The account's default configuration, as saving the portal settings in the Dashboard
        makes it (the control API's stand-in for that page): cancel at period end, update the
        payment method, see invoices."""
        for configuration in self.portal_configurations.values():
            if configuration["is_default"]:
                return configuration
        configuration = objects.portal_configuration(now=self.now(), is_default=True)
        features = configuration["features"]
        features["invoice_history"]["enabled"] = True
        features["payment_method_update"]["enabled"] = True
        features["subscription_cancel"]["enabled"] = True
        self.portal_configurations[configuration["id"]] = configuration
        self.emit("billing_portal.configuration.created", self._as_sent(configuration))
        return configuration

    @staticmethod
    def _as_sent(configuration):
        """The configuration as a response or an event shows it: without its includable products."""
        return without_includable(copy.deepcopy(configuration), included=False)

    def _configure(self, configuration, params, *, creating):
        """Apply create or update parameters, all or nothing (a bad one changes nothing)."""
        draft = copy.deepcopy(configuration)
        if "active" in params:
            draft["active"] = as_bool(params, "active")
        if "name" in params:
            draft["name"] = params["name"] or None
        if "default_return_url" in params:
            draft["default_return_url"] = params["default_return_url"] or None
        if "business_profile" in params:
            profile = self._hash(params, "business_profile")
            fields = {"headline", "privacy_policy_url", "terms_of_service_url"}
            check_known(profile, fields, "business_profile")
            draft["business_profile"].update({k: v or None for k, v in profile.items()})
        if "login_page" in params:
            login_page = self._hash(params, "login_page")
            check_known(login_page, {"enabled"}, "login_page")
            if as_bool(login_page, "enabled"):
                raise StandinError(
                    "The Stripe stand-in has no portal login page.", param="login_page[enabled]"
                )
        draft["metadata"] = merged_metadata(draft["metadata"] or {}, params.get("metadata"))
        if "features" in params:
            features = self._hash(params, "features")
            check_known(features, set(self.PORTAL_FEATURES), "features")
            for name, given in features.items():
                self._configure_feature(draft["features"], name, given, creating=creating)
        self._check_features(draft["features"])
        configuration.clear()
        configuration.update(draft)

    @staticmethod
    def _hash(params, name):
        value = params[name]
        if not isinstance(value, dict):
            raise StandinError("Invalid hash", param=name)
        return value

    def _configure_feature(self, features, name, given, *, creating):
        param = f"features[{name}]"
        if not isinstance(given, dict):
            raise StandinError("Invalid hash", param=param)
        check_known(given, self.PORTAL_FEATURES[name], param)
        feature = features[name]
        if "enabled" in given:
            feature["enabled"] = as_bool(given, "enabled")
        elif creating or name in self.ENABLED_REQUIRED_ON_UPDATE:
            raise StandinError(
                f"Missing required param: {param}[enabled].", param=f"{param}[enabled]"
            )
        if name == "customer_update" and "allowed_updates" in given:
            feature["allowed_updates"] = as_list(
                given,
                "allowed_updates",
                {"address", "email", "name", "phone", "shipping", "tax_id"},
                param,
            )
        if name == "payment_method_update" and "payment_method_configuration" in given:
            feature["payment_method_configuration"] = given["payment_method_configuration"] or None
        if name == "subscription_cancel":
            if "mode" in given:
                feature["mode"] = as_choice(given, "mode", {"at_period_end", "immediately"}, param)
            if "proration_behavior" in given:
                feature["proration_behavior"] = as_choice(
                    given,
                    "proration_behavior",
                    {"always_invoice", "create_prorations", "none"},
                    param,
                )
            if "cancellation_reason" in given:
                reason = given["cancellation_reason"]
                if not isinstance(reason, dict):
                    raise StandinError("Invalid hash", param=f"{param}[cancellation_reason]")
                where = f"{param}[cancellation_reason]"
                check_known(reason, {"enabled", "options"}, where)
                feature["cancellation_reason"] = {
                    "enabled": as_bool(reason, "enabled", False),
                    "options": as_list(reason, "options", self.CANCELLATION_REASONS, where)
                    if "options" in reason
                    else feature["cancellation_reason"]["options"],
                }
        if name == "subscription_update":
            self._configure_subscription_update(feature, given)

    def _configure_subscription_update(self, feature, given):
        param = "features[subscription_update]"
        if "default_allowed_updates" in given:
            feature["default_allowed_updates"] = as_list(
                given, "default_allowed_updates", {"price", "promotion_code", "quantity"}, param
            )
        for field, choices in (
            ("proration_behavior", {"always_invoice", "create_prorations", "none"}),
            ("trial_update_behavior", {"continue_trial", "end_trial"}),
            ("billing_cycle_anchor", {"now", "unchanged"}),
        ):
            if field in given:
                feature[field] = as_choice(given, field, choices, param)
        if "schedule_at_period_end" in given:
            schedule = given["schedule_at_period_end"]
            if not isinstance(schedule, dict):
                raise StandinError("Invalid hash", param=f"{param}[schedule_at_period_end]")
            where = f"{param}[schedule_at_period_end]"
            check_known(schedule, {"conditions"}, where)
            conditions = (
                as_list(schedule, "conditions", where=where) if "conditions" in schedule else []
            )
            for index, condition in enumerate(conditions):
                if not isinstance(condition, dict):
                    raise StandinError(
                        "Invalid hash",
                        param=f"{where}[conditions][{index}]",
                    )
                check_known(condition, {"type"}, f"{where}[conditions][{index}]")
                as_choice(
                    condition,
                    "type",
                    {"decreasing_item_amount", "shortening_interval"},
                    f"{where}[conditions][{index}]",
                )
            feature["schedule_at_period_end"] = {"conditions": conditions}
        if "products" in given:
            feature["products"] = self._portal_products(as_list(given, "products", where=param))

    def _portal_products(self, products):
        param = "features[subscription_update][products]"
        if len(products) > 10:  # "The list of up to 10 products that support subscription updates."
            raise StandinError(f"Invalid array: {param} can have at most 10 products.", param=param)
        result = []
        for index, entry in enumerate(products):
            where = f"{param}[{index}]"
            if not isinstance(entry, dict):
                raise StandinError("Invalid hash", param=where)
            check_known(entry, {"product", "prices"}, where)
            product = self.get("products", "product", require(entry, "product"), param=where)
            prices = as_list(entry, "prices", where=where) if "prices" in entry else []
            if not prices:
                raise StandinError(f"Missing required param: {where}[prices].", param=where)
            for price_id in prices:
                price = self.get("prices", "price", price_id, param=f"{where}[prices]")
                if price["product"] != product["id"]:
                    raise StandinError(
                        f"The price {price_id} does not belong to the product {product['id']}.",
                        param=f"{where}[prices]",
                    )
                if price["type"] != "recurring":
                    raise StandinError(
                        f"The price {price_id} is not recurring.", param=f"{where}[prices]"
                    )
            result.append(
                {
                    "adjustable_quantity": {"enabled": False, "maximum": None, "minimum": 0},
                    "prices": prices,
                    "product": product["id"],
                }
            )
        return result

    @staticmethod
    def _check_features(features):
        """The rules that join several parameters, checked on the configuration they make."""
        cancel = features["subscription_cancel"]
        if cancel["proration_behavior"] == "always_invoice" or (
            cancel["proration_behavior"] == "create_prorations" and cancel["mode"] != "immediately"
        ):
            raise StandinError(
                "features[subscription_cancel][proration_behavior] can be create_prorations "
                "only with mode=immediately, and never always_invoice.",
                param="features[subscription_cancel][proration_behavior]",
            )
        update = features["subscription_update"]
        if update["enabled"]:
            # Optional only while the feature is off (API version 2024-09-30.acacia on).
            for field in ("products", "default_allowed_updates"):
                if not update[field]:
                    param = f"features[subscription_update][{field}]"
                    raise StandinError(f"Missing required param: {param}.", param=param)

    # ---- many subscribers at once (control API) -----------------------------

    def bulk_subscriptions(self, count, price_id):
        """``count`` customers, each with an active subscription to ``price_id``, made at once.

        For load tests (the reconcile job over thousands of subscribers): as if they had
        subscribed long ago, so no events and no invoices. Returns the subscriptions, newest
        first, as the list API orders them.
        """
        if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= 100_000:
            raise StandinError("count must be a whole number from 1 to 100000.", param="count")
        price = self.get("prices", "price", price_id, param="price")
        if price["type"] != "recurring":
            raise StandinError(f"The price {price_id} is not recurring.", param="price")
        now, made = self.now(), []
        for number in range(count):
            customer = objects.customer(now=now, email=f"bulk-{number}@example.com")
            customer["currency"] = price["currency"]
            self.customers[customer["id"]] = customer
            subscription = objects.subscription(
                now=now, customer_id=customer["id"], price_obj=price, quantity=1
            )
            self.subscriptions[subscription["id"]] = subscription
            made.append(subscription)
        return list(reversed(made))

    # ---- events --------------------------------------------------------------

    def list_events(self, params):
        check_known(
            params, {"type", "types", "created", "limit", "starting_after", "ending_before"}
        )
        types = params.get("types")
        if isinstance(types, str):
            types = [types]
        if params.get("type") and types:
            raise StandinError(
                "You may only specify one of these parameters: type, types.", param="types"
            )
        patterns = types or ([params["type"]] if params.get("type") else None)
        in_range = created_filter(params.get("created"))
        found = [
            e
            for e in reversed(self.events.values())
            if in_range(e["created"])
            and (patterns is None or any(event_type_matches(p, e["type"]) for p in patterns))
        ]
        return paginate(found, params, "/v1/events")
