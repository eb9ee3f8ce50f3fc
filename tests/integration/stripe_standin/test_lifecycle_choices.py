"""The member's choices the stand-in takes as Stripe does: an end on a date (`cancel_at`) and
undoing it, a Checkout trial that ends on a given date (`subscription_data[trial_end]`), and the
portal's switch between plans."""

from datetime import UTC, datetime

import pytest
import stripe

from .conftest import control, http, plan_switch_portal
from .test_shapes import assert_event_shape, assert_stripe_shape

pytestmark = pytest.mark.standin

DAY = 86400


def now(standin):
    return control(standin, "/_standin/clock", method="GET")[1]["now"]


# ---- cancel_at -------------------------------------------------------------------


def test_cancel_at_schedules_the_end_on_a_date_and_an_empty_value_unsets_it(
    stripe_client, standin, subscribe
):
    _, paid = subscribe()
    sub_id = paid["subscription"]
    on = now(standin) + 10 * DAY

    scheduled = stripe_client.v1.subscriptions.update(sub_id, params={"cancel_at": on})

    assert (scheduled.cancel_at, scheduled.cancel_at_period_end) == (on, False)
    assert_stripe_shape(scheduled)
    assert scheduled.canceled_at is not None
    assert scheduled.cancellation_details.reason == "cancellation_requested"

    resumed = stripe_client.v1.subscriptions.update(sub_id, params={"cancel_at": ""})

    assert (resumed.cancel_at, resumed.cancel_at_period_end, resumed.canceled_at) == (
        None,
        False,
        None,
    )
    events = stripe_client.v1.events.list(params={"type": "customer.subscription.updated"}).data
    assert events[0].data.previous_attributes.cancel_at == on
    assert events[1].data.previous_attributes.cancel_at is None


def test_cancel_at_period_end_false_with_an_empty_cancel_at_undoes_either_kind(
    stripe_client, standin, subscribe
):
    _, paid = subscribe()
    sub_id = paid["subscription"]
    undo = {"cancel_at_period_end": False, "cancel_at": ""}

    stripe_client.v1.subscriptions.update(sub_id, params={"cancel_at_period_end": True})
    assert stripe_client.v1.subscriptions.update(sub_id, params=undo).cancel_at is None
    stripe_client.v1.subscriptions.update(sub_id, params={"cancel_at": now(standin) + DAY})
    undone = stripe_client.v1.subscriptions.update(sub_id, params=undo)
    assert (undone.cancel_at, undone.cancel_at_period_end) == (None, False)


def test_min_period_end_resolves_to_the_period_end_at_once(stripe_client, subscribe):
    _, paid = subscribe()

    updated = stripe_client.v1.subscriptions.update(
        paid["subscription"], params={"cancel_at": "min_period_end"}
    )

    assert updated.cancel_at == updated["items"].data[0].current_period_end
    assert updated.cancel_at_period_end is False


def test_cancel_at_is_refused_in_the_past_with_the_flag_or_once_canceled(
    stripe_client, standin, subscribe
):
    _, paid = subscribe()
    sub_id = paid["subscription"]

    for params in (
        {"cancel_at": now(standin) - 60},
        {"cancel_at": now(standin) + DAY, "cancel_at_period_end": True},
        {"cancel_at": "next tuesday"},
    ):
        with pytest.raises(stripe.InvalidRequestError) as refused:
            stripe_client.v1.subscriptions.update(sub_id, params=params)
        assert refused.value.param == "cancel_at"
    assert stripe_client.v1.subscriptions.retrieve(sub_id).cancel_at is None

    stripe_client.v1.subscriptions.cancel(sub_id)
    with pytest.raises(stripe.InvalidRequestError):
        stripe_client.v1.subscriptions.update(sub_id, params={"cancel_at": ""})


