"""Money as Stripe charged it: the account page and mail quote the invoices Stripe made (promotion
codes, tax), never a plan's price times a quantity."""

import pytest

from accounts import mail
from accounts.models import SentMail
from billing.models import Subscription
from billing.services import stripe_reconcile_subscriptions
from tests.billing.conftest import advance, checkout_url, control
from tests.pages import page


@pytest.fixture
def promotion_code(stripe_client):
    """make(code, **coupon): a promotion code at Stripe, as staff make one in the Dashboard."""

    def make(code, **coupon):
        made = stripe_client.v1.coupons.create(params=coupon)
        return stripe_client.v1.promotion_codes.create(
            params={"promotion": {"type": "coupon", "coupon": made.id}, "code": code}
        )

    return make


def subscribe(client, standin, plan, stripe_events, **pay):
    session_id = checkout_url(client, plan).rstrip("/").rsplit("/", 1)[1]
    status, paid = control(
        standin, f"/_standin/checkout/{session_id}/pay", {"card": "4242424242424242", **pay}
    )
    assert status == 200, paid
    client.get(paid["redirect"].replace("http://testserver", ""))
    stripe_events.deliver()
    return Subscription.objects.get(stripe_subscription_id=paid["subscription"])


def test_checkout_accepts_promotion_codes(client, oscar, stripe_plans, standin, stripe_client):
    session_id = checkout_url(client, stripe_plans["month"]).rstrip("/").rsplit("/", 1)[1]
    assert stripe_client.v1.checkout.sessions.retrieve(session_id).allow_promotion_codes is True


def test_a_100_percent_off_code_shows_zero_on_the_account_page(
    client, oscar, stripe_plans, standin, stripe_events, promotion_code
):
    promotion_code("ONTHEHOUSE", percent_off=100, duration="forever")

    subscription = subscribe(
        client, standin, stripe_plans["month"], stripe_events, promotion_code="ONTHEHOUSE"
    )

    assert (subscription.amount, subscription.latest_invoice_total) == (0, 0)
    html = page(client, "/account/")
    assert "Subscribed: Monthly" in html
    assert " · £0.00" in html and "Last invoice: £0.00 (paid)" in html
    assert "£12.00" not in html


def test_a_first_invoice_discount_shows_what_was_charged_and_what_comes_next(
    client, oscar, stripe_plans, standin, stripe_events, promotion_code, mailoutbox
):
    promotion_code("HALFFIRST", percent_off=50, duration="once")

    subscription = subscribe(
        client, standin, stripe_plans["month"], stripe_events, promotion_code="HALFFIRST"
    )

    html = page(client, "/account/")
    assert "Last invoice: £6.00 (paid)" in html  # the first month, half off
    assert f"{subscription.current_period_end:%-d %B %Y} · £12.00" in html  # the next, in full
    started = SentMail.objects.get(user=oscar, kind="subscription_started")
    assert mail.deliver_recorded(started.key)
    assert "on the Monthly plan (£6.00)" in mailoutbox[-1].body


def test_a_trial_shows_its_first_charge_after_the_discount(
    client, make_member, stripe_plans, standin, stripe_events, promotion_code, settings
):
    settings.TRIAL_MODE = "card"
    client.force_login(make_member("newcomer@example.com"))  # no trial had: Stripe's is theirs
    plan = stripe_plans["month"]
    plan.trial_days = 7
    plan.save()
    promotion_code("QUARTER", percent_off=25, duration="repeating", duration_in_months=3)

    subscription = subscribe(client, standin, plan, stripe_events, promotion_code="QUARTER")

    assert subscription.status == "trialing"
    html = page(client, "/account/")
    assert f"Free until {subscription.trial_end:%-d %B %Y}, then £9.00 per month." in html


def test_renewals_follow_the_invoices_not_the_plan(
    client, oscar, stripe_plans, standin, stripe_events, promotion_code
):
    promotion_code("FIRSTFREE", percent_off=100, duration="once")
    subscription = subscribe(
        client, standin, stripe_plans["month"], stripe_events, promotion_code="FIRSTFREE"
    )
    assert "Last invoice: £0.00 (paid)" in page(client, "/account/")

    advance(standin, subscription.stripe_subscription_id, "renew")
    stripe_events.deliver()

    subscription.refresh_from_db()
    assert subscription.latest_invoice_total == 1200
    assert "Last invoice: £12.00 (paid)" in page(client, "/account/")


def test_automatic_tax_turns_on_stripe_tax_and_the_account_page_shows_it(
    client, oscar, stripe_plans, standin, stripe_events, stripe_client, settings
):
    settings.STRIPE_AUTOMATIC_TAX = True
    session_id = checkout_url(client, stripe_plans["month"]).rstrip("/").rsplit("/", 1)[1]
    session = stripe_client.v1.checkout.sessions.retrieve(session_id)
    assert session.automatic_tax.enabled is True

    subscription = subscribe(client, standin, stripe_plans["month"], stripe_events)

    assert (subscription.amount, subscription.latest_invoice_total) == (1440, 1440)
    html = page(client, "/account/")
    assert " · £14.40" in html and "Last invoice: £14.40 (paid)" in html


def test_a_cancelled_subscription_shows_no_next_amount(
    client, oscar, stripe_plans, standin, stripe_events, stripe_client
):
    subscription = subscribe(client, standin, stripe_plans["month"], stripe_events)
    stripe_client.v1.subscriptions.update(
        subscription.stripe_subscription_id, params={"cancel_at_period_end": True}
    )
    stripe_events.deliver()

    subscription.refresh_from_db()
    assert subscription.amount is None
    html = page(client, "/account/")
    assert f"Your subscription ends on {subscription.current_period_end:%-d %B %Y}." in html
    assert "Next billing date" not in html


def test_reconcile_brings_the_charged_amounts_of_a_renewal_no_webhook_delivered(
    client, oscar, stripe_plans, standin, stripe_events, promotion_code
):
    promotion_code("FIRSTMONTH", percent_off=100, duration="once")
    subscription = subscribe(
        client, standin, stripe_plans["month"], stripe_events, promotion_code="FIRSTMONTH"
    )
    assert (subscription.latest_invoice_total, subscription.amount) == (0, 1200)
    advance(standin, subscription.stripe_subscription_id, "renew")  # its events are lost

    assert stripe_reconcile_subscriptions() is None  # one page: every subscription seen

    subscription.refresh_from_db()
    assert subscription.latest_invoice_total == 1200 and subscription.amount == 1200
    assert subscription.latest_invoice_status == "paid"
    assert "Last invoice: £12.00 (paid)" in page(client, "/account/")
