"""What a reader and Masthead's billing code go through against the stand-in, end to end."""

import pytest
import stripe

from .conftest import API_KEY, control, http

pytestmark = pytest.mark.standin

SUCCESS_URL = "http://masthead.test/billing/success/?session_id=%s"


def wait_for_deliveries(standin):
    status, counts = control(standin, "/_standin/deliveries/wait")
    assert status == 200 and counts["pending"] == 0, counts
    return counts


def create_session(stripe_client, price, **extra):
    customer = stripe_client.v1.customers.create(params={"email": "reader@example.com"})
    return stripe_client.v1.checkout.sessions.create(
        params={
            "mode": "subscription",
            "customer": customer.id,
            "line_items": [{"price": price.id, "quantity": 1}],
            "success_url": SUCCESS_URL % "{CHECKOUT_SESSION_ID}",
            "cancel_url": "http://masthead.test/billing/plans/",
            **extra,
        }
    )


# ---- checkout ----------------------------------------------------------------


def test_the_checkout_page_shows_the_plan_price_card_field_and_cancel_link(
    stripe_client, monthly_price
):
    session = create_session(stripe_client, monthly_price)
    status, _, html = http(session.url)
    assert status == 200
    assert "Masthead Monthly" in html and "$5.00 per month" in html
    assert '<label for="card_number">Card number</label>' in html
    assert 'name="card_number"' in html and '<button type="submit">Subscribe</button>' in html
    assert 'href="http://masthead.test/billing/plans/"' in html


def test_paying_with_4242_activates_the_subscription_and_sends_signed_events(
    stripe_client, standin, monthly_price, webhook_receiver
):
    session = create_session(stripe_client, monthly_price, client_reference_id="42")

    status, headers, _ = http(session.url, {"card_number": "4242 4242 4242 4242"})

    assert status == 303
    assert headers["Location"] == SUCCESS_URL % session.id
    session = stripe_client.v1.checkout.sessions.retrieve(
        session.id, params={"expand": ["subscription"]}
    )
    assert (session.status, session.payment_status) == ("complete", "paid")
    assert session.client_reference_id == "42"
    assert session.subscription.status == "active"
    invoice = stripe_client.v1.invoices.retrieve(session.subscription.latest_invoice)
    assert (invoice.status, invoice.amount_paid) == ("paid", 500)

    wait_for_deliveries(standin)
    events = webhook_receiver.accepted_events()  # each one's signature verified
    assert [e.type for e in events][-6:] == [  # Stripe's order
        "customer.subscription.created",
        "invoice.created",
        "invoice.finalized",
        "invoice.paid",
        "invoice.payment_succeeded",
        "checkout.session.completed",
    ]
    assert events[-1].data.object.subscription == session.subscription.id


def test_a_trial_checkout_starts_trialing_without_a_charge(stripe_client, standin, subscribe):
    session, paid = subscribe(trial_days=14)

    subscription = stripe_client.v1.subscriptions.retrieve(paid["subscription"])
    assert subscription.status == "trialing"
    assert subscription.trial_end - subscription.trial_start == 14 * 86400
    session = stripe_client.v1.checkout.sessions.retrieve(session.id)
    assert session.payment_status == "no_payment_required"
    types = [e.type for e in stripe_client.v1.events.list(params={"limit": 7}).data]
    assert types == [  # newest first: the trial's £0 invoice is paid at once, as at Stripe
        "checkout.session.completed",
        "invoice.payment_succeeded",
        "invoice.paid",
        "invoice.finalized",
        "invoice.created",
        "customer.subscription.created",
        "customer.created",
    ]
    invoice = stripe_client.v1.invoices.retrieve(subscription.latest_invoice)
    assert (invoice.billing_reason, invoice.amount_paid, invoice.status) == (
        "subscription_create",
        0,
        "paid",
    )


