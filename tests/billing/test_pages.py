"""The pricing page and the account page's billing section, as a reader sees them."""

from html import unescape

import pytest

from billing.models import Customer
from tests.billing.conftest import control, pay

OUTAGE = "We couldn't reach our payment provider. Nothing was charged; please try again."


def page(client, url):
    response = client.get(url)
    assert response.status_code == 200
    return unescape(response.content.decode())


def test_pricing_lists_active_plans_with_the_annual_monthly_equivalent_and_saving(
    client, plans, make_member
):
    client.force_login(make_member("oscar@example.com", trial="over"))

    html = page(client, "/pricing/")

    assert "£12.00 <span>per month</span>" in html and "£99.00 <span>per year</span>" in html
    # 9900 / 12 = 825; 12 x 1200 - 9900 = 4500
    assert "That's £8.25 a month: you save £45.00 a year against paying monthly." in html
    assert html.count('action="/billing/checkout/"') == 2
    for plan in plans:
        assert f'name="plan" value="{plan.pk}"' in html


def test_pricing_hides_inactive_plans_and_asks_signed_out_readers_to_sign_in(client, plans):
    plans[1].active = False
    plans[1].save()

    html = page(client, "/pricing/")

    assert "£12.00 <span>per month</span>" in html and "£99.00" not in html
    assert "Sign in to subscribe" in html and 'action="/billing/checkout/"' not in html


def test_the_paywall_subscribe_button_posts_the_entry_plan_to_checkout(
    client, articles, plans, make_member
):
    client.force_login(make_member("oscar@example.com", trial="over"))

    html = page(client, "/articles/premium-article/")

    assert 'action="/billing/checkout/"' in html and f'name="plan" value="{plans[0].pk}"' in html


@pytest.fixture
def subscriber(client, make_member, stripe_plans, standin):
    member = make_member("oscar@example.com", trial="over")
    client.force_login(member)
    checkout_url = client.post("/billing/checkout/", {"plan": stripe_plans["year"].pk})["Location"]
    status, paid = pay(standin, checkout_url)
    client.get(paid["redirect"].replace("http://testserver", ""))
    return member


def test_the_account_page_shows_the_plan_next_billing_date_and_amount(client, subscriber):
    html = page(client, "/account/")

    assert "Subscribed: Annual" in html
    assert "Next billing date:" in html and "£99.00" in html
    assert 'action="/billing/portal/"' in html and "Manage billing" in html


def test_manage_billing_opens_a_portal_session_for_this_members_customer(
    client, subscriber, standin
):
    response = client.post("/billing/portal/")

    assert response.status_code == 302 and response["Location"].startswith(f"{standin}/portal/")
    customer = Customer.objects.get(user=subscriber).stripe_customer_id
    sessions = control(standin, "/_standin/state", method="GET")[1]["billing_portal_sessions"]
    assert [s["customer"] for s in sessions.values()] == [customer]
    assert [s["return_url"] for s in sessions.values()] == ["http://testserver/account/"]


def test_manage_billing_during_an_outage_says_so_on_the_account_page(
    client, subscriber, closed_port_base
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
