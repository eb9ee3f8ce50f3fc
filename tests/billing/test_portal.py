"""Manage billing (/billing/portal/): Stripe's Customer Portal for this member's customer, and
what cancelling there does to their reading."""

from datetime import timedelta
from html import unescape

import time_machine

from accounts import mail
from accounts.models import SentMail
from billing.models import Customer, Subscription
from tests.billing.conftest import checkout_url, control, pay
from tests.conftest import SECRET_SENTENCES

OUTAGE = "We couldn't reach our payment provider. Nothing was charged; please try again."
PREMIUM = SECRET_SENTENCES["premium"]


def test_manage_billing_opens_a_portal_session_for_this_members_customer(
    client, annual_subscriber, standin
):
    response = client.post("/billing/portal/")

    assert response.status_code == 302 and response["Location"].startswith(f"{standin}/portal/")
    customer = Customer.objects.get(user=annual_subscriber).stripe_customer_id
    sessions = control(standin, "/_standin/state", method="GET")[1]["billing_portal_sessions"]
    assert [s["customer"] for s in sessions.values()] == [customer]
    assert [s["return_url"] for s in sessions.values()] == ["http://testserver/account/"]


def test_the_portal_opens_with_the_configuration_stripe_setup_made_for_this_site(
    client, annual_subscriber, standin
):
    client.post("/billing/portal/")

    state = control(standin, "/_standin/state", method="GET")[1]
    (ours,) = [
        c
        for c in state["billing_portal_configurations"].values()
        if c["metadata"] == {"masthead_site": "http://testserver"}
    ]
    (session,) = state["billing_portal_sessions"].values()
    assert session["configuration"] == ours["id"]
    assert ours["features"]["subscription_cancel"]["mode"] == "at_period_end"


def _deactivate_ours(stripe_client, standin):
    state = control(standin, "/_standin/state", method="GET")[1]
    for configuration in state["billing_portal_configurations"].values():
        stripe_client.v1.billing_portal.configurations.update(
            configuration["id"], params={"active": False}
        )


def test_without_its_configuration_the_portal_opens_with_the_accounts_default_and_logs_it(
    client, annual_subscriber, standin, stripe_client, caplog
):
    _deactivate_ours(stripe_client, standin)  # as someone might in the Dashboard
    _, default = control(standin, "/_standin/billing_portal/default_configuration")

    response = client.post("/billing/portal/")

    assert response.status_code == 302 and response["Location"].startswith(f"{standin}/portal/")
    sessions = control(standin, "/_standin/state", method="GET")[1]["billing_portal_sessions"]
    assert [s["configuration"] for s in sessions.values()] == [default["id"]]
    assert "No active Customer Portal configuration from stripe_setup" in caplog.text


def test_without_its_configuration_or_a_default_the_member_is_told_of_an_outage(
    client, annual_subscriber, standin, stripe_client, caplog
):
    _deactivate_ours(stripe_client, standin)

    response = client.post("/billing/portal/", follow=True)

    assert response.redirect_chain == [("/account/", 302)]
    assert OUTAGE in unescape(response.content.decode())
    assert "Run manage.py stripe_setup" in caplog.text


def test_manage_billing_during_an_outage_says_so_on_the_account_page(
    client, annual_subscriber, closed_port_base
):
    response = client.post("/billing/portal/", follow=True)

    assert response.redirect_chain == [("/account/", 302)]
    assert OUTAGE in unescape(response.content.decode())


def test_manage_billing_without_a_stripe_customer_goes_to_the_plans(
    client, make_member, stripe_plans
):
    client.force_login(make_member("oscar@example.com", trial="over"))

    response = client.post("/billing/portal/", follow=True)

    assert response.redirect_chain == [("/pricing/", 302)]
    assert "You have no billing details with us yet" in unescape(response.content.decode())


def test_manage_billing_is_post_only_and_for_members(client, plans):
    assert client.get("/billing/portal/").status_code == 405
    assert client.post("/billing/portal/")["Location"] == "/accounts/login/?next=/account/"


def test_cancelling_in_the_portal_keeps_access_until_the_period_ends_then_shows_the_teaser(
    client, make_member, stripe_plans, articles, standin, stripe_events, mailoutbox
):
    oscar = make_member("oscar@example.com", trial="over")
    client.force_login(oscar)
    pay(standin, checkout_url(client, stripe_plans["month"]))
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
    account = client.get("/account/").content.decode()
    assert f"Your subscription ends on {period_end:%-d %B %Y}" in account
    assert 'action="/billing/resume/"' in account
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
