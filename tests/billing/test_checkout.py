"""Subscribe (/billing/checkout/, billing/views.py and services): one Customer per member, one
Checkout Session in use, never a second subscription; paying opens the premium articles at once.

Against the stand-in; an outage is Stripe's address pointing at a closed port on 127.0.0.1.
"""

import socket
import threading
import time
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import time_machine
from django.apps import apps
from django.db import connection
from django.test import Client
from django.utils import timezone
from hypothesis import given

from accounts import mail
from accounts.models import SentMail, TrialClaim
from billing.models import CheckoutSession, Customer, Subscription
from billing.services import CHECKOUT_CLICK_WINDOW
from tests.billing.conftest import (
    DECLINED_CARD,
    checkout_url,
    control,
    pay,
    start_checkout,
)
from tests.conftest import SECRET_SENTENCES
from tests.hostile import EXAMPLES, form_data, row_counts

OUTAGE = "We couldn&#x27;t reach our payment provider. Nothing was charged; please try again."
PREMIUM = SECRET_SENTENCES["premium"]


def stripe_customers(stripe_client):
    return stripe_client.v1.customers.list(params={"limit": 100}).data


def test_a_signed_out_reader_is_sent_to_sign_in_first(client, stripe_plans):
    response = client.post("/billing/checkout/", {"plan": stripe_plans["month"].pk})

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/pricing/"  # the POST cannot be replayed


def test_subscribe_is_a_post_only(client, oscar, stripe_plans):
    assert client.get("/billing/checkout/").status_code == 405


def test_paying_with_a_good_card_opens_premium_articles_at_once_and_after_the_webhook(
    client, make_member, stripe_plans, articles, standin, stripe_events, mailoutbox
):
    oscar = make_member("oscar@example.com", trial="over")
    client.force_login(oscar)
    assert PREMIUM not in client.get("/articles/premium-article/").content.decode()

    session_url = checkout_url(client, stripe_plans["month"])
    assert session_url.startswith(standin + "/checkout/cs_")
    status, paid = pay(standin, session_url)
    assert status == 200, paid

    # The reader comes back to the success page before any webhook: access is there already.
    success = client.get(paid["redirect"].replace("http://testserver", ""))
    assert success.status_code == 200
    assert "You're subscribed" in success.content.decode()
    assert "Checkout" not in success.content.decode()
    assert PREMIUM in client.get("/articles/premium-article/").content.decode()

    assert all(code == 200 for code in stripe_events.deliver())
    subscription = Subscription.objects.get(user=oscar)
    assert (subscription.status, subscription.plan, subscription.amount) == (
        "active",
        stripe_plans["month"],
        1200,
    )
    assert PREMIUM in client.get("/articles/premium-article/").content.decode()
    account = client.get("/account/").content.decode()
    assert "Monthly" in account and "Next billing date" in account and "£12.00" in account
    started = SentMail.objects.get(user=oscar, kind="subscription_started")
    assert mail.deliver_recorded(started.key)
    assert "on the Monthly plan (£12.00)" in mailoutbox[-1].body and mailoutbox[-1].to == [
        "oscar@example.com"
    ]


def test_a_declined_card_gives_no_access_and_says_why(
    client, make_member, stripe_plans, articles, standin, stripe_events
):
    oscar = make_member("oscar@example.com", trial="over")
    client.force_login(oscar)
    session_url = checkout_url(client, stripe_plans["month"])

    status, result = pay(standin, session_url, DECLINED_CARD)

    assert status == 402
    assert result["error"] == "Your card was declined."
    stripe_events.deliver()
    assert not Subscription.objects.filter(user=oscar).exists()
    html = client.get("/articles/premium-article/").content.decode()
    assert PREMIUM not in html and 'class="paywall"' in html


