"""The portal's plan switch with proration, priced as Stripe prices it: the new price's line and
the credit for the unused time first, then the discounts and the tax once over them, so the
invoice's amounts agree with each other; a credit larger than the charge goes to the customer's
balance and nothing is due."""

import pytest

from .conftest import control, http, plan_switch_portal
from .test_flows import create_session
from .test_shapes import assert_stripe_shape

pytestmark = pytest.mark.standin

DAY = 86400


def price(stripe_client, product, amount, interval):
    return stripe_client.v1.prices.create(
        params={
            "product": product,
            "unit_amount": amount,
            "currency": "gbp",
            "recurring": {"interval": interval},
        }
    )


@pytest.fixture
def plans(stripe_client):
    product = stripe_client.v1.products.create(params={"name": "Masthead"})
    return price(stripe_client, product.id, 1000, "month"), price(
        stripe_client, product.id, 10000, "year"
    )


def subscribe(stripe_client, standin, first, *, tax, code=None):
    extra = {"automatic_tax": {"enabled": True}} if tax else {}
    if code:
        coupon = stripe_client.v1.coupons.create(params={"percent_off": 50, "duration": "forever"})
        stripe_client.v1.promotion_codes.create(
            params={"promotion": {"type": "coupon", "coupon": coupon.id}, "code": code}
        )
        extra["allow_promotion_codes"] = True
    session = create_session(stripe_client, first, **extra)
    body = {"card": "4242424242424242"}
    if code:
        body["promotion_code"] = code
    status, paid = control(standin, f"/_standin/checkout/{session.id}/pay", body)
    assert status == 200, paid
    return paid["subscription"]


def switch(stripe_client, sub_id, prices, to):
    customer = stripe_client.v1.subscriptions.retrieve(sub_id).customer
    portal = plan_switch_portal(stripe_client, customer, prices)
    status, _, _ = http(
        portal.url + "/action", {"subscription": sub_id, "action": "switch", "price": to.id}
    )
    assert status == 303
    subscription = stripe_client.v1.subscriptions.retrieve(sub_id)
    return assert_stripe_shape(stripe_client.v1.invoices.retrieve(subscription.latest_invoice))


def assert_consistent(invoice):
    lines = invoice["lines"]["data"]
    discounts = sum(d["amount"] for d in invoice["total_discount_amounts"])
    taxes = sum(t["amount"] for t in invoice["total_taxes"])
    assert invoice["subtotal"] == sum(line["amount"] for line in lines)
    assert invoice["total_excluding_tax"] == invoice["subtotal"] - discounts
    assert invoice["total"] == invoice["subtotal"] - discounts + taxes
    assert invoice["amount_due"] == max(0, invoice["total"])
    assert invoice["amount_paid"] == invoice["amount_due"]
    assert sum(t["amount"] for line in lines for t in line["taxes"]) == taxes
    assert sum(d["amount"] for line in lines for d in line["discount_amounts"]) == discounts


@pytest.mark.parametrize(
    ("tax", "code"), [(True, None), (False, "HALF"), (True, "HALF")], ids=["tax", "code", "both"]
)
def test_a_prorated_switch_prices_the_credit_before_discounts_and_tax(
    stripe_client, standin, plans, tax, code
):
    monthly, annual = plans
    sub_id = subscribe(stripe_client, standin, monthly, tax=tax, code=code)
    control(standin, "/_standin/clock", {"advance_seconds": 10 * DAY})

    invoice = switch(stripe_client, sub_id, plans, annual)

    charge, credit = invoice["lines"]["data"]
    assert charge["amount"] == 10000 and -1000 < credit["amount"] < 0
    assert credit["parent"]["subscription_item_details"]["proration"] is True
    assert_consistent(invoice)
    net = 10000 + credit["amount"]
    off = round(net / 2) if code else 0
    assert invoice["total_excluding_tax"] == net - off
    if tax:
        assert sum(t["amount"] for t in invoice["total_taxes"]) == pytest.approx(
            (net - off) * 0.2, abs=1
        )
    else:
        assert invoice["total_taxes"] == []


def test_more_credit_than_the_new_price_costs_goes_to_the_balance_and_nothing_is_due(
    stripe_client, standin, plans
):
    monthly, annual = plans
    sub_id = subscribe(stripe_client, standin, annual, tax=True)
    control(standin, "/_standin/clock", {"advance_seconds": 10 * DAY})

    invoice = switch(stripe_client, sub_id, plans, monthly)

    assert_consistent(invoice)
    assert invoice["total"] < 0 and invoice["amount_due"] == 0
    assert invoice["status"] == "paid"
    assert invoice["ending_balance"] == invoice["total"]
    customer = stripe_client.v1.customers.retrieve(invoice["customer"])
    assert customer.balance == invoice["total"]
