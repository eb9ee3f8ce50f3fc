"""3-D Secure, promotion codes and tax: the paths real Stripe takes, through the stand-in.

The 3-D Secure cards are Stripe's (docs.stripe.com/testing, regulatory cards): 4000 0025 0000 3155
asks for authentication on-session until it is set up, 4000 0027 6000 3184 on every payment, so
its renewals wait for the member (invoice.payment_action_required, the hosted invoice page).
"""

import json

import pytest
import stripe

from .conftest import control, http
from .test_flows import SUCCESS_URL, create_session, wait_for_deliveries
from .test_shapes import FIXTURES, assert_event_shape, assert_same_shape, assert_stripe_shape

pytestmark = pytest.mark.standin

AUTHENTICATE_UNLESS_SET_UP = "4000 0025 0000 3155"
ALWAYS_AUTHENTICATE = "4000 0027 6000 3184"
AUTHENTICATION_FAILED = (
    "We are unable to authenticate your payment method. Please choose a different payment "
    "method and try again."
)


def event_types(webhook_receiver, standin):
    wait_for_deliveries(standin)
    return [e.type for e in webhook_receiver.accepted_events()]


def delivered(webhook_receiver):
    """The events as they came over the wire (JSON, not the SDK's objects)."""
    return [json.loads(d["body"]) for d in webhook_receiver.received if not d["failed"]]


def advance(standin, subscription_id, action):
    status, body = control(
        standin, f"/_standin/subscriptions/{subscription_id}/advance", {"action": action}
    )
    assert status == 200, body
    return body


# ---- 3-D Secure at checkout ------------------------------------------------------


def test_a_3ds_card_at_checkout_leads_to_the_banks_challenge_not_to_the_site(
    stripe_client, monthly_price
):
    session = create_session(stripe_client, monthly_price)

    status, headers, _ = http(session.url, {"card_number": AUTHENTICATE_UNLESS_SET_UP})

    assert status == 303
    assert headers["Location"].endswith(f"/checkout/{session.id}/authenticate")
    status, _, html = http(headers["Location"])
    assert status == 200
    assert "<h1>Confirm your payment</h1>" in html and "$5.00" in html and "3155" in html
    assert 'value="complete">Complete authentication</button>' in html
    assert 'value="fail">Fail authentication</button>' in html
    assert stripe_client.v1.checkout.sessions.retrieve(session.id).status == "open"


def test_while_the_challenge_waits_the_subscription_is_incomplete_with_an_open_invoice(
    stripe_client, monthly_price
):
    session = create_session(stripe_client, monthly_price)
    http(session.url, {"card_number": AUTHENTICATE_UNLESS_SET_UP})

    (listed,) = stripe_client.v1.subscriptions.list(params={"status": "incomplete"}).data
    subscription = stripe_client.v1.subscriptions.retrieve(listed.id)
    assert_stripe_shape(subscription)
    invoice = stripe_client.v1.invoices.retrieve(subscription.latest_invoice)
    assert (invoice.status, invoice.amount_due, invoice.billing_reason) == (
        "open",
        500,
        "subscription_create",
    )
    assert invoice.hosted_invoice_url.endswith(f"/i/{invoice.id}")


def test_completing_the_challenge_pays_and_returns_to_the_site(
    stripe_client, standin, monthly_price, webhook_receiver
):
    session = create_session(stripe_client, monthly_price, client_reference_id="42")
    http(session.url, {"card_number": AUTHENTICATE_UNLESS_SET_UP})

    status, headers, _ = http(
        f"{standin}/checkout/{session.id}/authenticate", {"authentication": "complete"}
    )

    assert status == 303 and headers["Location"] == SUCCESS_URL % session.id
    session = stripe_client.v1.checkout.sessions.retrieve(
        session.id, params={"expand": ["subscription.latest_invoice"]}
    )
    assert (session.status, session.payment_status) == ("complete", "paid")
    assert session.subscription.status == "active"
    assert session.subscription.latest_invoice.status == "paid"
    assert event_types(webhook_receiver, standin)[-7:] == [
        "customer.subscription.created",  # incomplete, while the bank asked
        "invoice.created",
        "invoice.finalized",
        "invoice.paid",
        "invoice.payment_succeeded",
        "customer.subscription.updated",  # active
        "checkout.session.completed",
    ]
    for event in delivered(webhook_receiver):
        assert_event_shape(event)


