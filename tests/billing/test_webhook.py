"""Stripe's webhook: only Stripe gets in, each event counts once, in any order, and failures are retried.

Events are the stand-in's own (shaped like Stripe's, see tests/integration/stripe_standin/test_shapes.py),
posted with a really computed signature; at the end, the stand-in posts them itself to a running site.
"""

import json
import threading
import time
from datetime import timedelta
from io import StringIO

import pytest
import stripe
import time_machine
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from accounts import mail
from accounts.models import Membership, SentMail
from billing import tasks
from billing.models import Plan, Subscription, WebhookEvent
from tests.billing.conftest import (
    WEBHOOK_SECRET,
    advance,
    checkout_url,
    control,
    pay,
    post_event,
)
from tests.conftest import SECRET_SENTENCES
from tests.hostile import EXAMPLES, hostile_text, row_counts

PREMIUM = SECRET_SENTENCES["premium"]


def subscribe(client, member, plan, standin):
    client.force_login(member)
    session_url = client.post("/billing/checkout/", {"plan": plan.pk})["Location"]
    status, paid = pay(standin, session_url)
    assert status == 200, paid
    return paid["subscription"]


def subscription_created_event(stripe_events):
    return next(e for e in stripe_events.pending() if e["type"] == "customer.subscription.created")


# ---- signatures ----------------------------------------------------------------


@pytest.fixture
def signed_event(client, oscar, stripe_plans, standin, stripe_events):
    subscribe(client, oscar, stripe_plans["month"], standin)
    return json.dumps(subscription_created_event(stripe_events))


def good_signature(payload, **kwargs):
    return stripe.WebhookSignature.generate_signature_header(payload, WEBHOOK_SECRET, **kwargs)


@pytest.mark.parametrize(
    "tamper",
    [
        "missing header",
        "wrong secret",
        "body changed by one byte",
        "stale timestamp",
        "garbage header",
    ],
)
def test_an_event_that_is_not_provably_from_stripe_gets_400_and_changes_nothing(
    client, signed_event, tamper
):
    payload, signature = signed_event, good_signature(signed_event)
    if tamper == "missing header":
        signature = ""
    elif tamper == "wrong secret":
        signature = stripe.WebhookSignature.generate_signature_header(payload, "whsec_someone_else")
    elif tamper == "body changed by one byte":
        payload = payload.replace('"active"', '"activf"', 1)
        assert payload != signed_event
    elif tamper == "stale timestamp":
        signature = good_signature(
            payload, timestamp=int(time.time()) - 301
        )  # the SDK's tolerance is 300 s
    elif tamper == "garbage header":
        signature = "t=abc,v1=def"

    response = post_event(client, payload, signature=signature)

    assert response.status_code == 400
    assert not WebhookEvent.objects.exists()
    assert not Subscription.objects.exists()
    assert not SentMail.objects.filter(kind="subscription_started").exists()


def test_before_the_webhook_secret_is_set_every_event_gets_400_and_changes_nothing(
    client, signed_event, settings
):
    # Going live: stripe_setup made the endpoint (so Stripe posts), the secret is not set yet.
    signature = good_signature(signed_event)
    settings.STRIPE_WEBHOOK_SECRET = ""

    response = post_event(client, signed_event, signature=signature)

    assert response.status_code == 400  # Stripe keeps it and retries once the secret is set
    assert not WebhookEvent.objects.exists()
    assert not Subscription.objects.exists()


@EXAMPLES
@given(
    body=st.binary(max_size=2000),
    signature=st.one_of(st.none(), hostile_text, st.just("t=1,v1=deadbeef")),
)
def test_the_stripe_webhook_refuses_garbage(client, db, body, signature):
    headers = (
        {}
        if signature is None
        else {
            "HTTP_STRIPE_SIGNATURE": signature.replace("\x00", "")
            .encode("utf-8", "ignore")
            .decode("latin-1")
        }
    )
    before = row_counts(client, "/pricing/")
    response = client.post(
        "/billing/stripe/webhook/", body, content_type="application/json", **headers
    )
    assert response.status_code == 400
    assert row_counts(client, "/") == before


