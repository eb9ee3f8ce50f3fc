"""Time passing at the stand-in as at Stripe: test clocks, trial ends, renewals, failed payments
and their retries, idempotency keys that expire, and webhook deliveries retried with backoff."""

import itertools

import pytest
import stripe

from stripe_standin.webhooks import retry_delays

from .conftest import control, http, plan_switch_portal

pytestmark = pytest.mark.standin

DAY = 86400
START = 1_798_761_600  # 2027-01-01 00:00 UTC: a test clock's frozen time, far from real time
FAILING_CARD = "4000000000000341"  # attaches to the customer; every charge after that fails


def events_since(stripe_client, first_id=None):
    """Every event, oldest first (after ``first_id`` if given)."""
    events, params = [], {"limit": 100}
    while True:
        page = stripe_client.v1.events.list(params=params)
        events.extend(page.data)
        if not page.has_more:
            break
        params = {"limit": 100, "starting_after": page.data[-1].id}
    events.reverse()
    if first_id:
        events = events[[e.id for e in events].index(first_id) + 1 :]
    return events


def latest_event_id(stripe_client):
    return stripe_client.v1.events.list(params={"limit": 1}).data[0].id


def advance_clock(stripe_client, clock_id, to):
    advancing = stripe_client.v1.test_helpers.test_clocks.advance(
        clock_id, params={"frozen_time": to}
    )
    assert advancing.status == "advancing"
    ready = stripe_client.v1.test_helpers.test_clocks.retrieve(clock_id)
    assert (ready.status, ready.frozen_time) == ("ready", to)
    return ready


@pytest.fixture
def clock(stripe_client):
    return stripe_client.v1.test_helpers.test_clocks.create(
        params={"frozen_time": START, "name": "lifecycle"}
    )


# ---- test clocks -----------------------------------------------------------------


def test_a_test_clock_is_created_advanced_retrieved_listed_and_deleted(stripe_client, clock):
    assert (clock.frozen_time, clock.status, clock.name) == (START, "ready", "lifecycle")
    customer = stripe_client.v1.customers.create(
        params={"email": "ann@example.com", "test_clock": clock.id}
    )
    assert (customer.test_clock, customer.created) == (clock.id, START)

    advance_clock(stripe_client, clock.id, START + DAY)

    assert [c.id for c in stripe_client.v1.test_helpers.test_clocks.list().data] == [clock.id]
    assert [e.type for e in events_since(stripe_client) if e.type.startswith("test_helpers.")] == [
        "test_helpers.test_clock.created",
        "test_helpers.test_clock.advancing",
        "test_helpers.test_clock.ready",
    ]
    deleted = stripe_client.v1.test_helpers.test_clocks.delete(clock.id)
    assert deleted.deleted is True
    with pytest.raises(stripe.InvalidRequestError):  # its customers go with it
        stripe_client.v1.customers.retrieve(customer.id)
    with pytest.raises(stripe.InvalidRequestError) as missing:
        stripe_client.v1.test_helpers.test_clocks.retrieve(clock.id)
    assert missing.value.http_status == 404


@pytest.mark.parametrize(
    ("to", "message"),
    [(START, "must be after"), (START - DAY, "must be after"), (START + 800 * DAY, "two years")],
)
def test_a_clock_moves_only_forward_and_not_too_far(stripe_client, clock, to, message):
    with pytest.raises(stripe.InvalidRequestError) as refused:
        stripe_client.v1.test_helpers.test_clocks.advance(clock.id, params={"frozen_time": to})
    assert message in str(refused.value) and refused.value.param == "frozen_time"


def test_a_clock_with_a_monthly_subscription_moves_at_most_two_months(
    stripe_client, clock, subscribe
):
    subscribe(test_clock=clock.id)
    with pytest.raises(stripe.InvalidRequestError):
        stripe_client.v1.test_helpers.test_clocks.advance(
            clock.id, params={"frozen_time": START + 70 * DAY}
        )
    advance_clock(stripe_client, clock.id, START + 59 * DAY)


# ---- a trial over time ----------------------------------------------------------------