def test_the_member_record_holds_one_customer_whose_id_is_stripes(
    client, make_member, stripe_plans, standin, stripe_client
):
    oscar = make_member("oscar@example.com", trial="over")
    client.force_login(oscar)
    checkout_url(client, stripe_plans["month"])

    customer = Customer.objects.get(user=oscar)
    at_stripe = stripe_client.v1.customers.retrieve(customer.stripe_customer_id)
    assert at_stripe.email == "oscar@example.com" and at_stripe.metadata["user_id"] == str(oscar.pk)


def test_the_checkout_session_is_for_this_member_and_plan_with_our_return_addresses(
    client, oscar, stripe_plans, stripe_client
):
    response = client.post("/billing/checkout/", {"plan": stripe_plans["year"].pk})

    session_id = urlsplit(response["Location"]).path.rsplit("/", 1)[1]
    session = stripe_client.v1.checkout.sessions.retrieve(session_id)
    assert session.mode == "subscription"
    assert session.client_reference_id == str(oscar.pk)
    assert session.customer == Customer.objects.get(user=oscar).stripe_customer_id
    assert (
        session.success_url == "http://testserver/billing/success/?session_id={CHECKOUT_SESSION_ID}"
    )
    assert session.cancel_url == "http://testserver/pricing/?checkout=cancelled"
    assert session.allow_promotion_codes is True
    assert session.amount_total == 9900


def test_a_double_click_makes_one_customer_and_reuses_one_session(
    client, oscar, stripe_plans, stripe_client
):
    first = client.post("/billing/checkout/", {"plan": stripe_plans["month"].pk})
    second = client.post("/billing/checkout/", {"plan": stripe_plans["month"].pk})

    assert first["Location"] == second["Location"]
    assert Customer.objects.filter(user=oscar).count() == 1
    assert len(stripe_customers(stripe_client)) == 1
    assert CheckoutSession.objects.filter(user=oscar).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_subscribe_requests_at_once_make_one_customer_and_one_session(
    make_member, stripe_plans, stripe_client
):
    if connection.vendor != "postgresql":
        pytest.skip(
            "concurrent requests need row locks: SQLite serialises whole transactions instead"
        )
    oscar = make_member("oscar@example.com", trial="over")
    start = threading.Barrier(2)
    locations = []

    def click():
        try:
            browser = Client()
            browser.force_login(oscar)
            start.wait(timeout=10)
            locations.append(
                browser.post("/billing/checkout/", {"plan": stripe_plans["month"].pk})["Location"]
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=click) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert len(locations) == 2 and locations[0] == locations[1]
    assert Customer.objects.filter(user=oscar).count() == 1
    assert len(stripe_customers(stripe_client)) == 1
    assert CheckoutSession.objects.filter(user=oscar).count() == 1


def test_a_member_with_a_live_subscription_is_sent_to_their_account_not_to_checkout(
    client, oscar, stripe_plans, standin, stripe_client
):
    pay(standin, client.post("/billing/checkout/", {"plan": stripe_plans["month"].pk})["Location"])
    client.get("/billing/success/?session_id=" + CheckoutSession.objects.get().stripe_session_id)
    assert Subscription.objects.get(user=oscar).status == "active"

    response = client.post("/billing/checkout/", {"plan": stripe_plans["year"].pk}, follow=True)

    assert response.redirect_chain == [("/account/", 302)]
    assert "You already have a subscription" in response.content.decode()
    assert CheckoutSession.objects.filter(user=oscar).count() == 1
    assert len(control(standin, "/_standin/state", method="GET")[1]["checkout_sessions"]) == 1


def test_choosing_another_plan_closes_the_first_session_so_two_tabs_cannot_pay_twice(
    client, oscar, stripe_plans, standin
):
    monthly = start_checkout(client, stripe_plans["month"])
    annual = start_checkout(client, stripe_plans["year"])

    assert annual != monthly
    status, result = pay(standin, f"{standin}/checkout/{monthly}")
    assert status == 409 and result["error"] == "This checkout session has expired."
    assert list(CheckoutSession.objects.values_list("stripe_session_id", flat=True)) == [annual]