@pytest.mark.parametrize("body", ["[]", '"x"', "{}", '{"id": "evt_1"}', '{"type": "invoice.paid"}'])
def test_a_signed_body_that_is_no_event_gets_400_and_is_recorded_for_staff(
    client, client_for, superuser, stripe_settings, body
):
    response = post_event(client, body)
    again = post_event(client, body)  # Stripe retries what got a 400

    assert response.status_code == again.status_code == 400
    assert response.content == b"Not a Stripe event."
    row = WebhookEvent.objects.get()  # one row, however often it comes
    assert row.type == "(malformed)" and row.payload == {"body": body}
    assert row.last_error.startswith("Malformed: ") and row.processed_at is not None
    assert not Subscription.objects.exists()
    listing = client_for(superuser).get("/admin/billing/webhookevent/?type=%28malformed%29")
    assert "Malformed: " in listing.content.decode()


def test_a_genuine_event_is_recorded_and_applied(client, signed_event):
    response = post_event(client, signed_event, signature=good_signature(signed_event))

    assert response.status_code == 200
    event = WebhookEvent.objects.get()
    assert (
        event.type == "customer.subscription.created" and event.processed_at and event.attempts == 1
    )
    assert Subscription.objects.get().status == "active"


def test_event_types_we_do_not_handle_get_200_so_stripe_stops_sending_them(db, client, standin):
    event = {
        "id": "evt_unhandled",
        "object": "event",
        "type": "customer.tax_id.created",
        "created": int(time.time()),
        "data": {"object": {"id": "txi_1", "object": "tax_id"}},
    }

    assert post_event(client, event).status_code == 200
    assert WebhookEvent.objects.get().processed_at is not None


def test_only_the_webhook_escapes_csrf(client, oscar, stripe_plans):
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(oscar)

    assert (
        csrf_client.post("/billing/checkout/", {"plan": stripe_plans["month"].pk}).status_code
        == 403
    )
    assert csrf_client.post("/billing/portal/").status_code == 403
    assert (
        csrf_client.post(
            "/billing/stripe/webhook/", data="{}", content_type="application/json"
        ).status_code
        == 400
    )


# ---- once, and retried ---------------------------------------------------------------