@pytest.mark.parametrize(
    ("card", "message"),
    [
        ("4000000000000002", "Your card was declined."),
        ("4000000000009995", "Your card has insufficient funds."),
        ("1234", "Your card number is incorrect."),
    ],
)
def test_a_refused_card_shows_402_with_the_reason_and_subscribes_nobody(
    stripe_client, monthly_price, card, message
):
    session = create_session(stripe_client, monthly_price)

    status, _, html = http(session.url, {"card_number": card})

    assert status == 402
    assert f'<p class="error" role="alert" id="card-error">{message}</p>' in html
    assert stripe_client.v1.subscriptions.list(params={"status": "all"}).data == []
    assert stripe_client.v1.checkout.sessions.retrieve(session.id).status == "open"


def test_paying_without_a_customer_creates_one_from_the_email(
    stripe_client, standin, monthly_price
):
    session = stripe_client.v1.checkout.sessions.create(
        params={
            "mode": "subscription",
            "customer_email": "new@example.com",
            "line_items": [{"price": monthly_price.id, "quantity": 1}],
            "success_url": SUCCESS_URL % "{CHECKOUT_SESSION_ID}",
        }
    )

    control(standin, f"/_standin/checkout/{session.id}/pay", {"card": "4242424242424242"})

    session = stripe_client.v1.checkout.sessions.retrieve(
        session.id, params={"expand": ["customer"]}
    )
    assert session.customer.email == "new@example.com"
    assert session.customer_details.email == "new@example.com"


def test_a_completed_session_cannot_be_paid_twice(standin, subscribe):
    session, first = subscribe()

    status, second = control(
        standin, f"/_standin/checkout/{session.id}/pay", {"card": "4242424242424242"}
    )
    _, _, html = http(session.url)

    assert first["status"] == "complete" and first["redirect"] == SUCCESS_URL % session.id
    assert status == 409 and second["error"] == "This checkout session is already complete."
    assert "This checkout session is already complete." in html
    assert 'href="%s"' % (SUCCESS_URL % session.id) in html


# ---- API behaviour -----------------------------------------------------------


def test_replaying_an_idempotency_key_returns_the_same_customer(stripe_client):
    params = {"email": "ann@example.com"}
    first = stripe_client.v1.customers.create(
        params=params, options={"idempotency_key": "signup-ann"}
    )
    again = stripe_client.v1.customers.create(
        params=params, options={"idempotency_key": "signup-ann"}
    )

    assert again.id == first.id
    assert again.last_response.headers["Idempotent-Replayed"] == "true"
    assert len(stripe_client.v1.customers.list().data) == 1
    with pytest.raises(stripe.IdempotencyError):
        stripe_client.v1.customers.create(
            params={"email": "bob@example.com"}, options={"idempotency_key": "signup-ann"}
        )


def test_requests_without_a_test_key_are_refused(standin):
    no_key = stripe.StripeClient(
        "sk_live_nope", base_addresses={"api": standin}, max_network_retries=0
    )
    with pytest.raises(stripe.AuthenticationError):
        no_key.v1.customers.create(params={"email": "ann@example.com"})


def test_an_unknown_id_is_a_404_and_an_unknown_parameter_a_400(stripe_client):
    with pytest.raises(stripe.InvalidRequestError) as missing:
        stripe_client.v1.subscriptions.retrieve("sub_nope")
    with pytest.raises(stripe.InvalidRequestError) as unknown:
        stripe_client.v1.customers.create(params={"emial": "ann@example.com"})

    assert missing.value.http_status == 404 and missing.value.code == "resource_missing"
    assert unknown.value.http_status == 400 and unknown.value.param == "emial"


def test_the_module_level_api_base_works_too(standin):
    stripe.api_key, stripe.api_base = API_KEY, standin
    try:
        customer = stripe.Customer.create(email="ann@example.com")
        assert stripe.Customer.retrieve(customer.id).email == "ann@example.com"
    finally:
        stripe.api_key, stripe.api_base = None, stripe.DEFAULT_API_BASE