def test_choosing_another_plan_after_paying_for_one_goes_to_the_account(
    client, oscar, stripe_plans, standin
):
    monthly = start_checkout(client, stripe_plans["month"])
    pay(
        standin, f"{standin}/checkout/{monthly}"
    )  # paid; the reader went back instead of to the success page

    response = client.post("/billing/checkout/", {"plan": stripe_plans["year"].pk}, follow=True)

    assert response.redirect_chain == [("/account/", 302)]
    assert "Subscribed: Monthly" in response.content.decode()
    assert CheckoutSession.objects.count() == 1


def test_stripe_unreachable_gives_a_clear_message_and_writes_nothing(
    client, oscar, stripe_plans, closed_port_base
):
    response = client.post("/billing/checkout/", {"plan": stripe_plans["month"].pk}, follow=True)

    assert response.redirect_chain == [("/pricing/", 302)]
    assert OUTAGE in response.content.decode()
    assert not Customer.objects.exists()
    assert not CheckoutSession.objects.exists()


def test_a_stripe_that_accepts_and_never_answers_times_out_with_the_same_message(
    client, oscar, stripe_plans, stripe_settings
):
    # A listening socket nobody reads: the connection opens, no answer ever comes.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        stripe_settings.STRIPE_API_BASE = f"http://127.0.0.1:{silent.getsockname()[1]}"
        stripe_settings.STRIPE_TIMEOUT_SECONDS = 1
        stripe_settings.STRIPE_NETWORK_RETRIES = 0

        started = time.monotonic()
        response = client.post(
            "/billing/checkout/", {"plan": stripe_plans["month"].pk}, follow=True
        )
        waited = time.monotonic() - started

    # Answered before gunicorn's 30 s would kill the request (the SDK's own limit is 80 s).
    assert waited < 30
    assert response.redirect_chain == [("/pricing/", 302)]
    assert OUTAGE in response.content.decode()
    assert not Customer.objects.exists()
    assert not CheckoutSession.objects.exists()


def test_stripe_failing_after_making_the_customer_keeps_only_that_customer_and_the_retry_reuses_it(
    client, oscar, stripe_plans, stripe_client, settings
):
    # The first attempt reached Stripe and made the customer, then failed before our write.
    made = stripe_client.v1.customers.create(
        params={"email": oscar.email, "metadata": {"user_id": str(oscar.pk)}},
        options={"idempotency_key": f"{settings.STRIPE_IDEMPOTENCY_PREFIX}customer-{oscar.pk}"},
    )
    stripe_client.v1.prices.update(stripe_plans["month"].stripe_price_id, params={"active": False})

    response = client.post("/billing/checkout/", {"plan": stripe_plans["month"].pk}, follow=True)
    assert response.redirect_chain == [("/pricing/", 302)]
    assert OUTAGE in response.content.decode()
    # What Stripe really made is kept (its idempotency key gave the same one back), nothing else.
    assert Customer.objects.get(user=oscar).stripe_customer_id == made.id
    assert not CheckoutSession.objects.exists()

    stripe_client.v1.prices.update(stripe_plans["month"].stripe_price_id, params={"active": True})
    response = client.post("/billing/checkout/", {"plan": stripe_plans["month"].pk})
    assert response.status_code == 302
    assert Customer.objects.get(user=oscar).stripe_customer_id == made.id
    assert [c.id for c in stripe_customers(stripe_client)] == [made.id]


def test_a_customer_stripe_no_longer_knows_is_replaced(client, oscar, stripe_plans, stripe_client):
    Customer.objects.create(user=oscar, stripe_customer_id="cus_deleted_at_stripe")

    response = client.post("/billing/checkout/", {"plan": stripe_plans["month"].pk})

    assert response.status_code == 302
    customer = Customer.objects.get(user=oscar)
    assert customer.stripe_customer_id != "cus_deleted_at_stripe"
    assert (
        stripe_client.v1.customers.retrieve(customer.stripe_customer_id).email
        == "oscar@example.com"
    )