def test_the_same_event_twice_in_a_row_changes_the_state_once_and_mails_once(
    client, oscar, stripe_plans, standin, stripe_events
):
    subscribe(client, oscar, stripe_plans["month"], standin)
    event = subscription_created_event(stripe_events)

    assert post_event(client, event).status_code == 200
    first_sync = Subscription.objects.get().synced_at
    assert post_event(client, event).status_code == 200

    assert Subscription.objects.get().synced_at == first_sync  # not applied again
    assert WebhookEvent.objects.get().attempts == 1
    assert SentMail.objects.filter(user=oscar, kind="subscription_started").count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_same_event_delivered_twice_at_once_changes_the_state_once_and_mails_once(
    make_member, stripe_plans, standin, stripe_events
):
    if connection.vendor != "postgresql":
        pytest.skip(
            "concurrent deliveries need row locks: SQLite serialises whole transactions instead"
        )
    oscar = make_member("oscar@example.com", trial="over")
    subscribe(Client(), oscar, stripe_plans["month"], standin)
    event = subscription_created_event(stripe_events)
    start = threading.Barrier(2)
    codes = []

    def deliver():
        try:
            start.wait(timeout=10)
            codes.append(post_event(Client(), event).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    # The second either finds it done (200) or being applied (409, so Stripe delivers it again
    # in case the first fails); nothing was locked while the first called Stripe.
    assert sorted(codes) in ([200, 200], [200, 409])
    assert post_event(Client(), event).status_code == 200  # Stripe's retry of the 409
    assert Subscription.objects.count() == 1
    assert WebhookEvent.objects.get().attempts == 1
    assert SentMail.objects.filter(user=oscar, kind="subscription_started").count() == 1


def test_a_failing_handler_answers_500_keeps_the_event_and_a_retry_applies_it_once(
    client, oscar, stripe_plans, standin, stripe_events, closed_port_base, stripe_settings
):
    stripe_settings.STRIPE_API_BASE = standin
    subscribe(client, oscar, stripe_plans["month"], standin)
    event = subscription_created_event(stripe_events)
    stripe_settings.STRIPE_API_BASE = closed_port_base  # Stripe unreachable: the re-fetch fails

    assert post_event(client, event).status_code == 500
    row = WebhookEvent.objects.get()
    assert row.processed_at is None and row.attempts == 1 and "APIConnectionError" in row.last_error
    assert not Subscription.objects.exists()
    assert not SentMail.objects.filter(kind="subscription_started").exists()

    stripe_settings.STRIPE_API_BASE = standin  # Stripe retries once it is back
    assert post_event(client, event).status_code == 200
    assert post_event(client, event).status_code == 200

    row.refresh_from_db()
    assert row.processed_at is not None and row.attempts == 2 and row.last_error == ""
    assert Subscription.objects.get().status == "active"
    assert SentMail.objects.filter(user=oscar, kind="subscription_started").count() == 1


def test_an_event_being_applied_elsewhere_gets_409_so_stripe_delivers_it_again(
    client, oscar, stripe_plans, standin, stripe_events
):
    subscribe(client, oscar, stripe_plans["month"], standin)
    event = subscription_created_event(stripe_events)
    stripe_events.deliver()
    # What a webhook request applying it right now holds: a claim, not a lock.
    row = WebhookEvent.objects.get(stripe_event_id=event["id"])
    WebhookEvent.objects.filter(pk=row.pk).update(
        processed_at=None, claimed_until=timezone.now() + timedelta(minutes=5)
    )

    assert post_event(client, event).status_code == 409
    assert tasks.stripe_reconcile_task() == 0  # nor does the reconcile job step in
    WebhookEvent.objects.filter(pk=row.pk).update(claimed_until=None, processed_at=timezone.now())
    assert post_event(client, event).status_code == 200


def test_an_event_whose_process_died_half_way_is_applied_by_the_reconcile_job_once(
    client, oscar, stripe_plans, standin, stripe_events, eager_tasks
):
    subscribe(client, oscar, stripe_plans["month"], standin)
    event = subscription_created_event(stripe_events)
    # A worker claimed it and was killed: the row says so, with a claim that has run out.
    died = WebhookEvent.objects.create(
        stripe_event_id=event["id"],
        type=event["type"],
        payload=event,
        attempts=1,
        claimed_until=timezone.now() - timedelta(seconds=1),
    )

    tasks.stripe_reconcile_task()

    died.refresh_from_db()
    assert died.processed_at is not None and died.claimed_until is None and died.attempts == 2
    assert Subscription.objects.get(user=oscar).status == "active"
    assert SentMail.objects.filter(user=oscar, kind="subscription_started").count() == 1
    assert post_event(client, event).status_code == 200  # Stripe's own retry, later: nothing again
    assert WebhookEvent.objects.get(pk=died.pk).attempts == 2


def test_the_admin_says_when_an_event_was_last_handled_and_how_many_wait(
    client_for, superuser, client, oscar, stripe_plans, standin, stripe_events
):
    admin_client = client_for(superuser)
    assert (
        "No Stripe event has been handled yet."
        in admin_client.get("/admin/billing/webhookevent/").content.decode()
    )

    subscribe(client, oscar, stripe_plans["month"], standin)
    stripe_events.deliver()
    handled = WebhookEvent.objects.filter(processed_at__isnull=False).latest("processed_at")
    WebhookEvent.objects.filter(pk=handled.pk).update(
        processed_at=timezone.now() - timedelta(hours=5)
    )
    WebhookEvent.objects.exclude(pk=handled.pk).update(
        processed_at=None, received_at=timezone.now() - timedelta(hours=3)
    )  # the webhook has been failing since
    waiting = WebhookEvent.objects.filter(processed_at__isnull=True).count()

    page = admin_client.get("/admin/billing/webhookevent/").content.decode()

    assert "Last Stripe event handled" in page and "5\xa0hours ago" in page
    assert f"{waiting} event{'s' if waiting > 1 else ''} not handled" in page
    assert "the oldest received 3\xa0hours ago" in page


def test_staff_can_reprocess_an_event_from_the_admin(
    client_for, superuser, client, oscar, stripe_plans, standin, stripe_events
):
    admin_client = client_for(superuser)
    subscribe(client, oscar, stripe_plans["month"], standin)
    stripe_events.deliver()
    event = WebhookEvent.objects.get(type="customer.subscription.created")
    Subscription.objects.update(status="incomplete")  # say our copy went wrong somehow

    response = admin_client.post(
        "/admin/billing/webhookevent/",
        {"action": "reprocess", "_selected_action": [event.pk]},
        follow=True,
    )

    assert "Reprocessed 1 event(s)." in response.content.decode()
    assert Subscription.objects.get().status == "active"
    assert SentMail.objects.filter(user=oscar, kind="subscription_started").count() == 1
    assert (
        admin_client.get(f"/admin/billing/webhookevent/{event.pk}/change/").status_code == 200
    )  # a read-only view
    assert admin_client.post(f"/admin/billing/webhookevent/{event.pk}/delete/").status_code == 403


# ---- any order -----------------------------------------------------------------------


# How far one subscription's life goes at Stripe before its events are delivered.
LIFECYCLES = {
    "active": [],
    "past_due": ["fail_renewal"],
    "paid_again": ["fail_renewal", "pay_failed_invoice"],
    "cancelled": ["fail_renewal", "pay_failed_invoice", "cancel"],
    "cancelling": ["renew", "cancel_at_period_end"],
    "ending_on_a_date": ["cancel_at"],
    "resumed": ["cancel_at_period_end", "resume"],
    # The card keeps failing and Stripe's clock runs through every retry (days 1, 3, 5, 7).
    "retried_to_cancel": ["fail_renewal", "failing_card", "8 days"],
    "retried_to_unpaid": ["unpaid_after_retries", "fail_renewal", "failing_card", "8 days"],
}
GAVE_UP = {"retried_to_cancel", "retried_to_unpaid"}


@hypothesis_settings(
    max_examples=18,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data(), lifecycle=st.sampled_from(sorted(LIFECYCLES)))
def test_every_delivery_order_of_a_subscriptions_events_ends_in_stripes_latest_state(
    make_member, stripe_plans, standin, stripe_client, data, lifecycle
):
    control(standin, "/_standin/reset")
    call_command("stripe_sync_plans", stdout=StringIO())  # the reset emptied the stand-in
    member = make_member(f"reader-{time.monotonic_ns()}@example.com", trial="over")
    client = Client()
    subscription_id = subscribe(client, member, Plan.objects.get(interval="month"), standin)
    for step in LIFECYCLES[lifecycle]:
        if step == "cancel":
            stripe_client.v1.subscriptions.cancel(subscription_id)
        elif step == "cancel_at_period_end":
            stripe_client.v1.subscriptions.update(
                subscription_id, params={"cancel_at_period_end": True}
            )
        elif step == "cancel_at":
            stripe_client.v1.subscriptions.update(
                subscription_id, params={"cancel_at": int(time.time()) + 10 * 86400}
            )
        elif step == "resume":
            stripe_client.v1.subscriptions.update(
                subscription_id, params={"cancel_at_period_end": False}
            )
        elif step == "failing_card":
            customer = member.stripe_customer.stripe_customer_id
            control(standin, f"/_standin/customers/{customer}/card", {"card": "4000000000000341"})
        elif step == "unpaid_after_retries":
            control(standin, "/_standin/settings/billing", {"after_retries": "unpaid"})
        elif step == "8 days":
            control(standin, "/_standin/clock", {"advance_seconds": 8 * 86400})
        else:
            advance(standin, subscription_id, step)
    status, state = control(standin, "/_standin/state", method="GET")
    assert status == 200
    events = list(state["events"].values())
    order = data.draw(st.permutations(events), label="delivery order")
    repeats = data.draw(st.lists(st.sampled_from(events), max_size=3), label="delivered again")

    codes = [post_event(client, event).status_code for event in [*order, *repeats]]

    assert set(codes) == {200}
    at_stripe = state["subscriptions"][subscription_id]
    ours = Subscription.objects.get(stripe_subscription_id=subscription_id)
    assert ours.status == at_stripe["status"]
    assert ours.cancel_at_period_end == at_stripe["cancel_at_period_end"]
    assert (int(ours.cancel_at.timestamp()) if ours.cancel_at else None) == at_stripe["cancel_at"]
    assert (
        int(ours.current_period_end.timestamp())
        == at_stripe["items"]["data"][0]["current_period_end"]
    )
    assert (ours.first_failed_payment_at is not None) == (
        at_stripe["status"] in ("past_due", "unpaid")
    )
    membership = Membership.objects.get(pk=member.pk)  # what access reads follows our copy
    assert membership.subscription_status == ours.status
    assert membership.payment_failed_at == ours.first_failed_payment_at
    assert membership.subscription_ends_at == ours.ends_at
    if lifecycle in ("cancelling", "ending_on_a_date"):
        assert ours.ends_at is not None
    mails = SentMail.objects.filter(user=member)
    assert mails.filter(kind="subscription_started").count() <= 1
    # Every event's handler copies Stripe's latest state, so a cancellation already undone is
    # never seen here, and mails no one.
    assert mails.filter(kind="subscription_cancelled").count() == (
        1 if lifecycle in ("cancelled", "cancelling", "ending_on_a_date") else 0
    )
    failed_invoices = {
        e["data"]["object"]["id"] for e in events if e["type"] == "invoice.payment_failed"
    }
    assert mails.filter(kind="payment_failed").count() <= len(failed_invoices)
    if lifecycle == "past_due":
        assert mails.filter(kind="payment_failed").count() == 1
    # However late the events, Stripe giving up is told once, and is not a cancellation mail.
    assert mails.filter(kind="payment_failed_final").count() == (1 if lifecycle in GAVE_UP else 0)


# ---- what each event does ------------------------------------------------------------


def test_a_failed_renewal_keeps_access_through_the_grace_period_with_a_banner(
    client, make_member, stripe_plans, articles, standin, stripe_events, mailoutbox
):
    oscar = make_member("oscar@example.com", trial="over")
    client.force_login(oscar)
    pay(standin, checkout_url(client, stripe_plans["month"]))
    stripe_events.deliver()
    subscription = Subscription.objects.get(user=oscar)

    advance(standin, subscription.stripe_subscription_id, "fail_renewal")
    stripe_events.deliver()

    subscription.refresh_from_db()
    assert subscription.status == "past_due" and subscription.first_failed_payment_at is not None
    html = client.get("/articles/premium-article/").content.decode()
    assert PREMIUM in html and "Update your card" in html
    failed = SentMail.objects.get(user=oscar, kind="payment_failed")
    assert mail.deliver_recorded(failed.key)
    assert "We could not take your payment of £12.00" in mailoutbox[-1].body
    with time_machine.travel(subscription.first_failed_payment_at + timedelta(days=7, minutes=1)):
        client.force_login(oscar)
        html = client.get("/articles/premium-article/").content.decode()
        assert PREMIUM not in html and "Your last payment didn't go through" in html

    advance(standin, subscription.stripe_subscription_id, "pay_failed_invoice")
    stripe_events.deliver()
    subscription.refresh_from_db()
    assert (subscription.status, subscription.first_failed_payment_at) == ("active", None)
    assert "Update your card" not in client.get("/articles/premium-article/").content.decode()


def test_trial_will_end_mails_the_member_once_about_their_stripe_trial(
    client, make_member, stripe_plans, standin, stripe_events, settings, mailoutbox
):
    settings.TRIAL_MODE = "card"
    Plan.objects.filter(interval="month").update(trial_days=14)
    member = make_member("newcomer@example.com")
    subscribe(client, member, Plan.objects.get(interval="month"), standin)
    stripe_events.deliver()
    assert not SentMail.objects.filter(user=member, kind="trial_ending").exists()

    # Stripe sends it three days before the trial ends: move its clock there.
    control(standin, "/_standin/clock", {"advance_seconds": 11 * 86400 + 60})
    [event] = [
        e for e in stripe_events.pending() if e["type"] == "customer.subscription.trial_will_end"
    ]
    assert post_event(client, event).status_code == 200
    assert post_event(client, event).status_code == 200

    reminder = SentMail.objects.get(user=member, kind="trial_ending")
    assert reminder.context["trial_ends_at"].startswith(
        Subscription.objects.get().trial_end.strftime("%Y-%m-%d")
    )
    assert mail.deliver_recorded(reminder.key)
    assert mailoutbox[-1].to == ["newcomer@example.com"]
    # They subscribed with a card: the mail says when they will be charged, not how to subscribe.
    text, (html, _) = mailoutbox[-1].body, mailoutbox[-1].alternatives[0]
    trial_end = f"{Subscription.objects.get().trial_end:%-d %B %Y}"
    assert f"Your free trial ends on {trial_end}." in text
    assert "your first payment of £12.00 is taken that day" in text
    assert "you will not be charged" not in text and "/pricing/" not in text + html
    assert 'href="http://testserver/account/"' in html


# ---- posted by the stand-in itself, to a running site ---------------------------------


@pytest.fixture
def live_stripe(transactional_db, stripe_settings, request):
    if connection.vendor == "sqlite":
        pytest.skip(
            "the live server shares the test's one in-memory SQLite connection: webhooks arriving while "
            "the test writes collide there (CI runs this on PostgreSQL)"
        )
    posting_standin = request.getfixturevalue("posting_standin")
    control(posting_standin, "/_standin/reset")
    stripe_settings.STRIPE_API_BASE = posting_standin
    call_command("stripe_sync_plans", stdout=StringIO())
    return posting_standin


def wait_for_deliveries(standin):
    status, counts = control(standin, "/_standin/deliveries/wait", {"timeout": 10})
    assert status == 200 and counts["pending"] == 0, counts
    return counts


def test_stripes_own_webhooks_give_access_and_take_it_away(client, make_member, plans, live_stripe):
    member = make_member("oscar@example.com", trial="over")
    client.force_login(member)
    checkout_url = client.post("/billing/checkout/", {"plan": plans[0].pk})["Location"]

    status, _ = pay(live_stripe, checkout_url)
    assert status == 200
    counts = wait_for_deliveries(live_stripe)

    assert counts["failed"] == 0, counts
    subscription = Subscription.objects.get(user=member)
    assert subscription.status == "active"
    assert WebhookEvent.objects.filter(
        type="checkout.session.completed", processed_at__isnull=False
    ).exists()

    advance(live_stripe, subscription.stripe_subscription_id, "fail_renewal")
    wait_for_deliveries(live_stripe)
    subscription.refresh_from_db()
    assert subscription.status == "past_due"
