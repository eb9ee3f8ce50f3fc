"""The whole way through, against the stand-in: subscribe, read, fail to pay, cancel in the portal.

Stripe's events reach our webhook when the test delivers them (see conftest), so each
step can say what a reader sees before and after Stripe tells us.
"""

from datetime import timedelta

import time_machine

from accounts import mail
from accounts.models import SentMail
from billing.models import Customer, Subscription
from tests.billing.conftest import DECLINED_CARD, advance, pay
from tests.conftest import SECRET_SENTENCES

PREMIUM = SECRET_SENTENCES["premium"]


def subscribe(client, plan):
    response = client.post("/billing/checkout/", {"plan": plan.pk})
    assert response.status_code == 302
    return response["Location"]


def test_paying_with_a_good_card_opens_premium_articles_at_once_and_after_the_webhook(
    client, make_member, stripe_plans, articles, standin, stripe_events, mailoutbox
):
    oscar = make_member("oscar@example.com", trial="over")
    client.force_login(oscar)
    assert PREMIUM not in client.get("/articles/premium-article/").content.decode()

    checkout_url = subscribe(client, stripe_plans["month"])
    assert checkout_url.startswith(standin + "/checkout/cs_")
    status, paid = pay(standin, checkout_url)
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
    checkout_url = subscribe(client, stripe_plans["month"])

    status, result = pay(standin, checkout_url, DECLINED_CARD)

    assert status == 402
    assert result["error"] == "Your card was declined."
    stripe_events.deliver()
    assert not Subscription.objects.filter(user=oscar).exists()
    html = client.get("/articles/premium-article/").content.decode()
    assert PREMIUM not in html and 'class="paywall"' in html


def test_cancelling_in_the_portal_keeps_access_until_the_period_ends_then_shows_the_teaser(
    client, make_member, stripe_plans, articles, standin, stripe_events, mailoutbox
):
    oscar = make_member("oscar@example.com", trial="over")
    client.force_login(oscar)
    pay(standin, subscribe(client, stripe_plans["month"]))
    stripe_events.deliver()

    portal = client.post("/billing/portal/")
    assert portal.status_code == 302 and portal["Location"].startswith(standin + "/portal/")
    portal_id = portal["Location"].rsplit("/", 1)[1]
    subscription = Subscription.objects.get(user=oscar)
    _press_portal_button(
        standin, portal_id, subscription.stripe_subscription_id, "cancel_at_period_end"
    )
    stripe_events.deliver()

    subscription.refresh_from_db()
    assert subscription.cancel_at_period_end
    period_end = subscription.current_period_end
    assert f"Cancels on {period_end:%-d %B %Y}" in client.get("/account/").content.decode()
    assert PREMIUM in client.get("/articles/premium-article/").content.decode()
    cancelled = SentMail.objects.get(user=oscar, kind="subscription_cancelled")
    assert mail.deliver_recorded(cancelled.key)
    assert (
        f"You can keep reading every article until {period_end:%-d %B %Y}." in mailoutbox[-1].body
    )

    with time_machine.travel(period_end + timedelta(minutes=1)):
        # Stripe has not told us yet: the clock alone ends access.
        client.force_login(oscar)  # a month on, the old session has expired
        html = client.get("/articles/premium-article/").content.decode()
        assert PREMIUM not in html and "Your subscription has ended" in html


def test_a_failed_renewal_keeps_access_through_the_grace_period_with_a_banner(
    client, make_member, stripe_plans, articles, standin, stripe_events, mailoutbox
):
    oscar = make_member("oscar@example.com", trial="over")
    client.force_login(oscar)
    pay(standin, subscribe(client, stripe_plans["month"]))
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


def test_the_member_record_holds_one_customer_whose_id_is_stripes(
    client, make_member, stripe_plans, standin, stripe_client
):
    oscar = make_member("oscar@example.com", trial="over")
    client.force_login(oscar)
    subscribe(client, stripe_plans["month"])

    customer = Customer.objects.get(user=oscar)
    at_stripe = stripe_client.v1.customers.retrieve(customer.stripe_customer_id)
    assert at_stripe.email == "oscar@example.com" and at_stripe.metadata["user_id"] == str(oscar.pk)


def _press_portal_button(standin, portal_id, subscription_id, action):
    """Submit the hosted portal page's form, as the reader's browser does."""
    import urllib.parse
    import urllib.request

    data = urllib.parse.urlencode({"subscription": subscription_id, "action": action}).encode()
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(
        urllib.request.Request(f"{standin}/portal/{portal_id}/action", data=data), timeout=10
    ) as response:
        assert response.status == 200  # followed the 303 back to the portal page