def test_the_portal_shows_a_dated_end_and_its_resume_unsets_it(
    stripe_client, standin, subscribe, portal_configuration
):
    _, paid = subscribe()
    sub_id = paid["subscription"]
    on = now(standin) + 10 * DAY
    stripe_client.v1.subscriptions.update(sub_id, params={"cancel_at": on})
    portal = stripe_client.v1.billing_portal.sessions.create(
        params={
            "customer": stripe_client.v1.subscriptions.retrieve(sub_id).customer,
            "configuration": portal_configuration().id,
        }
    )

    page = http(portal.url)[2]
    assert "<dt>Cancels on</dt>" in page and 'value="resume"' in page

    http(portal.url + "/action", {"subscription": sub_id, "action": "resume"})

    assert stripe_client.v1.subscriptions.retrieve(sub_id).cancel_at is None


def test_a_date_before_the_period_end_ends_the_subscription_on_that_date(
    stripe_client, standin, subscribe
):
    _, paid = subscribe()
    sub_id = paid["subscription"]
    on = now(standin) + 10 * DAY
    stripe_client.v1.subscriptions.update(sub_id, params={"cancel_at": on})

    status, ended = control(
        standin, f"/_standin/subscriptions/{sub_id}/advance", {"action": "end_period"}
    )

    assert status == 200
    assert (ended["status"], ended["ended_at"]) == ("canceled", on)
    deleted = stripe_client.v1.events.list(params={"limit": 1}).data[0]
    assert deleted.type == "customer.subscription.deleted"


# ---- a Checkout trial that ends on a date --------------------------------------------


def _trial_session(stripe_client, monthly_price, trial_end):
    customer = stripe_client.v1.customers.create(params={"email": "reader@example.com"})
    return stripe_client.v1.checkout.sessions.create(
        params={
            "mode": "subscription",
            "customer": customer.id,
            "line_items": [{"price": monthly_price.id, "quantity": 1}],
            "success_url": "http://masthead.test/billing/success/?session_id={CHECKOUT_SESSION_ID}",
            "subscription_data": {"trial_end": trial_end},
        }
    )


def test_a_checkout_trial_end_shows_the_first_charge_date_and_trials_until_then(
    stripe_client, standin, monthly_price
):
    trial_end = now(standin) + 5 * DAY + 3600
    session = _trial_session(stripe_client, monthly_price, trial_end)

    page = http(session.url)[2]

    date = datetime.fromtimestamp(trial_end, UTC).strftime("%-d %B %Y")
    assert f"You won't be charged until {date}" in page.replace("&#x27;", "'")
    assert '<button type="submit">Start trial</button>' in page

    _, paid = control(standin, f"/_standin/checkout/{session.id}/pay", {"card": "4242424242424242"})

    subscription = stripe_client.v1.subscriptions.retrieve(paid["subscription"])
    assert_stripe_shape(subscription)
    assert (subscription.status, subscription.trial_end) == ("trialing", trial_end)
    assert subscription["items"].data[0].current_period_end == trial_end
    invoice = stripe_client.v1.invoices.retrieve(subscription.latest_invoice)
    assert invoice.amount_due == 0
    checkout = stripe_client.v1.checkout.sessions.retrieve(session.id)
    assert checkout.payment_status == "no_payment_required"


def test_a_checkout_trial_end_under_48_hours_away_is_refused(stripe_client, standin, monthly_price):
    with pytest.raises(stripe.InvalidRequestError) as refused:
        _trial_session(stripe_client, monthly_price, now(standin) + 47 * 3600)

    assert refused.value.param == "subscription_data[trial_end]"
    assert "2 days" in refused.value.user_message


# ---- the portal's plan switch ----------------------------------------------------


@pytest.fixture
def annual_price(stripe_client, monthly_price):
    return stripe_client.v1.prices.create(
        params={
            "product": monthly_price.product,
            "unit_amount": 5000,
            "currency": "usd",
            "recurring": {"interval": "year"},
        }
    )


@pytest.fixture
def switching_portal(stripe_client, monthly_price, annual_price):
    """make(customer, **subscription_update): a portal session whose configuration switches
    between the monthly and annual prices."""

    def make(customer, **settings):
        return plan_switch_portal(
            stripe_client,
            customer,
            [monthly_price, annual_price],
            features={"subscription_cancel": {"enabled": True, "mode": "at_period_end"}},
            **settings,
        )

    return make