def test_a_trial_starts_with_a_zero_invoice_is_warned_three_days_ahead_then_charges(
    stripe_client, clock, subscribe
):
    _, paid = subscribe(trial_days=14, test_clock=clock.id)
    subscription = stripe_client.v1.subscriptions.retrieve(paid["subscription"])
    assert (subscription.test_clock, subscription.trial_end) == (clock.id, START + 14 * DAY)
    first = stripe_client.v1.invoices.retrieve(subscription.latest_invoice)
    assert (first.billing_reason, first.total, first.status) == ("subscription_create", 0, "paid")
    assert first.parent.subscription_details.subscription == subscription.id
    assert "subscription" not in first.last_response.data  # gone since 2025-03-31.basil
    mark = latest_event_id(stripe_client)

    advance_clock(stripe_client, clock.id, START + 11 * DAY - 1)
    assert events_since(stripe_client, mark)[:-2] == []  # only advancing and ready
    advance_clock(stripe_client, clock.id, START + 11 * DAY)
    warned = [
        e for e in events_since(stripe_client, mark) if not e.type.startswith("test_helpers.")
    ]
    assert [(e.type, e.created) for e in warned] == [
        ("customer.subscription.trial_will_end", START + 11 * DAY)
    ]
    mark = latest_event_id(stripe_client)

    advance_clock(stripe_client, clock.id, START + 20 * DAY)

    ended = [e for e in events_since(stripe_client, mark) if not e.type.startswith("test_")]
    assert [(e.type, e.created) for e in ended] == [
        ("customer.subscription.updated", START + 14 * DAY),
        ("invoice.created", START + 14 * DAY),
        ("invoice.finalized", START + 14 * DAY),
        ("invoice.paid", START + 14 * DAY),
        ("invoice.payment_succeeded", START + 14 * DAY),
    ]
    assert ended[0].data.previous_attributes.status == "trialing"
    invoice = ended[-1].data.object
    assert (invoice.billing_reason, invoice.amount_paid) == ("subscription_cycle", 500)
    assert stripe_client.v1.subscriptions.retrieve(subscription.id).status == "active"


def test_a_trial_of_three_days_or_less_is_told_at_once_that_it_will_end(stripe_client, subscribe):
    subscribe(trial_days=2)
    types = [e.type for e in events_since(stripe_client)]
    assert types.count("customer.subscription.trial_will_end") == 1
    assert types.index("customer.subscription.trial_will_end") > types.index(
        "customer.subscription.created"
    )


def test_each_renewal_fires_in_order_on_its_own_date(stripe_client, clock, subscribe):
    _, paid = subscribe(test_clock=clock.id)
    mark = latest_event_id(stripe_client)

    advance_clock(stripe_client, clock.id, START + 59 * DAY)  # two renewals: 1 Feb, 1 Mar

    paid_invoices = [
        e.data.object for e in events_since(stripe_client, mark) if e.type == "invoice.paid"
    ]
    assert [i.created for i in paid_invoices] == [START + 31 * DAY, START + 59 * DAY]
    assert [i.period_start for i in paid_invoices] == [START + 31 * DAY, START + 59 * DAY]
    item = stripe_client.v1.subscriptions.retrieve(paid["subscription"])["items"].data[0]
    assert item.current_period_start == START + 59 * DAY


def test_the_accounts_clock_renews_subscriptions_on_no_test_clock(
    stripe_client, standin, subscribe
):
    _, paid = subscribe()
    period_end = (
        stripe_client.v1.subscriptions.retrieve(paid["subscription"])["items"]
        .data[0]
        .current_period_end
    )
    _, clock_state = control(standin, "/_standin/clock", method="GET")

    control(standin, "/_standin/clock", {"advance_seconds": period_end - clock_state["now"] + 60})

    renewal = next(
        e
        for e in events_since(stripe_client)
        if e.type == "invoice.payment_succeeded"
        and e.data.object.billing_reason == "subscription_cycle"
    )
    assert renewal.created == period_end


# ---- failed renewals and their retries ------------------------------------------------


def failing_trial(stripe_client, clock, subscribe):
    """A subscription whose trial ends on day 14 and whose card fails every charge after it."""
    _, paid = subscribe(card=FAILING_CARD, trial_days=14, test_clock=clock.id)
    assert paid["status"] == "complete"  # nothing to charge yet: the card is only saved
    return paid["subscription"]


def test_a_card_that_only_attaches_is_declined_when_checkout_charges_it(subscribe):
    _, paid = subscribe(card=FAILING_CARD)
    assert paid["error"] == "Your card was declined."