def test_prices_are_found_by_lookup_key_which_can_be_transferred(stripe_client, monthly_price):
    found = stripe_client.v1.prices.list(
        params={"lookup_keys": ["masthead_monthly"], "expand": ["data.product"]}
    )
    assert [p.id for p in found.data] == [monthly_price.id]
    assert found.data[0].product.name == "Masthead Monthly"

    with pytest.raises(stripe.InvalidRequestError):
        stripe_client.v1.prices.create(
            params={
                "product": monthly_price.product,
                "unit_amount": 600,
                "currency": "usd",
                "recurring": {"interval": "month"},
                "lookup_key": "masthead_monthly",
            }
        )
    newer = stripe_client.v1.prices.create(
        params={
            "product": monthly_price.product,
            "unit_amount": 600,
            "currency": "usd",
            "recurring": {"interval": "month"},
            "lookup_key": "masthead_monthly",
            "transfer_lookup_key": True,
        }
    )

    found = stripe_client.v1.prices.list(params={"lookup_keys": ["masthead_monthly"]})
    assert [p.id for p in found.data] == [newer.id]
    assert stripe_client.v1.prices.retrieve(monthly_price.id).lookup_key is None


def test_prices_are_looked_up_by_at_most_ten_lookup_keys_at_once(stripe_client, monthly_price):
    keys = ["masthead_monthly", *(f"absent_{n}" for n in range(9))]

    assert [p.id for p in stripe_client.v1.prices.list(params={"lookup_keys": keys}).data] == [
        monthly_price.id
    ]
    with pytest.raises(stripe.InvalidRequestError) as refused:
        stripe_client.v1.prices.list(params={"lookup_keys": [*keys, "the_eleventh"]})
    assert refused.value.param == "lookup_keys"
    assert "maximum 10" in refused.value.user_message


def test_events_are_listed_newest_first_and_filter_by_type(stripe_client, subscribe):
    subscribe()
    subscribe(email="bob@example.com")

    events = stripe_client.v1.events.list(params={"limit": 100}).data
    created = stripe_client.v1.events.list(params={"type": "customer.subscription.created"}).data
    first_page = stripe_client.v1.events.list(params={"limit": 2})
    second_page = stripe_client.v1.events.list(
        params={"limit": 2, "starting_after": first_page.data[-1].id}
    )

    assert events[0].type == "checkout.session.completed"
    assert events[-1].type == "product.created"
    assert [e.created for e in events] == sorted((e.created for e in events), reverse=True)
    assert len(created) == 2 and created[0].data.object.id != created[1].data.object.id
    assert [e.id for e in first_page.data + second_page.data] == [e.id for e in events[:4]]
    assert first_page.has_more


def test_a_failed_webhook_delivery_is_retried(stripe_client, standin, webhook_receiver):
    webhook_receiver.fail_next = 2

    customer = stripe_client.v1.customers.create(params={"email": "ann@example.com"})
    counts = wait_for_deliveries(standin)

    attempts = list(webhook_receiver.received)
    assert [d["failed"] for d in attempts] == [True, True, False]
    assert webhook_receiver.accepted_events()[0].data.object.id == customer.id
    assert counts["delivered"] == 1 and counts["failed"] == 0
    assert stripe_client.v1.events.list().data[0].pending_webhooks == 0


# ---- portal and cancellation -------------------------------------------------


def test_cancelling_at_period_end_in_the_portal_sends_an_updated_event(
    stripe_client, standin, subscribe, webhook_receiver, portal_configuration
):
    _, paid = subscribe()
    subscription = stripe_client.v1.subscriptions.retrieve(paid["subscription"])
    portal = stripe_client.v1.billing_portal.sessions.create(
        params={
            "customer": subscription.customer,
            "return_url": "http://masthead.test/account/",
            "configuration": portal_configuration("at_period_end").id,
        }
    )
    _, _, page = http(portal.url)
    assert "Masthead Monthly" in page and "Cancel at period end" in page
    assert "Cancel now" not in page  # the configuration cancels at period end only
    assert '<a href="http://masthead.test/account/">Return to site</a>' in page

    status, headers, _ = http(
        portal.url + "/action", {"subscription": subscription.id, "action": "cancel_at_period_end"}
    )

    assert status == 303 and headers["Location"].startswith(f"/portal/{portal.id}")
    subscription = stripe_client.v1.subscriptions.retrieve(subscription.id)
    assert subscription.cancel_at_period_end is True
    assert subscription.cancel_at == subscription["items"].data[0].current_period_end
    wait_for_deliveries(standin)
    updated = webhook_receiver.accepted_events()[-1]
    assert updated.type == "customer.subscription.updated"
    assert updated.data.object.cancel_at_period_end is True
    assert updated.data.previous_attributes.cancel_at_period_end is False
    assert "Resume" in http(portal.url)[2]


