"""What time passing brings, as at Stripe, whichever clock moves (the account's or a test clock):
an end set on a date (`cancel_at`)."""

import pytest

from .conftest import control
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