@pytest.mark.parametrize(
    ("after_retries", "final_status", "final_event"),
    [
        ("cancel", "canceled", "customer.subscription.deleted"),
        ("unpaid", "unpaid", "customer.subscription.updated"),
        ("past_due", "past_due", None),
    ],
)
def test_a_failed_renewal_is_retried_on_schedule_then_ends_as_the_settings_say(
    stripe_client, standin, clock, subscribe, after_retries, final_status, final_event
):
    status, settings = control(
        standin, "/_standin/settings/billing", {"after_retries": after_retries}
    )
    assert status == 200 and settings == {
        "retry_days": [1, 2, 2, 2],
        "after_retries": after_retries,
    }
    subscription_id = failing_trial(stripe_client, clock, subscribe)
    mark = latest_event_id(stripe_client)

    advance_clock(stripe_client, clock.id, START + 14 * DAY + 60)

    first = [e for e in events_since(stripe_client, mark) if not e.type.startswith("test_")]
    assert [e.type for e in first] == [
        "customer.subscription.trial_will_end",
        "customer.subscription.updated",
        "invoice.created",
        "invoice.finalized",
        "invoice.payment_failed",
        "customer.subscription.updated",
    ]
    failed = first[4].data.object
    assert (failed.attempt_count, failed.next_payment_attempt) == (1, START + 15 * DAY)
    assert first[-1].data.object.status == "past_due"
    mark = latest_event_id(stripe_client)

    advance_clock(stripe_client, clock.id, START + 30 * DAY)

    later = [e for e in events_since(stripe_client, mark) if not e.type.startswith("test_")]
    retries = [e for e in later if e.type == "invoice.payment_failed"]
    assert [
        (e.data.object.attempt_count, e.created, e.data.object.next_payment_attempt)
        for e in retries
    ] == [
        (2, START + 15 * DAY, START + 17 * DAY),
        (3, START + 17 * DAY, START + 19 * DAY),
        (4, START + 19 * DAY, START + 21 * DAY),
        (5, START + 21 * DAY, None),
    ]
    assert {e.data.object.id for e in retries} == {failed.id}  # the same invoice, tried again
    ends = [e for e in later if e.type.startswith("customer.subscription.")]
    assert [e.type for e in ends] == ([final_event] if final_event else [])
    subscription = stripe_client.v1.subscriptions.retrieve(subscription_id)
    assert subscription.status == final_status
    if final_status == "canceled":
        assert subscription.cancellation_details.reason == "payment_failed"
        assert subscription.ended_at == START + 21 * DAY


def test_a_retry_after_the_card_is_updated_pays_and_reactivates(
    stripe_client, standin, clock, subscribe
):
    subscription_id = failing_trial(stripe_client, clock, subscribe)
    advance_clock(stripe_client, clock.id, START + 14 * DAY + 60)
    customer = stripe_client.v1.subscriptions.retrieve(subscription_id).customer
    status, _ = control(
        standin, f"/_standin/customers/{customer}/card", {"card": "4242424242424242"}
    )
    assert status == 200
    mark = latest_event_id(stripe_client)

    advance_clock(stripe_client, clock.id, START + 16 * DAY)

    types = [e.type for e in events_since(stripe_client, mark) if not e.type.startswith("test_")]
    assert types == ["invoice.paid", "invoice.payment_succeeded", "customer.subscription.updated"]
    assert stripe_client.v1.subscriptions.retrieve(subscription_id).status == "active"


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"after_retries": "forgive"}, "after_retries"),
        ({"retry_days": [1, -2]}, "retry_days"),
        ({"retry_days": "3"}, "retry_days"),
        ({"dunning": True}, "dunning"),
    ],
)
def test_retry_settings_refuse_what_stripe_has_no_setting_for(standin, body, param):
    status, error = control(standin, "/_standin/settings/billing", body)
    assert status == 400 and error["error"]["param"] == param
    _, settings = control(standin, "/_standin/settings/billing", method="GET")
    assert settings == {"retry_days": [1, 2, 2, 2], "after_retries": "cancel"}


# ---- idempotency keys --------------------------------------------------------------


def test_an_idempotency_key_replays_for_24_hours_then_is_a_new_request(stripe_client, standin):
    params = {"email": "ann@example.com"}
    first = stripe_client.v1.customers.create(params=params, options={"idempotency_key": "k-1"})
    control(standin, "/_standin/clock", {"advance_seconds": 23 * 3600})
    replayed = stripe_client.v1.customers.create(params=params, options={"idempotency_key": "k-1"})
    with pytest.raises(stripe.IdempotencyError) as refused:
        stripe_client.v1.customers.create(
            params={"email": "bob@example.com"}, options={"idempotency_key": "k-1"}
        )

    control(standin, "/_standin/clock", {"advance_seconds": 3600})
    after_a_day = stripe_client.v1.customers.create(
        params={"email": "bob@example.com"}, options={"idempotency_key": "k-1"}
    )

    assert replayed.id == first.id
    assert replayed.last_response.headers["Idempotent-Replayed"] == "true"
    assert refused.value.http_status == 400
    assert "same parameters they were first used with" in str(refused.value)
    assert after_a_day.id != first.id and after_a_day.email == "bob@example.com"
    assert "Idempotent-Replayed" not in after_a_day.last_response.headers


# ---- webhook retries ------------------------------------------------------------------


def test_stripes_retry_schedules_three_retries_in_test_mode_three_days_in_live_mode():
    assert retry_delays("test") == [3600, 7200, 14400]  # "three times over a few hours"
    live = retry_delays("live")
    assert sum(live) == 72 * 3600 and live == sorted(live[:-1]) + live[-1:]


