"""Build Stripe-shaped objects from Stripe's own published examples.

Every builder deep-copies the fixture of its type (fixtures.json, taken from
stripe/openapi) and overwrites fields, so the key set of what the stand-in
returns is exactly the key set Stripe documents. Placeholder values in the
fixtures (a discount with id "obj_123", a package of 1221029593 units, ...)
are replaced with what a fresh test-mode object really holds, mostly null.
"""

import calendar
import copy
import datetime
import json
import os
import secrets
import string

import stripe

# The API version the installed SDK speaks (2026-10-28.endive for 16.1.0): the stand-in answers
# as that version, in its Stripe-Version header and in every event's api_version.
API_VERSION = stripe.api_version

_FIXTURES_PATH = os.path.join(os.path.dirname(__file__), "fixtures.json")
with open(_FIXTURES_PATH, encoding="utf-8") as _f:
    FIXTURES = json.load(_f)["resources"]

_ID_ALPHABET = string.ascii_letters + string.digits
# Suffix lengths roughly as Stripe's own ids, so code that stores them in
# CharFields meets realistic sizes.
_ID_LENGTHS = {"cs_test_": 58, "cus_": 14, "prod_": 14, "si_": 14, "il_": 24}


def new_id(prefix):
    length = _ID_LENGTHS.get(prefix, 24)
    return prefix + "".join(secrets.choice(_ID_ALPHABET) for _ in range(length))


def fixture(kind):
    return copy.deepcopy(FIXTURES[kind])


def add_interval(timestamp, interval, count=1):
    """Move a Unix timestamp on by ``count`` billing intervals (UTC calendar)."""
    if interval == "day":
        return timestamp + 86400 * count
    if interval == "week":
        return timestamp + 7 * 86400 * count
    moment = datetime.datetime.fromtimestamp(timestamp, datetime.UTC)
    months = count * (12 if interval == "year" else 1)
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    # Jan 31 + 1 month is Feb 28/29, as Stripe bills it.
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return int(moment.replace(year=year, month=month, day=day).timestamp())


def list_object(data, url):
    """A Stripe list, shaped as the fixtures' nested lists (no total_count)."""
    return {"object": "list", "data": data, "has_more": False, "url": url}


def customer(
    *, now, email=None, name=None, description=None, phone=None, metadata=None, test_clock=None
):
    obj = fixture("customer")
    obj.update(
        id=new_id("cus_"),
        created=now,
        email=email,
        name=name,
        description=description,
        phone=phone,
        metadata=metadata or {},
        address=None,
        currency=None,  # set by the first subscription, as in Stripe
        discount=None,
        shipping=None,
        invoice_prefix=secrets.token_hex(4).upper(),
        test_clock=test_clock,
        livemode=False,
    )
    obj["invoice_settings"].update(rendering_options=None)
    return obj


def product(*, now, name, description=None, active=True, metadata=None):
    obj = fixture("product")
    obj.update(
        id=new_id("prod_"),
        created=now,
        updated=now,
        name=name,
        description=description,
        active=active,
        metadata=metadata or {},
        default_price=None,
        package_dimensions=None,
        type="service",
        livemode=False,
    )
    return obj


def price(
    *,
    now,
    product_id,
    unit_amount,
    currency,
    recurring=None,
    lookup_key=None,
    nickname=None,
    active=True,
    metadata=None,
):
    """``recurring`` is None for a one-time price, else {"interval", "interval_count"}."""
    obj = fixture("price")
    obj.update(
        id=new_id("price_"),
        created=now,
        product=product_id,
        unit_amount=unit_amount,
        unit_amount_decimal=str(unit_amount),
        currency=currency,
        lookup_key=lookup_key,
        nickname=nickname,
        active=active,
        metadata=metadata or {},
        custom_unit_amount=None,
        transform_quantity=None,
        type="recurring" if recurring else "one_time",
        livemode=False,
    )
    if recurring:
        obj["recurring"].update(
            interval=recurring["interval"],
            interval_count=recurring.get("interval_count", 1),
            trial_period_days=None,
        )
    else:
        obj["recurring"] = None
    return obj