def test_resume_and_cancel_now_from_the_portal(stripe_client, subscribe, portal_configuration):
    _, paid = subscribe()
    sub_id = paid["subscription"]
    customer = stripe_client.v1.subscriptions.retrieve(sub_id).customer
    at_period_end, immediately = (
        stripe_client.v1.billing_portal.sessions.create(
            params={"customer": customer, "configuration": portal_configuration(mode).id}
        )
        for mode in ("at_period_end", "immediately")
    )

    for action in ("cancel_at_period_end", "resume"):
        http(at_period_end.url + "/action", {"subscription": sub_id, "action": action})
    assert stripe_client.v1.subscriptions.retrieve(sub_id).cancel_at_period_end is False
    assert "Cancel at period end" not in http(immediately.url)[2]
    http(immediately.url + "/action", {"subscription": sub_id, "action": "cancel_now"})

    subscription = stripe_client.v1.subscriptions.retrieve(sub_id)
    assert subscription.status == "canceled" and subscription.ended_at is not None
    assert (
        stripe_client.v1.events.list(params={"limit": 1}).data[0].type
        == "customer.subscription.deleted"
    )
    assert stripe_client.v1.subscriptions.list(params={"customer": customer}).data == []


def test_the_portal_cannot_touch_another_customers_subscription(
    stripe_client, subscribe, portal_configuration
):
    _, paid = subscribe()
    stranger = stripe_client.v1.customers.create(params={"email": "mallory@example.com"})
    portal = stripe_client.v1.billing_portal.sessions.create(
        params={"customer": stranger.id, "configuration": portal_configuration("immediately").id}
    )

    status, _, _ = http(
        portal.url + "/action", {"subscription": paid["subscription"], "action": "cancel_now"}
    )

    assert status == 400
    assert stripe_client.v1.subscriptions.retrieve(paid["subscription"]).status == "active"


def test_the_portal_offers_only_the_cancellation_its_configuration_allows(
    stripe_client, subscribe, portal_configuration
):
    _, paid = subscribe()
    customer = stripe_client.v1.subscriptions.retrieve(paid["subscription"]).customer
    portal = stripe_client.v1.billing_portal.sessions.create(
        params={"customer": customer, "configuration": portal_configuration("at_period_end").id}
    )

    status, _, _ = http(
        portal.url + "/action", {"subscription": paid["subscription"], "action": "cancel_now"}
    )

    assert status == 403
    assert stripe_client.v1.subscriptions.retrieve(paid["subscription"]).status == "active"


def test_the_api_can_cancel_at_period_end_and_cancel_now(stripe_client, subscribe):
    _, paid = subscribe()
    sub_id = paid["subscription"]

    updated = stripe_client.v1.subscriptions.update(sub_id, params={"cancel_at_period_end": True})
    canceled = stripe_client.v1.subscriptions.cancel(sub_id)

    assert updated.cancel_at_period_end is True and updated.canceled_at is not None
    assert canceled.status == "canceled"
    with pytest.raises(stripe.InvalidRequestError):
        stripe_client.v1.subscriptions.update(sub_id, params={"cancel_at_period_end": False})


# ---- the subscription clock --------------------------------------------------


def advance(standin, sub_id, action):
    status, body = control(standin, f"/_standin/subscriptions/{sub_id}/advance", {"action": action})
    assert status == 200, body
    return body