def test_failing_the_challenge_returns_to_checkout_with_stripes_message(
    stripe_client, standin, monthly_price, webhook_receiver
):
    session = create_session(stripe_client, monthly_price)
    http(session.url, {"card_number": AUTHENTICATE_UNLESS_SET_UP})

    status, _, html = http(
        f"{standin}/checkout/{session.id}/authenticate", {"authentication": "fail"}
    )

    assert status == 402
    assert AUTHENTICATION_FAILED in html and 'name="card_number"' in html
    assert stripe_client.v1.checkout.sessions.retrieve(session.id).status == "open"
    assert "invoice.payment_failed" in event_types(webhook_receiver, standin)

    # Another card pays the same incomplete subscription: never a second one.
    status, headers, _ = http(session.url, {"card_number": "4242424242424242"})
    assert status == 303 and headers["Location"] == SUCCESS_URL % session.id
    subscriptions = stripe_client.v1.subscriptions.list(params={"status": "all"}).data
    assert [s.status for s in subscriptions] == ["active"]


def test_a_challenge_left_unanswered_completes_the_session_with_an_incomplete_subscription(
    stripe_client, standin, monthly_price
):
    session = create_session(stripe_client, monthly_price)

    status, result = control(
        standin,
        f"/_standin/checkout/{session.id}/pay",
        {"card": AUTHENTICATE_UNLESS_SET_UP, "authentication": "unanswered"},
    )

    assert status == 200 and result["redirect"] == SUCCESS_URL % session.id
    session = stripe_client.v1.checkout.sessions.retrieve(
        session.id, params={"expand": ["subscription.latest_invoice"]}
    )
    assert (session.status, session.payment_status) == ("complete", "unpaid")
    assert session.subscription.status == "incomplete"
    invoice = session.subscription.latest_invoice
    assert invoice.status == "open" and invoice.hosted_invoice_url


def test_the_hosted_invoice_page_finishes_an_incomplete_subscription(
    stripe_client, standin, monthly_price
):
    session = create_session(stripe_client, monthly_price)
    _, result = control(
        standin,
        f"/_standin/checkout/{session.id}/pay",
        {"card": AUTHENTICATE_UNLESS_SET_UP, "authentication": "unanswered"},
    )
    subscription = stripe_client.v1.subscriptions.retrieve(result["subscription"])
    invoice = stripe_client.v1.invoices.retrieve(subscription.latest_invoice)

    status, _, html = http(invoice.hosted_invoice_url)
    assert status == 200 and "Amount due: $5.00" in html
    status, _, _ = http(invoice.hosted_invoice_url, {"authentication": "complete"})
    assert status == 303

    _, _, html = http(invoice.hosted_invoice_url)
    assert "Paid: $5.00" in html
    assert stripe_client.v1.subscriptions.retrieve(subscription.id).status == "active"


# ---- 3-D Secure on renewal --------------------------------------------------------


def test_a_card_set_up_by_an_authenticated_payment_renews_without_the_member(
    stripe_client, standin, subscribe
):
    session, paid = subscribe(card=AUTHENTICATE_UNLESS_SET_UP)
    assert paid["requires_action"] is True
    _, done = control(
        standin,
        f"/_standin/checkout/{session.id}/pay",
        {"card": AUTHENTICATE_UNLESS_SET_UP, "authentication": "complete"},
    )

    renewed = advance(standin, done["subscription"], "renew")

    assert renewed["status"] == "active"
    invoice = stripe_client.v1.invoices.retrieve(renewed["latest_invoice"])
    assert invoice.status == "paid"