def plan_from_price(price_obj):
    """The legacy ``plan`` view of a recurring price, as subscription items carry it."""
    obj = fixture("plan")
    recurring = price_obj["recurring"] or {}
    obj.update(
        id=price_obj["id"],
        active=price_obj["active"],
        amount=price_obj["unit_amount"],
        amount_decimal=price_obj["unit_amount_decimal"],
        billing_scheme=price_obj["billing_scheme"],
        created=price_obj["created"],
        currency=price_obj["currency"],
        interval=recurring.get("interval"),
        interval_count=recurring.get("interval_count"),
        livemode=False,
        metadata=price_obj["metadata"],
        nickname=price_obj["nickname"],
        product=price_obj["product"],
        transform_usage=None,
        usage_type=recurring.get("usage_type", "licensed"),
    )
    return obj


def checkout_session(*, now, base_url, params, amount, currency, customer_id):
    """A subscription-mode session; ``params`` are the decoded create parameters."""
    obj = fixture("checkout.session")
    session_id = new_id("cs_test_")
    allow_promotion_codes = params.get("allow_promotion_codes")
    obj.update(
        id=session_id,
        created=now,
        expires_at=now + 24 * 3600,
        mode="subscription",
        status="open",
        payment_status="unpaid",
        url=f"{base_url}/checkout/{session_id}",
        success_url=params.get("success_url"),
        cancel_url=params.get("cancel_url"),
        client_reference_id=params.get("client_reference_id"),
        customer=customer_id,
        customer_email=params.get("customer_email"),
        customer_creation=None if customer_id else "always",
        customer_details=None,
        metadata=params.get("metadata") or {},
        allow_promotion_codes=None
        if allow_promotion_codes is None
        else allow_promotion_codes == "true",
        amount_subtotal=amount,
        amount_total=amount,
        currency=currency,
        locale=params.get("locale"),
        ui_mode="hosted",
        after_expiration=None,
        billing_address_collection=None,
        consent=None,
        consent_collection=None,
        collected_information=None,
        currency_conversion=None,
        discounts=[],
        invoice=None,
        invoice_creation=None,
        payment_intent=None,  # subscription mode: payments belong to invoices
        payment_method_collection="always",
        payment_method_configuration_details=None,
        permissions=None,
        saved_payment_method_options=None,
        shipping_address_collection=None,
        shipping_cost=None,
        subscription=None,
        wallet_options=None,
        livemode=False,
    )
    obj["automatic_tax"].update(enabled=False, liability=None, status=None, provider=None)
    obj["custom_text"] = dict.fromkeys(obj["custom_text"])
    obj["total_details"].update(amount_discount=0, amount_shipping=0, amount_tax=0)
    obj["adaptive_pricing"]["enabled"] = False
    obj["managed_payments"]["enabled"] = False
    return obj


def customer_details(customer_obj):
    """``checkout.session.customer_details`` once the session is paid."""
    details = fixture("checkout.session")["customer_details"]
    details.update(
        email=customer_obj["email"],
        name=customer_obj["name"],
        phone=customer_obj["phone"],
        tax_exempt="none",
        tax_ids=[],
    )
    return details


def portal_session(*, now, base_url, customer_id, return_url, configuration_id):
    obj = fixture("billing_portal.session")
    session_id = new_id("bps_")
    obj.update(
        id=session_id,
        created=now,
        customer=customer_id,
        return_url=return_url,
        url=f"{base_url}/portal/{session_id}",
        configuration=configuration_id,
        flow=None,
        livemode=False,
    )
    return obj