def test_a_delivery_failing_every_time_is_retried_three_times_with_backoff(
    stripe_client, standin, webhook_receiver
):
    webhook_receiver.fail_next = 10

    stripe_client.v1.customers.create(params={"email": "ann@example.com"})
    status, counts = control(standin, "/_standin/deliveries/wait")

    assert status == 200 and (counts["failed"], counts["delivered"]) == (1, 0)
    attempts = [d["at"] for d in webhook_receiver.received]
    assert len(attempts) == 4  # the first delivery and three retries
    gaps = [later - earlier for earlier, later in itertools.pairwise(attempts)]
    # --retry-base 0.05 stands for Stripe's hour: retries after 1, 2 and 4 of them.
    assert [round(gap / 0.05) for gap in gaps] == [1, 2, 4] or all(
        gap >= 0.05 * hours for gap, hours in zip(gaps, (1, 2, 4), strict=True)
    )
    assert stripe_client.v1.events.list().data[0].pending_webhooks == 1


# ---- switching plans in the portal ----------------------------------------------------


@pytest.fixture
def switching_portal(stripe_client, monthly_price):
    """make(customer_id): a portal session whose configuration switches monthly <-> annual."""
    annual = stripe_client.v1.prices.create(
        params={
            "product_data": {"name": "Masthead Annual"},
            "unit_amount": 5000,
            "currency": "usd",
            "recurring": {"interval": "year"},
        }
    )

    def make(customer_id):
        return plan_switch_portal(stripe_client, customer_id, [monthly_price, annual])

    return annual, make


def test_the_portal_switches_monthly_to_annual_with_the_unused_month_credited(
    stripe_client, clock, subscribe, switching_portal
):
    annual, portal_for = switching_portal
    _, paid = subscribe(test_clock=clock.id)
    subscription = stripe_client.v1.subscriptions.retrieve(paid["subscription"])
    advance_clock(stripe_client, clock.id, START + 10 * DAY)  # 21 of January's 31 days unused
    portal = portal_for(subscription.customer)
    _, _, page = http(portal.url)
    assert "Switch to Masthead Annual ($50.00 per year)" in page
    mark = latest_event_id(stripe_client)

    status, _, _ = http(
        portal.url + "/action",
        {"subscription": subscription.id, "action": "switch", "price": annual.id},
    )

    assert status == 303
    events = events_since(stripe_client, mark)
    assert [e.type for e in events] == [
        "customer.subscription.updated",
        "invoice.created",
        "invoice.finalized",
        "invoice.paid",
        "invoice.payment_succeeded",
    ]
    assert events[0].data.previous_attributes["items"]["data"][0]["price"]["id"] == (
        subscription["items"].data[0].price.id
    )
    switched = stripe_client.v1.subscriptions.retrieve(subscription.id)
    item = switched["items"].data[0]
    assert (switched.status, item.price.id) == ("active", annual.id)
    assert (item.current_period_start, item.current_period_end) == (
        START + 10 * DAY,
        START + 10 * DAY + 365 * DAY,
    )
    invoice = stripe_client.v1.invoices.retrieve(switched.latest_invoice)
    credit = round(500 * 21 / 31)
    assert (invoice.billing_reason, invoice.amount_paid) == ("subscription_update", 5000 - credit)
    assert [line.amount for line in invoice.lines.data] == [5000, -credit]


def test_the_portal_offers_no_switch_its_configuration_does_not_allow(
    stripe_client, subscribe, portal_configuration, switching_portal
):
    annual, _ = switching_portal
    _, paid = subscribe()
    customer = stripe_client.v1.subscriptions.retrieve(paid["subscription"]).customer
    portal = stripe_client.v1.billing_portal.sessions.create(
        params={"customer": customer, "configuration": portal_configuration().id}
    )
    _, _, page = http(portal.url)
    assert "Switch to" not in page

    status, _, _ = http(
        portal.url + "/action",
        {"subscription": paid["subscription"], "action": "switch", "price": annual.id},
    )

    assert status == 403
    item = stripe_client.v1.subscriptions.retrieve(paid["subscription"])["items"].data[0]
    assert item.price.recurring.interval == "month"


def test_changes_to_a_subscription_on_a_test_clock_happen_at_the_clocks_time(
    stripe_client, clock, subscribe
):
    _, paid = subscribe(test_clock=clock.id)
    advance_clock(stripe_client, clock.id, START + 3 * DAY)

    cancelling = stripe_client.v1.subscriptions.update(
        paid["subscription"], params={"cancel_at_period_end": True}
    )
    cancelled = stripe_client.v1.subscriptions.cancel(paid["subscription"])

    assert cancelling.canceled_at == START + 3 * DAY
    assert (cancelled.canceled_at, cancelled.ended_at) == (START + 3 * DAY, START + 3 * DAY)
    latest = stripe_client.v1.events.list(params={"limit": 2}).data
    assert [e.created for e in latest] == [START + 3 * DAY] * 2