def test_a_renewal_with_the_always_authenticate_card_waits_for_the_member(
    stripe_client, standin, subscribe, webhook_receiver
):
    session, _ = subscribe(card=ALWAYS_AUTHENTICATE)
    _, done = control(
        standin,
        f"/_standin/checkout/{session.id}/pay",
        {"card": ALWAYS_AUTHENTICATE, "authentication": "complete"},
    )
    wait_for_deliveries(standin)
    webhook_receiver.clear()

    renewed = advance(standin, done["subscription"], "renew")

    assert renewed["status"] == "past_due"
    invoice = stripe_client.v1.invoices.retrieve(renewed["latest_invoice"])
    assert (invoice.status, invoice.billing_reason) == ("open", "subscription_cycle")
    assert invoice.next_payment_attempt is None  # Stripe does not retry an authentication
    assert invoice.hosted_invoice_url.endswith(f"/i/{invoice.id}")
    assert event_types(webhook_receiver, standin) == [
        "customer.subscription.updated",  # the new period
        "invoice.created",
        "invoice.finalized",
        "invoice.payment_failed",
        "invoice.payment_action_required",
        "customer.subscription.updated",  # past_due
    ]
    for event in delivered(webhook_receiver):
        assert_event_shape(event)


def test_confirming_on_the_hosted_invoice_page_pays_it_and_reactivates(
    stripe_client, standin, subscribe, webhook_receiver
):
    session, _ = subscribe(card=ALWAYS_AUTHENTICATE)
    _, done = control(
        standin,
        f"/_standin/checkout/{session.id}/pay",
        {"card": ALWAYS_AUTHENTICATE, "authentication": "complete"},
    )
    renewed = advance(standin, done["subscription"], "renew")
    invoice = stripe_client.v1.invoices.retrieve(renewed["latest_invoice"])
    status, _, html = http(invoice.hosted_invoice_url)
    assert status == 200 and "Your bank asks you to confirm this payment" in html
    assert "3184" in html

    status, _, html = http(invoice.hosted_invoice_url, {"authentication": "fail"})
    assert status == 402 and AUTHENTICATION_FAILED in html
    assert stripe_client.v1.invoices.retrieve(invoice.id).status == "open"

    wait_for_deliveries(standin)
    webhook_receiver.clear()
    status, _, _ = http(invoice.hosted_invoice_url, {"authentication": "complete"})
    assert status == 303
    assert stripe_client.v1.invoices.retrieve(invoice.id).status == "paid"
    assert stripe_client.v1.subscriptions.retrieve(done["subscription"]).status == "active"
    assert event_types(webhook_receiver, standin) == [
        "invoice.paid",
        "invoice.payment_succeeded",
        "customer.subscription.updated",
    ]


# ---- promotion codes --------------------------------------------------------------


@pytest.fixture
def promotion_code(stripe_client):
    def make(code="HALF", **coupon):
        coupon = stripe_client.v1.coupons.create(
            params=coupon or {"percent_off": 50, "duration": "forever"}
        )
        return stripe_client.v1.promotion_codes.create(
            params={"promotion": {"type": "coupon", "coupon": coupon.id}, "code": code}
        )

    return make


def test_coupons_and_promotion_codes_have_stripes_shapes(stripe_client, promotion_code):
    created = promotion_code("SPRING", percent_off=25, duration="repeating", duration_in_months=3)
    promo = assert_stripe_shape(created)
    assert promo["id"].startswith("promo_") and promo["code"] == "SPRING"
    coupon = assert_stripe_shape(stripe_client.v1.coupons.retrieve(promo["promotion"]["coupon"]))
    assert (coupon["percent_off"], coupon["duration_in_months"]) == (25, 3)
    listed = stripe_client.v1.promotion_codes.list(params={"code": "spring"}).data
    assert [p.id for p in listed] == [promo["id"]]
    assert_stripe_shape(stripe_client.v1.promotion_codes.retrieve(promo["id"]))