def portal_configuration(*, now, is_default=False):
    """A configuration with every feature off, as the API makes one before its parameters apply.

    ``features.subscription_update.products`` is kept in the stored object but is an includable
    field: ``Store.response`` leaves it out unless the request expands it, as Stripe does (the
    published example has no such key).
    """
    obj = fixture("billing_portal.configuration")
    obj.update(
        id=new_id("bpc_"),
        created=now,
        updated=now,
        active=True,
        application=None,
        default_return_url=None,
        is_default=is_default,
        livemode=False,
        metadata={},
        name=None,
    )
    obj["business_profile"] = dict.fromkeys(obj["business_profile"])
    obj["login_page"] = {"enabled": False, "url": None}
    features = obj["features"]
    features["customer_update"].update(allowed_updates=[], enabled=False)
    features["invoice_history"]["enabled"] = False
    features["payment_method_update"].update(enabled=False, payment_method_configuration=None)
    features["subscription_cancel"].update(
        cancellation_reason={"enabled": False, "options": []},
        enabled=False,
        mode="at_period_end",
        proration_behavior="none",
    )
    features["subscription_update"].update(
        default_allowed_updates=[],
        enabled=False,
        proration_behavior="none",
        schedule_at_period_end={"conditions": []},
        trial_update_behavior="end_trial",
        billing_cycle_anchor=None,
        products=None,
    )
    return obj


def webhook_endpoint(*, now, url, enabled_events, api_version=None, description=None):
    obj = fixture("webhook_endpoint")
    obj.update(
        id=new_id("we_"),
        created=now,
        url=url,
        enabled_events=list(enabled_events),
        api_version=api_version,
        description=description,
        application=None,
        metadata={},
        status="enabled",
        livemode=False,
    )
    return obj


def clock(*, now, frozen_time, name=None):
    """A test clock, ``ready`` at ``frozen_time``; Stripe deletes one 30 days after creation."""
    obj = fixture("test_helpers.test_clock")
    obj.update(
        id=new_id("clock_"),
        created=now,
        deletes_after=now + 30 * 86400,
        frozen_time=frozen_time,
        name=name,
        status="ready",
        livemode=False,
    )
    return obj


def webhook_secret():
    """A signing secret, as Stripe makes one for a new endpoint (and shows it only then)."""
    return "whsec_" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(32))


def subscription_item(*, now, subscription_id, price_obj, quantity, period_start, period_end):
    item = fixture("subscription_item")
    item.update(
        id=new_id("si_"),
        created=now,
        subscription=subscription_id,
        price=copy.deepcopy(price_obj),
        plan=plan_from_price(price_obj),
        quantity=quantity,
        current_period_start=period_start,
        current_period_end=period_end,
        billing_thresholds=None,
        metadata={},
    )
    return item


def subscription(
    *,
    now,
    customer_id,
    price_obj,
    quantity,
    trial_days=None,
    metadata=None,
    trial_end=None,
    test_clock=None,
):
    """A new subscription, ``active``, or ``trialing`` until ``trial_end`` (a timestamp) or for
    ``trial_days``."""
    obj = fixture("subscription")
    sub_id = new_id("sub_")
    interval = price_obj["recurring"]["interval"]
    interval_count = price_obj["recurring"]["interval_count"]
    if trial_days or trial_end:
        trial_end = trial_end or now + trial_days * 86400
        period_end, status = trial_end, "trialing"
    else:
        trial_end = None
        period_end, status = add_interval(now, interval, interval_count), "active"
    item = subscription_item(
        now=now,
        subscription_id=sub_id,
        price_obj=price_obj,
        quantity=quantity,
        period_start=now,
        period_end=period_end,
    )
    obj.update(
        id=sub_id,
        created=now,
        start_date=now,
        billing_cycle_anchor=period_end if trial_end else now,
        customer=customer_id,
        currency=price_obj["currency"],
        status=status,
        trial_start=now if trial_end else None,
        trial_end=trial_end,
        metadata=metadata or {},
        items=list_object([item], f"/v1/subscription_items?subscription={sub_id}"),
        cancel_at=None,
        cancel_at_period_end=False,
        canceled_at=None,
        ended_at=None,
        latest_invoice=None,
        billing_cycle_anchor_config=None,
        billing_thresholds=None,
        billing_schedules=[],
        next_pending_invoice_item_invoice=None,
        pause_collection=None,
        pending_invoice_item_interval=None,
        pending_update=None,
        transfer_data=None,
        test_clock=test_clock,
        livemode=False,
    )
    obj["automatic_tax"].update(enabled=False, liability=None, disabled_reason=None)
    obj["billing_mode"] = {"type": "classic", "flexible": None}
    obj["managed_payments"]["enabled"] = False
    obj["payment_settings"].update(
        payment_method_options=None,
        payment_method_types=None,
        save_default_payment_method="off",
    )
    return obj