def test_a_plan_not_yet_in_stripe_says_so_and_writes_nothing(client, oscar, plans, standin):
    response = client.post("/billing/checkout/", {"plan": plans[0].pk}, follow=True)

    assert (
        "Subscriptions to this plan are not open yet. Nothing was charged"
        in response.content.decode()
    )
    assert not Customer.objects.exists()


def test_an_inactive_or_unknown_plan_sends_the_reader_back_to_the_plans(
    client, oscar, stripe_plans
):
    stripe_plans["month"].active = False
    stripe_plans["month"].save()

    for plan in [stripe_plans["month"].pk, "nonsense", "²", ""]:
        response = client.post("/billing/checkout/", {"plan": plan}, follow=True)
        assert response.redirect_chain == [("/pricing/", 302)]
        assert "Choose one of the plans below to subscribe." in response.content.decode()
    assert not Customer.objects.exists()


@EXAMPLES
@given(data=form_data(["plan"]))
def test_any_input_to_checkout_sends_the_reader_back_to_the_plans_and_writes_nothing(
    client, make_member, plans, fresh_cache, data
):
    User = apps.get_model("accounts", "User")
    oscar = User.objects.filter(email="oscar@example.com").first() or make_member(
        "oscar@example.com", trial="over"
    )
    client.force_login(oscar)
    if data.get("plan") in {str(plan.pk) for plan in plans}:
        data["plan"] = "not-a-plan"  # a valid plan would (rightly) go on to Stripe
    before = row_counts(client, "/pricing/")
    response = client.post("/billing/checkout/", data)
    assert response.status_code == 302
    assert response["Location"] == "/pricing/"
    assert row_counts(client, "/") == before


# ---- TRIAL_MODE=card ----------------------------------------------------------------


@pytest.fixture
def card_trials(settings, stripe_plans):
    settings.TRIAL_MODE = "card"
    for plan in stripe_plans.values():
        plan.trial_days = 14
        plan.save()
    return stripe_plans


def test_in_card_mode_checkout_starts_the_plans_trial_once_per_person(
    client, make_member, card_trials, standin, stripe_client
):
    newcomer = make_member("new.comer@gmail.com")
    client.force_login(newcomer)
    session_id = start_checkout(client, card_trials["month"])
    pay(standin, f"{standin}/checkout/{session_id}")
    client.get(f"/billing/success/?session_id={session_id}")

    subscription = Subscription.objects.get(user=newcomer)
    assert subscription.status == "trialing" and subscription.trial_end is not None
    assert TrialClaim.objects.count() == 1

    # The same person (Gmail ignores dots) with a second account gets no second trial.
    again = make_member("newcomer@gmail.com")
    client.force_login(again)
    session_id = start_checkout(client, card_trials["month"])
    pay(standin, f"{standin}/checkout/{session_id}")
    client.get(f"/billing/success/?session_id={session_id}")
    assert Subscription.objects.get(user=again).status == "active"


# ---- no lock held while Stripe is called: idempotency keys absorb repeats ----------------


def test_a_repeated_click_whose_first_session_was_never_stored_gets_that_session_back(
    client, oscar, stripe_plans, standin
):
    first = checkout_url(client, stripe_plans["month"])
    CheckoutSession.objects.all().delete()  # the first request died after Stripe answered it

    second = checkout_url(client, stripe_plans["month"])

    assert second == first  # Stripe's answer to the same idempotency key
    assert len(control(standin, "/_standin/state", method="GET")[1]["checkout_sessions"]) == 1
    assert CheckoutSession.objects.get().url == first