def test_the_checkout_page_takes_a_promotion_code_when_the_session_allows_it(
    stripe_client, monthly_price, promotion_code
):
    promotion_code("HALF")
    session = create_session(stripe_client, monthly_price, allow_promotion_codes=True)
    _, _, html = http(session.url)
    assert '<label for="promotion_code">Promotion code</label>' in html

    status, _, html = http(session.url, {"promotion_code": "half", "action": "apply_code"})
    assert status == 200
    assert "Promotion code HALF applied: $2.50 off." in html
    assert '<strong id="total">$2.50</strong>' in html

    status, _, html = http(session.url, {"promotion_code": "NOPE", "action": "apply_code"})
    assert status == 400 and "This code is invalid." in html

    without = create_session(stripe_client, monthly_price)
    assert 'name="promotion_code"' not in http(without.url)[2]


def test_a_discount_shows_on_the_subscription_and_in_every_invoice_amount(
    stripe_client, standin, monthly_price, promotion_code
):
    code = promotion_code("HALF")
    session = create_session(stripe_client, monthly_price, allow_promotion_codes=True)

    status, _ = control(
        standin,
        f"/_standin/checkout/{session.id}/pay",
        {"card": "4242424242424242", "promotion_code": "HALF"},
    )

    assert status == 200
    session = stripe_client.v1.checkout.sessions.retrieve(
        session.id, params={"expand": ["subscription.latest_invoice"]}
    )
    assert (session.amount_subtotal, session.amount_total) == (500, 250)
    assert session.total_details.amount_discount == 250
    subscription = session.subscription
    (discount_id,) = subscription.discounts
    invoice = assert_stripe_shape(
        stripe_client.v1.invoices.retrieve(subscription.latest_invoice.id)
    )
    assert (invoice["subtotal"], invoice["total"], invoice["amount_due"]) == (500, 250, 250)
    assert invoice["amount_paid"] == 250
    assert invoice["discounts"] == [discount_id]
    assert invoice["total_discount_amounts"] == [{"amount": 250, "discount": discount_id}]
    assert invoice["lines"]["data"][0]["discount_amounts"] == [
        {"amount": 250, "discount": discount_id}
    ]
    assert stripe_client.v1.promotion_codes.retrieve(code.id).times_redeemed == 1

    renewed = advance(standin, subscription.id, "renew")  # forever: the renewal too
    assert stripe_client.v1.invoices.retrieve(renewed["latest_invoice"]).amount_due == 250


def test_a_100_percent_off_code_makes_zero_invoices(
    stripe_client, standin, monthly_price, promotion_code
):
    promotion_code("FREE", percent_off=100, duration="once")
    session = create_session(stripe_client, monthly_price, allow_promotion_codes=True)

    control(
        standin,
        f"/_standin/checkout/{session.id}/pay",
        {"card": "4242424242424242", "promotion_code": "FREE"},
    )

    session = stripe_client.v1.checkout.sessions.retrieve(
        session.id, params={"expand": ["subscription.latest_invoice"]}
    )
    assert (session.payment_status, session.amount_total) == ("no_payment_required", 0)
    invoice = session.subscription.latest_invoice
    assert (invoice.status, invoice.total, invoice.amount_due) == ("paid", 0, 0)
    renewed = advance(standin, session.subscription.id, "renew")  # once: the next one is full
    assert stripe_client.v1.invoices.retrieve(renewed["latest_invoice"]).amount_due == 500


# ---- automatic tax ------------------------------------------------------------------