def invoice(*, now, subscription_obj, customer_obj, product_name, amount, billing_reason, number):
    """A finalized invoice for the subscription's current period, still ``open``.

    The caller marks it paid (``mark_invoice_paid``) or failed.
    """
    obj = fixture("invoice")
    invoice_id = new_id("in_")
    item = subscription_obj["items"]["data"][0]
    period = {"start": item["current_period_start"], "end": item["current_period_end"]}
    currency = subscription_obj["currency"]

    line = copy.deepcopy(obj["lines"]["data"][0])
    line.update(
        id=new_id("il_"),
        invoice=invoice_id,
        amount=amount,
        subtotal=amount,
        currency=currency,
        description=_line_description(item, amount, product_name),
        discountable=True,
        metadata={},
        period=period,
        quantity=item["quantity"],
        quantity_decimal=str(item["quantity"]),
        subscription=subscription_obj["id"],
        pretax_credit_amounts=[],
        taxes=[],
        livemode=False,
    )
    line["parent"] = {
        "invoice_item_details": None,
        "subscription_item_details": {
            "invoice_item": None,
            "proration": False,
            "proration_details": {"credited_items": None},
            "subscription": subscription_obj["id"],
            "subscription_item": item["id"],
        },
        "type": "subscription_item_details",
    }
    line["pricing"].update(
        type="price_details", unit_amount_decimal=item["price"]["unit_amount_decimal"]
    )

    obj.update(
        id=invoice_id,
        created=now,
        effective_at=now,
        customer=customer_obj["id"],
        customer_email=customer_obj["email"],
        customer_name=customer_obj["name"],
        customer_address=None,
        customer_shipping=None,
        currency=currency,
        account_name="Masthead (Stripe stand-in)",
        amount_due=amount,
        amount_paid=0,
        amount_remaining=amount,
        amount_overpaid=0,
        subtotal=amount,
        subtotal_excluding_tax=amount,
        total=amount,
        total_excluding_tax=amount,
        total_pretax_credit_amounts=[],
        total_taxes=[],
        ending_balance=0,
        starting_balance=0,
        billing_reason=billing_reason,
        number=number,
        status="open",
        attempt_count=0,
        attempted=False,
        auto_advance=True,
        due_date=None,
        next_payment_attempt=None,
        period_start=period["start"],
        period_end=period["end"],
        lines=list_object([line], f"/v1/invoices/{invoice_id}/lines"),
        metadata={},
        from_invoice=None,
        last_finalization_error=None,
        rendering=None,
        shipping_cost=None,
        shipping_details=None,
        webhooks_delivered_at=None,
        test_clock=subscription_obj["test_clock"],
        livemode=False,
    )
    # Removed in API version 2025-03-31.basil (the pinned SDK's Invoice has no such field): the
    # subscription is parent.subscription_details.subscription. Stripe's example still shows it.
    del obj["subscription"]
    obj["automatic_tax"].update(
        enabled=False, liability=None, status=None, disabled_reason=None, provider=None
    )
    obj["payment_settings"].update(payment_method_options=None, payment_method_types=None)
    obj["status_transitions"].update(finalized_at=now, paid_at=None)
    obj["parent"] = {
        "quote_details": None,
        "subscription_details": {
            "metadata": copy.deepcopy(subscription_obj["metadata"]),
            "subscription": subscription_obj["id"],
        },
        "type": "subscription_details",
    }
    return obj


def _line_description(item, amount, product_name):
    if amount == 0 and item["price"]["unit_amount"]:
        return f"Trial period for {product_name}"
    return f"{item['quantity']} × {product_name}"  # noqa: RUF001 (Stripe's own sign)