def test_the_shared_key_lasts_a_short_window_only(client, oscar, stripe_plans, standin):
    first = checkout_url(client, stripe_plans["month"])
    CheckoutSession.objects.all().delete()  # so only Stripe's idempotency could answer the same

    with time_machine.travel(timezone.now() + CHECKOUT_CLICK_WINDOW + timedelta(seconds=1)):
        later = checkout_url(client, stripe_plans["month"])

    assert later != first
    assert len(control(standin, "/_standin/state", method="GET")[1]["checkout_sessions"]) == 2


def test_coming_back_to_a_plan_whose_session_was_closed_gets_a_new_session_that_can_be_paid(
    client, oscar, stripe_plans, standin
):
    monthly = start_checkout(client, stripe_plans["month"])
    start_checkout(client, stripe_plans["year"])  # closes the monthly one

    again = start_checkout(client, stripe_plans["month"])  # within the same click window

    assert again != monthly
    status, paid = pay(standin, f"{standin}/checkout/{again}")
    assert status == 200, paid
    assert list(CheckoutSession.objects.values_list("stripe_session_id", flat=True)) == [again]


@pytest.mark.django_db(transaction=True)
def test_subscribe_to_two_plans_at_once_leaves_one_session_that_can_be_paid(
    make_member, stripe_plans, standin
):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent requests need PostgreSQL: SQLite serialises whole transactions")
    oscar = make_member("oscar@example.com", trial="over")
    start = threading.Barrier(2)
    locations = []

    def click(plan):
        try:
            browser = Client()
            browser.force_login(oscar)
            start.wait(timeout=10)
            locations.append(browser.post("/billing/checkout/", {"plan": plan.pk})["Location"])
        finally:
            connection.close()

    threads = [threading.Thread(target=click, args=(p,)) for p in stripe_plans.values()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    sessions = control(standin, "/_standin/state", method="GET")[1]["checkout_sessions"]
    payable = [s for s in sessions.values() if s["status"] == "open"]
    assert len(payable) == 1, [s["status"] for s in sessions.values()]
    assert CheckoutSession.objects.get().stripe_session_id == payable[0]["id"]
    assert payable[0]["url"] in locations


def test_idempotency_keys_carry_the_sites_prefix(client, oscar, stripe_plans, standin, settings):
    settings.STRIPE_IDEMPOTENCY_PREFIX = "staging.example.com:"
    before = set(control(standin, "/_standin/state", method="GET")[1]["idempotency_keys"])

    checkout_url(client, stripe_plans["month"])

    keys = set(control(standin, "/_standin/state", method="GET")[1]["idempotency_keys"]) - before
    assert f"staging.example.com:customer-{oscar.pk}" in keys
    assert any(
        k.startswith(f"staging.example.com:checkout-{oscar.pk}-{stripe_plans['month'].pk}-")
        for k in keys
    )
    assert len(keys) == 2


def test_two_sites_sharing_a_stripe_account_never_get_each_others_customer(
    client, oscar, stripe_plans, stripe_client, settings
):
    settings.STRIPE_IDEMPOTENCY_PREFIX = "example.com:"
    checkout_url(client, stripe_plans["month"])
    production = Customer.objects.get(user=oscar).stripe_customer_id
    # The staging copy: its own database, where member number oscar.pk is someone else.
    CheckoutSession.objects.all().delete()
    Customer.objects.all().delete()
    settings.STRIPE_IDEMPOTENCY_PREFIX = "staging.example.com:"

    checkout_url(client, stripe_plans["month"])

    staging = Customer.objects.get(user=oscar).stripe_customer_id
    assert staging != production
    assert {c.id for c in stripe_customers(stripe_client)} == {production, staging}


def test_the_default_prefix_is_the_sites_address():
    from django.conf import settings

    expected = settings.SITE_URL.split("://", 1)[1] + ":"
    assert expected == settings.STRIPE_IDEMPOTENCY_PREFIX