def test_a_failed_renewal_makes_the_subscription_past_due_until_paid(
    stripe_client, standin, subscribe, webhook_receiver
):
    _, paid = subscribe()
    sub_id = paid["subscription"]

    advance(standin, sub_id, "fail_renewal")

    subscription = stripe_client.v1.subscriptions.retrieve(sub_id)
    assert subscription.status == "past_due"
    assert stripe_client.v1.invoices.retrieve(subscription.latest_invoice).status == "open"
    wait_for_deliveries(standin)
    assert [e.type for e in webhook_receiver.accepted_events()][-2:] == [
        "invoice.payment_failed",
        "customer.subscription.updated",
    ]

    advance(standin, sub_id, "pay_failed_invoice")
    assert stripe_client.v1.subscriptions.retrieve(sub_id).status == "active"
    assert stripe_client.v1.invoices.retrieve(subscription.latest_invoice).status == "paid"


def test_renewing_moves_the_period_on_by_one_interval(stripe_client, standin, subscribe):
    _, paid = subscribe()
    before = stripe_client.v1.subscriptions.retrieve(paid["subscription"])["items"].data[0]

    after = advance(standin, paid["subscription"], "renew")["items"]["data"][0]

    assert after["current_period_start"] == before.current_period_end
    assert 28 * 86400 <= after["current_period_end"] - after["current_period_start"] <= 31 * 86400
    types = [e.type for e in stripe_client.v1.events.list(params={"limit": 5}).data]
    assert types == [  # newest first
        "invoice.payment_succeeded",
        "invoice.paid",
        "invoice.finalized",
        "invoice.created",
        "customer.subscription.updated",
    ]


def test_ending_a_trial_charges_and_activates(stripe_client, standin, subscribe):
    _, paid = subscribe(trial_days=7)

    subscription = advance(standin, paid["subscription"], "end_trial")

    assert subscription["status"] == "active"
    assert stripe_client.v1.invoices.retrieve(subscription["latest_invoice"]).amount_paid == 500
    with pytest.raises(AssertionError):
        advance(standin, paid["subscription"], "end_trial")  # no longer trialing


def test_the_period_end_cancels_a_subscription_set_to_cancel(stripe_client, standin, subscribe):
    _, paid = subscribe()
    stripe_client.v1.subscriptions.update(
        paid["subscription"], params={"cancel_at_period_end": True}
    )

    subscription = advance(standin, paid["subscription"], "end_period")

    assert subscription["status"] == "canceled"
    assert subscription["ended_at"] == subscription["items"]["data"][0]["current_period_end"]
    assert (
        stripe_client.v1.events.list(params={"limit": 1}).data[0].type
        == "customer.subscription.deleted"
    )


def test_the_clock_can_be_moved_forward(stripe_client, standin):
    _, before = control(standin, "/_standin/clock", method="GET")
    control(standin, "/_standin/clock", {"advance_seconds": 86400})

    customer = stripe_client.v1.customers.create(params={"email": "ann@example.com"})

    assert customer.created >= before["now"] + 86400


# ---- listing many subscriptions ----------------------------------------------------------


def test_subscriptions_list_pages_with_limit_and_starting_after_and_filters_by_status(
    stripe_client, standin, monthly_price
):
    status, made = control(
        standin, "/_standin/subscriptions/bulk", {"count": 250, "price": monthly_price.id}
    )
    assert status == 200 and len(made["subscriptions"]) == 250
    ended = made["subscriptions"][7]["id"]
    stripe_client.v1.subscriptions.cancel(ended)

    seen, params = [], {"status": "all", "limit": 100}
    while True:
        page = stripe_client.v1.subscriptions.list(params=params)
        seen += [s.id for s in page.data]
        if not page.has_more:
            break
        params["starting_after"] = page.data[-1].id

    assert seen == [s["id"] for s in made["subscriptions"]]  # newest first, each once
    default = stripe_client.v1.subscriptions.list(params={"limit": 100}).auto_paging_iter()
    assert ended not in {s.id for s in default}  # Stripe's default leaves canceled ones out
    assert [s.id for s in stripe_client.v1.subscriptions.list(params={"status": "ended"})] == [
        ended
    ]
    with pytest.raises(stripe.InvalidRequestError, match="limit"):  # 1 to 100, as at Stripe
        stripe_client.v1.subscriptions.list(params={"status": "all", "limit": 101})