def event(
    *,
    now,
    type,
    data_object,
    previous_attributes=None,
    request_id=None,
    idempotency_key=None,
    pending_webhooks=0,
):
    obj = fixture("event")
    data = {"object": copy.deepcopy(data_object)}
    if previous_attributes is not None:
        data["previous_attributes"] = previous_attributes
    obj.update(
        id=new_id("evt_"),
        api_version=API_VERSION,
        created=now,
        data=data,
        livemode=False,
        pending_webhooks=pending_webhooks,
        request={"id": request_id, "idempotency_key": idempotency_key},
        type=type,
    )
    return obj


def previous_attributes(before, after):
    """Stripe's ``data.previous_attributes``: old values of the top-level fields that changed."""
    return {key: before[key] for key in after if before.get(key) != after[key]}


# ---- coupons, promotion codes, discounts and tax ------------------------------

# The rate the stand-in charges when automatic tax is on: UK VAT's standard rate. It has no
# addresses or tax registrations to decide by, so every invoice gets the same, exclusive of price.
TAX_PERCENT = 20
# The id of the one tax rate that rate stands for, as Stripe Tax names the rates it applies.
TAX_RATE_ID = "txr_standin_vat_standard"


def coupon(
    *,
    now,
    coupon_id,
    name,
    percent_off,
    amount_off,
    currency,
    duration,
    duration_in_months,
    max_redemptions,
    redeem_by,
    metadata,
):
    obj = fixture("coupon")
    obj.update(
        id=coupon_id or new_id("")[:8].upper(),
        created=now,
        name=name,
        percent_off=percent_off,
        amount_off=amount_off,
        currency=currency,
        duration=duration,
        duration_in_months=duration_in_months,
        max_redemptions=max_redemptions,
        redeem_by=redeem_by,
        metadata=metadata,
        times_redeemed=0,
        valid=True,
        livemode=False,
    )
    return obj


def promotion_code_text():
    """A customer-facing code, as Stripe makes one when none is given."""
    return "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(8))


def promotion_code(
    *, now, code, coupon_id, active, customer_id, expires_at, max_redemptions, metadata
):
    obj = fixture("promotion_code")
    obj.update(
        id=new_id("promo_"),
        created=now,
        code=code,
        active=active,
        customer=customer_id,
        customer_account=None,
        expires_at=expires_at,
        max_redemptions=max_redemptions,
        metadata=metadata,
        times_redeemed=0,
        livemode=False,
    )
    obj["promotion"] = {"coupon": coupon_id, "type": "coupon"}
    obj["restrictions"].update(
        first_time_transaction=False, minimum_amount=None, minimum_amount_currency=None
    )
    return obj


def discount(*, now, coupon, promotion_code_id, customer_id, subscription_id, checkout_session_id):
    """A promotion code's coupon applied to a subscription (``end`` only for `repeating`)."""
    obj = fixture("discount")
    months = coupon["duration_in_months"] if coupon["duration"] == "repeating" else None
    obj.update(
        id=new_id("di_"),
        start=now,
        end=add_interval(now, "month", months) if months else None,
        customer=customer_id,
        customer_account=None,
        subscription=subscription_id,
        subscription_item=None,
        checkout_session=checkout_session_id,
        invoice=None,
        invoice_item=None,
        promotion_code=promotion_code_id,
    )
    obj["source"] = {"coupon": coupon["id"], "type": "coupon"}
    return obj


def coupon_off(coupon_obj, amount):
    """What a coupon takes off ``amount`` (minor units): its percentage, or its amount at most."""
    if coupon_obj["percent_off"] is not None:
        return round(amount * coupon_obj["percent_off"] / 100)
    return min(coupon_obj["amount_off"], amount)


def tax_on(amount):
    return round(amount * TAX_PERCENT / 100)