def test_switching_monthly_to_annual_starts_a_year_now_and_invoices_with_the_unused_month_credited(
    stripe_client, standin, subscribe, switching_portal, annual_price
):
    _, paid = subscribe()
    sub_id = paid["subscription"]
    portal = switching_portal(stripe_client.v1.subscriptions.retrieve(sub_id).customer)
    page = http(portal.url)[2]
    assert "Switch to Masthead Monthly ($50.00 per year)" in page

    status, _, _ = http(
        portal.url + "/action",
        {"subscription": sub_id, "action": "switch", "price": annual_price.id},
    )

    assert status == 303
    subscription = stripe_client.v1.subscriptions.retrieve(sub_id)
    item = subscription["items"].data[0]
    assert (subscription.status, item.price.id) == ("active", annual_price.id)
    assert item.current_period_start == subscription.billing_cycle_anchor
    assert item.current_period_end - item.current_period_start >= 365 * DAY
    invoice = stripe_client.v1.invoices.retrieve(subscription.latest_invoice)
    assert invoice.billing_reason == "subscription_update" and invoice.status == "paid"
    assert 5000 - 500 <= invoice.amount_paid < 5000  # the year, less the month just paid for
    types = [e.type for e in stripe_client.v1.events.list(params={"limit": 5}).data]
    assert types == [  # newest first
        "invoice.payment_succeeded",
        "invoice.paid",
        "invoice.finalized",
        "invoice.created",
        "customer.subscription.updated",
    ]
    assert "Your plan has been updated." in http(portal.url + "?done=switch")[2]
    assert_stripe_shape(subscription)
    assert_stripe_shape(invoice)
    for event in stripe_client.v1.events.list(params={"limit": 2}).last_response.data["data"]:
        assert_event_shape(event)


def test_a_switch_between_prices_of_one_interval_keeps_the_period_and_needs_no_payment_now(
    stripe_client, standin, subscribe, switching_portal, monthly_price
):
    other_monthly = stripe_client.v1.prices.create(
        params={
            "product": monthly_price.product,
            "unit_amount": 800,
            "currency": "usd",
            "recurring": {"interval": "month"},
        }
    )
    _, paid = subscribe()
    sub_id = paid["subscription"]
    before = stripe_client.v1.subscriptions.retrieve(sub_id)
    portal = plan_switch_portal(stripe_client, before.customer, [monthly_price, other_monthly])

    http(
        portal.url + "/action",
        {"subscription": sub_id, "action": "switch", "price": other_monthly.id},
    )

    after = stripe_client.v1.subscriptions.retrieve(sub_id)
    assert after["items"].data[0].price.id == other_monthly.id
    assert after["items"].data[0].current_period_end == before["items"].data[0].current_period_end
    assert after.latest_invoice == before.latest_invoice  # the proration waits for the renewal


def test_the_portal_offers_no_switch_it_is_not_configured_for_or_while_a_cancellation_is_pending(
    stripe_client, standin, subscribe, portal_configuration, switching_portal, annual_price
):
    _, paid = subscribe()
    sub_id = paid["subscription"]
    customer = stripe_client.v1.subscriptions.retrieve(sub_id).customer
    plain = stripe_client.v1.billing_portal.sessions.create(
        params={"customer": customer, "configuration": portal_configuration().id}
    )
    switch = {"subscription": sub_id, "action": "switch", "price": annual_price.id}

    assert "Switch to" not in http(plain.url)[2]
    assert http(plain.url + "/action", switch)[0] == 403

    stripe_client.v1.subscriptions.update(sub_id, params={"cancel_at_period_end": True})
    switching = switching_portal(customer)
    assert "Switch to" not in http(switching.url)[2]
    assert http(switching.url + "/action", switch)[0] == 403
    assert stripe_client.v1.subscriptions.retrieve(sub_id)["items"].data[0].price.id != (
        annual_price.id
    )
