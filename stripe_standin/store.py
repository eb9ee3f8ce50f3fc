"""The stand-in's in-memory Stripe account: objects, events and the rules that change them.

Callers hold ``Store.lock`` around every call (the server does it once per
request), so each request sees and leaves a consistent state. Methods take
decoded request parameters (strings, dicts, lists; see forms.py) and raise
``StandinError`` with Stripe's error shape when a request is invalid.
"""

import copy
import threading
import time

from . import objects

# Test cards and what paying with them does. None means the payment succeeds.
CARD_OUTCOMES = {
    "4242424242424242": None,
    "4000000000000002": "Your card was declined.",
    "4000000000009995": "Your card has insufficient funds.",
}
INCORRECT_CARD = "Your card number is incorrect."
ALREADY_COMPLETE = "This checkout session is already complete."
EXPIRED = "This checkout session has expired."

# How long Stripe waits before retrying a failed renewal payment (smart
# retries vary; three days is a typical first retry).
RETRY_PAYMENT_AFTER = 3 * 86400


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


def check_known(params, allowed):
    """Reject parameters the stand-in does not implement, as Stripe rejects unknown ones."""
    for name in params:
        if name not in allowed and name != "expand":
            raise StandinError(
                f"Received unknown parameter: {name} "
                f"(the Stripe stand-in accepts: {', '.join(sorted(allowed))})",
                param=name,
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


def event_type_matches(pattern, event_type):
    # Stripe allows one trailing wildcard: "customer.subscription.*".
    if pattern.endswith("*"):
        return event_type.startswith(pattern[:-1])
    return event_type == pattern


class Store:
    def __init__(self, base_url, on_event=None):
        self.lock = threading.RLock()
        self.base_url = base_url
        # Called with each new event id, under the lock; the webhook deliverer queues it.
        self.on_event = on_event or (lambda event_id: None)
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
            self.portal_configuration = objects.new_id("bpc_")
            # Set by the server while it handles an API request, so events record it.
            self.request_context = {"id": None, "idempotency_key": None}

    # ---- time and events -----------------------------------------------------

    def now(self):
        return int(time.time() + self.clock_offset)

    def advance_clock(self, seconds):
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
        self.on_event(event["id"])
        return event

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
            "subscriptions": self.subscriptions,
            "invoices": self.invoices,
            "events": self.events,
        }

    def dump(self):
        state = {name: copy.deepcopy(c) for name, c in self._collections().items()}
        state["clock"] = self.clock_state()
        return state

    def get(self, collection, label, object_id, param="id"):
        obj = getattr(self, collection).get(object_id)
        if obj is None:
            raise missing(label, object_id, param)
        return obj

    def response(self, obj, params):
        """A copy of ``obj`` with the ``expand[]`` paths of the request applied."""
        result = copy.deepcopy(obj)
        expand = params.get("expand") or []
        if isinstance(expand, str):  # expand=x without brackets
            expand = [expand]
        for index, path in enumerate(expand):
            expand_ids(result, path, self.find, param=f"expand[{index}]")
        return result

    # ---- customers -----------------------------------------------------------

    CUSTOMER_PARAMS = frozenset({"email", "name", "description", "phone", "metadata"})

    def create_customer(self, params):
        check_known(params, self.CUSTOMER_PARAMS)
        customer = objects.customer(
            now=self.now(),
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
        check_known(params, {"email", "limit", "starting_after", "ending_before"})
        found = [
            c
            for c in reversed(self.customers.values())
            if not params.get("email") or c["email"] == params["email"]
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
            # Accepted and ignored: they only change what Stripe's own page collects.
            "billing_address_collection",
            "payment_method_types",
            "customer_update",
            "automatic_tax",
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
        trial_days, sub_metadata = self._subscription_data(params.get("subscription_data"))
        as_bool(params, "allow_promotion_codes")  # validates the value
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
            "metadata": sub_metadata,
        }
        return session

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

    def _subscription_data(self, data):
        if data is None:
            return None, {}
        if not isinstance(data, dict):
            raise StandinError("Invalid hash", param="subscription_data")
        check_known(data, {"trial_period_days", "metadata", "description"})
        trial_days = as_int(data, "trial_period_days", minimum=1, maximum=730)
        return trial_days, merged_metadata({}, data.get("metadata"), "subscription_data[metadata]")

    def success_redirect(self, session):
        return session["success_url"].replace("{CHECKOUT_SESSION_ID}", session["id"])

    def pay_checkout_session(self, session_id, card_number):
        """Pay an open session with a test card, as the hosted page's form does.

        Returns {"status", "redirect", "error", "subscription", "http_status"}.
        """
        session = self.get("checkout_sessions", "checkout session", session_id)
        result = {
            "status": session["status"],
            "redirect": None,
            "error": None,
            "subscription": None,
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
        decline = CARD_OUTCOMES.get(card, INCORRECT_CARD)
        if decline:
            return dict(result, error=decline, http_status=402)

        subscription = self._subscribe_from_checkout(session)
        return dict(
            result,
            status="complete",
            redirect=self.success_redirect(session),
            subscription=subscription["id"],
            http_status=200,
        )

    def _subscribe_from_checkout(self, session):
        plan = self.checkout_plans[session["id"]]
        if session["customer"]:
            customer = self.customers[session["customer"]]
        else:
            customer = self.create_customer({"email": session["customer_email"] or ""})
        if customer["currency"] is None:
            customer["currency"] = session["currency"]

        price = self.prices[plan["price"]]
        subscription = objects.subscription(
            now=self.now(),
            customer_id=customer["id"],
            price_obj=price,
            quantity=plan["quantity"],
            trial_days=plan["trial_days"],
            metadata=plan["metadata"],
        )
        self.subscriptions[subscription["id"]] = subscription
        amount = 0 if plan["trial_days"] else price["unit_amount"] * plan["quantity"]
        invoice = self._new_invoice(subscription, "subscription_create", amount)
        self._mark_paid(invoice)

        session.update(
            status="complete",
            payment_status="no_payment_required" if amount == 0 else "paid",
            subscription=subscription["id"],
            invoice=invoice["id"],
            customer=customer["id"],
            customer_details=objects.customer_details(customer),
        )
        self.emit("customer.subscription.created", subscription)
        if amount:
            self.emit("invoice.paid", invoice)
        self.emit("checkout.session.completed", session)
        return subscription

    def expire_checkout_session(self, session_id):
        session = self.get("checkout_sessions", "checkout session", session_id)
        if session["status"] != "open":
            raise StandinError('Only Checkout Sessions with a status in ["open"] can be expired.')
        session["status"] = "expired"
        self.emit("checkout.session.expired", session)
        return session

    # ---- invoices ------------------------------------------------------------

    def _new_invoice(self, subscription, billing_reason, amount=None):
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
        self.invoices[invoice["id"]] = invoice
        subscription["latest_invoice"] = invoice["id"]
        return invoice

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

    def _mark_failed(self, invoice):
        invoice.update(
            attempted=True,
            attempt_count=invoice["attempt_count"] + 1,
            next_payment_attempt=self.now() + RETRY_PAYMENT_AFTER,
        )

    def list_invoices(self, params):
        check_known(
            params,
            {"customer", "subscription", "status", "limit", "starting_after", "ending_before"},
        )
        found = [
            i
            for i in reversed(self.invoices.values())
            if all(
                not params.get(f) or i[f] == params[f]
                for f in ("customer", "subscription", "status")
            )
        ]
        return paginate(found, params, "/v1/invoices")

    # ---- billing portal ------------------------------------------------------

    def create_portal_session(self, params):
        check_known(params, {"customer", "return_url", "locale", "configuration"})
        customer = self.get("customers", "customer", require(params, "customer"), param="customer")
        session = objects.portal_session(
            now=self.now(),
            base_url=self.base_url,
            customer_id=customer["id"],
            return_url=params.get("return_url"),
            configuration_id=self.portal_configuration,
        )
        session["locale"] = params.get("locale")
        self.portal_sessions[session["id"]] = session
        self.emit("billing_portal.session.created", session)
        return session

    def customer_subscriptions(self, customer_id):
        return [s for s in self.subscriptions.values() if s["customer"] == customer_id]

    def portal_action(self, portal_id, subscription_id, action):
        """Apply a portal button. Only the portal's own customer's subscriptions may change."""
        portal = self.get("portal_sessions", "billing portal session", portal_id)
        subscription = self.subscriptions.get(subscription_id)
        if subscription is None or subscription["customer"] != portal["customer"]:
            raise missing("subscription", subscription_id, param="subscription")
        if action == "cancel_at_period_end":
            return self._set_cancel_at_period_end(subscription, True)
        if action == "resume":
            return self._set_cancel_at_period_end(subscription, False)
        if action == "cancel_now":
            return self.cancel_subscription(subscription_id)
        raise StandinError(f"Unknown portal action: {action}", param="action")

    # ---- subscriptions -------------------------------------------------------

    def update_subscription(self, subscription_id, params):
        check_known(
            params, {"cancel_at_period_end", "metadata", "description", "cancellation_details"}
        )
        subscription = self.get("subscriptions", "subscription", subscription_id)
        before = copy.deepcopy(subscription)
        cancel_at_period_end = as_bool(params, "cancel_at_period_end")
        if subscription["status"] == "canceled" and cancel_at_period_end is not None:
            raise StandinError(
                "A canceled subscription can only update its cancellation_details and metadata.",
                param="cancel_at_period_end",
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
            return sub["status"] == ("canceled" if status == "ended" else status)

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
        if action == "end_period" and subscription["cancel_at_period_end"]:
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
        self._require_status(subscription, "past_due", action)
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

    def _end_trial(self, subscription):
        before = copy.deepcopy(subscription)
        self._start_next_period(subscription)
        subscription["status"] = "active"
        invoice = self._new_invoice(subscription, "subscription_cycle")
        self._mark_paid(invoice)
        self.emit("customer.subscription.updated", subscription, before)
        self.emit("invoice.paid", invoice)
        return subscription

    def _renew(self, subscription):
        before = copy.deepcopy(subscription)
        self._start_next_period(subscription)
        invoice = self._new_invoice(subscription, "subscription_cycle")
        self._mark_paid(invoice)
        self.emit("invoice.paid", invoice)
        self.emit("customer.subscription.updated", subscription, before)
        return subscription

    def _fail_renewal(self, subscription):
        # Stripe starts the new period even when its invoice cannot be paid.
        before = copy.deepcopy(subscription)
        self._start_next_period(subscription)
        subscription["status"] = "past_due"
        invoice = self._new_invoice(subscription, "subscription_cycle")
        self._mark_failed(invoice)
        self.emit("invoice.payment_failed", invoice)
        self.emit("customer.subscription.updated", subscription, before)
        return subscription

    def _pay_failed_invoice(self, subscription):
        invoice = self.invoices.get(subscription["latest_invoice"])
        if invoice is None or invoice["status"] != "open":
            raise StandinError(
                f"Subscription {subscription['id']} has no open invoice.", param="action"
            )
        before = copy.deepcopy(subscription)
        self._mark_paid(invoice)
        subscription["status"] = "active"
        self.emit("invoice.paid", invoice)
        self.emit("customer.subscription.updated", subscription, before)
        return subscription

    def _end_at_period_end(self, subscription):
        before = copy.deepcopy(subscription)
        subscription.update(
            status="canceled", ended_at=subscription["items"]["data"][0]["current_period_end"]
        )
        self.emit("customer.subscription.deleted", subscription, before)
        return subscription

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