def test_automatic_tax_puts_a_tax_amount_on_the_session_and_invoices(
    stripe_client, standin, monthly_price
):
    session = create_session(stripe_client, monthly_price, automatic_tax={"enabled": True})
    assert (session.automatic_tax.enabled, session.total_details.amount_tax) == (True, 100)
    assert session.amount_total == 600

    control(standin, f"/_standin/checkout/{session.id}/pay", {"card": "4242424242424242"})

    subscription = stripe_client.v1.subscriptions.retrieve(
        stripe_client.v1.checkout.sessions.retrieve(session.id).subscription
    )
    assert subscription.automatic_tax.enabled is True
    invoice = assert_stripe_shape(stripe_client.v1.invoices.retrieve(subscription.latest_invoice))
    assert (invoice["subtotal"], invoice["total_excluding_tax"], invoice["total"]) == (
        500,
        500,
        600,
    )
    (tax,) = invoice["total_taxes"]
    assert (tax["amount"], tax["taxable_amount"], tax["tax_behavior"]) == (100, 500, "exclusive")
    assert invoice["automatic_tax"]["enabled"] is True


# ---- the next invoice, previewed ---------------------------------------------------


def test_an_invoice_preview_is_the_next_invoice_with_its_discount_and_is_not_stored(
    stripe_client, standin, monthly_price, promotion_code
):
    promotion_code("FIRSTFREE", percent_off=100, duration="once")
    session = create_session(stripe_client, monthly_price, allow_promotion_codes=True)
    _, paid = control(
        standin,
        f"/_standin/checkout/{session.id}/pay",
        {"card": "4242424242424242", "promotion_code": "FIRSTFREE"},
    )
    subscription = stripe_client.v1.subscriptions.retrieve(paid["subscription"])

    preview = stripe_client.v1.invoices.create_preview(
        params={"subscription": subscription.id}
    ).last_response.data

    assert_stripe_shape(preview)
    assert preview["id"].startswith("upcoming_") and preview["status"] == "draft"
    assert (preview["total"], preview["discounts"]) == (500, [])  # `once` was the first invoice
    assert preview["period_start"] == subscription["items"]["data"][0]["current_period_end"]
    assert [i.id for i in stripe_client.v1.invoices.list().data] == [subscription.latest_invoice]


def test_a_trial_preview_keeps_a_once_discount_for_the_first_charge(
    stripe_client, standin, monthly_price, promotion_code
):
    promotion_code("HALFOFF", percent_off=50, duration="once")
    session = create_session(
        stripe_client,
        monthly_price,
        allow_promotion_codes=True,
        subscription_data={"trial_period_days": 7},
    )
    _, paid = control(
        standin,
        f"/_standin/checkout/{session.id}/pay",
        {"card": "4242424242424242", "promotion_code": "HALFOFF"},
    )
    preview = stripe_client.v1.invoices.create_preview(
        params={"subscription": paid["subscription"]}
    )
    assert preview.total == 250
    ended = advance(standin, paid["subscription"], "end_trial")
    assert stripe_client.v1.invoices.retrieve(ended["latest_invoice"]).amount_due == 250


def test_a_subscription_ending_at_period_end_has_no_upcoming_invoice(stripe_client, subscribe):
    _, paid = subscribe()
    stripe_client.v1.subscriptions.update(
        paid["subscription"], params={"cancel_at_period_end": True}
    )
    with pytest.raises(stripe.InvalidRequestError) as raised:
        stripe_client.v1.invoices.create_preview(params={"subscription": paid["subscription"]})
    assert raised.value.code == "invoice_upcoming_none"


# ---- an invoice's payments and their PaymentIntent ----------------------------------


def expanded_payments(stripe_client, invoice_id):
    invoice = stripe_client.v1.invoices.retrieve(
        invoice_id, params={"expand": ["payments.data.payment.payment_intent"]}
    ).last_response.data
    return invoice["payments"]["data"]


