"""What time passing brings, as at Stripe, whichever clock moves (the account's or a test clock):
an end set on a date (`cancel_at`), and the end of a first payment nobody finished (an
`incomplete` subscription expires after 23 hours)."""

import pytest

from .conftest import control, http
from .test_flows import create_session
from .test_lifecycle import START, advance_clock, events_since, latest_event_id
from .test_shapes import assert_event_shape, assert_stripe_shape

pytestmark = pytest.mark.standin

DAY = 86400


@pytest.fixture
def clock(stripe_client):
    return stripe_client.v1.test_helpers.test_clocks.create(params={"frozen_time": START})


def now(standin):
    return control(standin, "/_standin/clock", method="GET")[1]["now"]


# ---- cancel_at: "A date in the future at which the subscription will automatically get canceled"


def test_the_accounts_clock_ends_a_subscription_on_its_cancel_at_date(
    stripe_client, standin, subscribe
):
    _, paid = subscribe()
    sub_id = paid["subscription"]
    on = now(standin) + 10 * DAY
    stripe_client.v1.subscriptions.update(sub_id, params={"cancel_at": on})
    mark = latest_event_id(stripe_client)

    control(standin, "/_standin/clock", {"advance_seconds": 40 * DAY})  # past the period end

    ended = assert_stripe_shape(stripe_client.v1.subscriptions.retrieve(sub_id))
    assert (ended["status"], ended["ended_at"]) == ("canceled", on)
    events = events_since(stripe_client, mark)
    assert [(e.type, e.created) for e in events] == [("customer.subscription.deleted", on)]
    assert_event_shape(
        stripe_client.v1.events.list(params={"limit": 1}).last_response.data["data"][0]
    )


@pytest.mark.parametrize("cancel_at", ["max_period_end", "min_period_end"])
def test_a_test_clock_ends_a_subscription_set_to_end_at_its_period_end_instead_of_renewing(
    stripe_client, clock, subscribe, cancel_at
):
    _, paid = subscribe(test_clock=clock.id)
    sub_id = paid["subscription"]
    scheduled = stripe_client.v1.subscriptions.update(sub_id, params={"cancel_at": cancel_at})
    period_end = scheduled["items"].data[0].current_period_end
    assert scheduled.cancel_at == period_end
    mark = latest_event_id(stripe_client)

    advance_clock(stripe_client, clock.id, START + 45 * DAY)

    ended = stripe_client.v1.subscriptions.retrieve(sub_id)
    assert (ended.status, ended.ended_at) == ("canceled", period_end)
    types = [e.type for e in events_since(stripe_client, mark)]
    assert "customer.subscription.deleted" in types
    assert not [t for t in types if t.startswith("invoice.")]  # no renewal


# ---- incomplete: "If the first invoice is not paid within 23 hours, the subscription transitions
# to incomplete_expired. This is a terminal status, the open invoice will be voided and no further
# invoices will be generated."


def left_incomplete(stripe_client, standin, monthly_price):
    session = create_session(stripe_client, monthly_price)
    status, paid = control(
        standin,
        f"/_standin/checkout/{session.id}/pay",
        {"card": "4000002500003155", "authentication": "unanswered"},
    )
    assert status == 200, paid
    subscription = stripe_client.v1.subscriptions.retrieve(paid["subscription"])
    assert subscription.status == "incomplete"
    return subscription


def test_an_incomplete_subscription_expires_after_23_hours_and_its_invoice_is_voided(
    stripe_client, standin, monthly_price
):
    subscription = left_incomplete(stripe_client, standin, monthly_price)
    expires = subscription.created + 23 * 3600
    mark = latest_event_id(stripe_client)

    control(standin, "/_standin/clock", {"advance_seconds": expires - now(standin) - 60})
    assert stripe_client.v1.subscriptions.retrieve(subscription.id).status == "incomplete"
    control(standin, "/_standin/clock", {"advance_seconds": 60 * DAY})  # and on, two months

    expired = assert_stripe_shape(stripe_client.v1.subscriptions.retrieve(subscription.id))
    assert (expired["status"], expired["ended_at"]) == ("incomplete_expired", expires)
    invoice = assert_stripe_shape(stripe_client.v1.invoices.retrieve(subscription.latest_invoice))
    assert (invoice["status"], invoice["status_transitions"]["voided_at"]) == ("void", expires)
    assert expired["latest_invoice"] == subscription.latest_invoice  # no further invoices
    events = events_since(stripe_client, mark)
    assert [(e.type, e.created) for e in events] == [
        ("invoice.voided", expires),
        ("customer.subscription.updated", expires),
    ]
    assert events[1].data.previous_attributes.status == "incomplete"
    for event in stripe_client.v1.events.list(params={"limit": 2}).last_response.data["data"]:
        assert_event_shape(event)
    ended = stripe_client.v1.subscriptions.list(params={"status": "ended"}).data
    assert [s.id for s in ended] == [subscription.id]


def test_a_voided_invoice_can_no_longer_be_confirmed_on_its_page(
    stripe_client, standin, monthly_price
):
    subscription = left_incomplete(stripe_client, standin, monthly_price)
    invoice = stripe_client.v1.invoices.retrieve(subscription.latest_invoice)
    control(standin, "/_standin/clock", {"advance_seconds": 24 * 3600})

    status, _, html = http(invoice.hosted_invoice_url)
    assert status == 200 and "This invoice is void." in html
    assert "Complete authentication" not in html
    status, _, html = http(invoice.hosted_invoice_url, {"authentication": "complete"})
    assert status == 402 and "This invoice is not open for payment." in html
    status, body = control(
        standin, f"/_standin/invoices/{invoice.id}/pay", {"authentication": "complete"}
    )
    assert status == 402 and body["invoice"]["status"] == "void"
    assert stripe_client.v1.subscriptions.retrieve(subscription.id).status == "incomplete_expired"


def test_a_test_clock_expires_an_incomplete_subscription_too(
    stripe_client, standin, monthly_price, clock
):
    customer = stripe_client.v1.customers.create(
        params={"email": "reader@example.com", "test_clock": clock.id}
    )
    session = stripe_client.v1.checkout.sessions.create(
        params={
            "mode": "subscription",
            "customer": customer.id,
            "line_items": [{"price": monthly_price.id, "quantity": 1}],
            "success_url": "http://masthead.test/billing/success/",
            "cancel_url": "http://masthead.test/billing/plans/",
        }
    )
    _, paid = control(
        standin,
        f"/_standin/checkout/{session.id}/pay",
        {"card": "4000002500003155", "authentication": "unanswered"},
    )

    advance_clock(stripe_client, clock.id, START + DAY)

    expired = stripe_client.v1.subscriptions.retrieve(paid["subscription"])
    assert (expired.status, expired.ended_at) == ("incomplete_expired", START + 23 * 3600)