def invoice_amounts(invoice, *, discount_amounts, taxed, starting_balance=0):
    """Set an invoice's totals from its lines, its discounts and its tax (``taxed``: automatic
    tax on), once all its lines are there.

    As Stripe's invoice has them: ``subtotal`` the lines' sum (a proration credit is a negative
    line), ``total_discount_amounts`` and the price line's ``discount_amounts``,
    ``total_excluding_tax`` after discounts, each line's ``taxes`` on what it comes to after them
    (a credit line's tax is negative) and ``total_taxes`` their sum, ``total`` all of that. The
    customer's balance (``starting_balance``, negative for a credit) is applied: ``amount_due``
    is never below 0, and what is left of a credit, or a negative total, is ``ending_balance``.
    """
    lines = invoice["lines"]["data"]
    subtotal = sum(line["amount"] for line in lines)
    discount = sum(d["amount"] for d in discount_amounts)
    discounted = subtotal - discount
    ids = [d["discount"] for d in discount_amounts]
    invoice.update(
        subtotal=subtotal,
        discounts=ids,
        total_discount_amounts=copy.deepcopy(discount_amounts),
        subtotal_excluding_tax=subtotal,
        total_excluding_tax=discounted,
    )
    for index, line in enumerate(lines):
        on_line = discount_amounts if index == 0 else []
        line.update(
            discounts=[d["discount"] for d in on_line], discount_amounts=copy.deepcopy(on_line)
        )
        line["taxes"] = []
        if taxed:
            taxable = line["amount"] - sum(d["amount"] for d in on_line)
            line["taxes"] = [_tax(tax_on(taxable), taxable)]
    taxes = []
    if taxed:
        tax = sum(line["taxes"][0]["amount"] for line in lines)
        taxes = [_tax(tax, discounted)]
        invoice["automatic_tax"].update(
            enabled=True, status="complete", provider="stripe", liability={"type": "self"}
        )
    invoice["total_taxes"] = taxes
    total = discounted + sum(t["amount"] for t in taxes)
    after_balance = total + starting_balance
    invoice.update(
        total=total,
        amount_due=max(0, after_balance),
        amount_remaining=max(0, after_balance),
        starting_balance=starting_balance,
        ending_balance=min(0, after_balance),
    )


def _tax(amount, taxable_amount):
    return {
        "amount": amount,
        "tax_behavior": "exclusive",
        "tax_rate_details": {"tax_rate": TAX_RATE_ID},
        "taxability_reason": "standard_rated",
        "taxable_amount": taxable_amount,
        "type": "tax_rate_details",
    }


# ---- payments -------------------------------------------------------------------


def payment_intent(*, now, amount, currency, customer_id, description):
    """The PaymentIntent an invoice makes to collect itself; ``payment_intent_status`` moves it."""
    obj = fixture("payment_intent")
    intent_id = new_id("pi_")
    obj.update(
        id=intent_id,
        created=now,
        amount=amount,
        amount_capturable=0,
        amount_received=0,
        currency=currency,
        customer=customer_id,
        customer_account=None,
        description=description,
        client_secret=f"{intent_id}_secret_{new_id('')}",
        canceled_at=None,
        last_payment_error=None,
        next_action=None,
        payment_method_configuration_details=None,
        processing=None,
        shipping=None,
        transfer_data=None,
        setup_future_usage="off_session",
        livemode=False,
    )
    obj["amount_details"] = {"tip": {}}
    obj["automatic_payment_methods"] = None
    obj["managed_payments"]["enabled"] = False
    return obj


def payment_intent_status(intent, status, *, now):
    """After an attempt: ``succeeded``, ``requires_payment_method`` (declined, or the bank's
    check failed) or ``requires_action`` (the cardholder must authenticate: 3-D Secure); or
    ``canceled`` with its invoice, voided."""
    intent["status"] = status
    if status == "canceled":
        intent.update(canceled_at=now, cancellation_reason="void_invoice")
    intent["next_action"] = {"type": "use_stripe_sdk"} if status == "requires_action" else None
    intent["last_payment_error"] = (
        {"type": "card_error"} if status == "requires_payment_method" else None
    )
    if status == "succeeded":
        intent["amount_received"] = intent["amount"]


def invoice_payment(*, now, invoice, intent):
    obj = fixture("invoice_payment")
    obj.update(
        id=new_id("inpay_"),
        created=now,
        invoice=invoice["id"],
        amount_requested=invoice["amount_due"],
        amount_paid=None,
        currency=invoice["currency"],
        is_default=True,
        livemode=False,
        status="open",
    )
    obj["payment"] = {"type": "payment_intent", "payment_intent": intent["id"]}
    obj["status_transitions"] = {"canceled_at": None, "paid_at": None}
    return obj