def test_an_invoice_lists_its_payments_only_when_expanded(stripe_client, subscribe):
    _, paid = subscribe()
    subscription = stripe_client.v1.subscriptions.retrieve(paid["subscription"])
    plain = stripe_client.v1.invoices.retrieve(subscription.latest_invoice).last_response.data
    assert "payments" not in plain  # includable: not in Stripe's example either

    (payment,) = expanded_payments(stripe_client, subscription.latest_invoice)
    # Stripe's example leaves out the payment's id field; the rest is its shape.
    intent = payment["payment"].pop("payment_intent")
    assert_same_shape(payment, FIXTURES["invoice_payment"], "invoice_payment")
    assert (payment["status"], payment["amount_paid"]) == ("paid", 500)
    assert_same_shape(intent, FIXTURES["payment_intent"], "payment_intent")
    assert (intent["status"], intent["amount_received"]) == ("succeeded", 500)
    retrieved = stripe_client.v1.payment_intents.retrieve(intent["id"])
    assert assert_stripe_shape(retrieved)["status"] == "succeeded"


def test_a_renewal_waiting_for_the_member_has_a_payment_intent_requiring_action(
    stripe_client, standin, subscribe
):
    session, _ = subscribe(card=ALWAYS_AUTHENTICATE)
    _, done = control(
        standin,
        f"/_standin/checkout/{session.id}/pay",
        {"card": ALWAYS_AUTHENTICATE, "authentication": "complete"},
    )
    renewed = advance(standin, done["subscription"], "renew")

    (payment,) = expanded_payments(stripe_client, renewed["latest_invoice"])
    intent = payment["payment"]["payment_intent"]
    assert (intent["status"], intent["next_action"]) == (
        "requires_action",
        {"type": "use_stripe_sdk"},
    )

    control(
        standin,
        f"/_standin/invoices/{renewed['latest_invoice']}/pay",
        {"authentication": "complete"},
    )
    (payment,) = expanded_payments(stripe_client, renewed["latest_invoice"])
    assert payment["status"] == "paid"
    assert payment["payment"]["payment_intent"]["status"] == "succeeded"


def test_a_declined_renewal_has_a_payment_intent_requiring_a_new_card(
    stripe_client, standin, subscribe
):
    _, paid = subscribe()
    failed = advance(standin, paid["subscription"], "fail_renewal")

    (payment,) = expanded_payments(stripe_client, failed["latest_invoice"])
    assert payment["payment"]["payment_intent"]["status"] == "requires_payment_method"


def test_a_3ds_card_starting_a_trial_is_challenged_then_trials_without_a_charge(
    stripe_client, standin, subscribe
):
    session, paid = subscribe(card=AUTHENTICATE_UNLESS_SET_UP, trial_days=7)
    assert paid["requires_action"] is True
    assert stripe_client.v1.subscriptions.list(params={"status": "all"}).data == []

    _, done = control(
        standin,
        f"/_standin/checkout/{session.id}/pay",
        {"card": AUTHENTICATE_UNLESS_SET_UP, "authentication": "complete"},
    )

    subscription = stripe_client.v1.subscriptions.retrieve(done["subscription"])
    assert subscription.status == "trialing"
    assert stripe_client.v1.checkout.sessions.retrieve(session.id).payment_status == (
        "no_payment_required"
    )


def test_a_card_changed_to_one_that_always_asks_makes_the_next_renewal_wait(
    stripe_client, standin, subscribe
):
    _, paid = subscribe()
    customer = stripe_client.v1.subscriptions.retrieve(paid["subscription"]).customer
    status, _ = control(
        standin, f"/_standin/customers/{customer}/card", {"card": ALWAYS_AUTHENTICATE}
    )
    assert status == 200

    renewed = advance(standin, paid["subscription"], "renew")

    assert renewed["status"] == "past_due"
    (payment,) = expanded_payments(stripe_client, renewed["latest_invoice"])
    assert payment["payment"]["payment_intent"]["status"] == "requires_action"
