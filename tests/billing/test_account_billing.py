"""The account page's billing section (templates/billing/_account_billing.html, through the
`current_subscription` tag): plan, status, next billing date and amount, Manage billing."""

from datetime import timedelta
from html import unescape

from django.utils import timezone

from tests.pages import page


def test_the_account_page_shows_the_plan_next_billing_date_and_amount(client, annual_subscriber):
    html = page(client, "/account/")

    assert "Subscribed: Annual" in html
    assert "Next billing date:" in html and "£99.00" in html
    assert 'action="/billing/portal/"' in html and "Manage billing" in html


def test_the_account_page_shows_plan_status_next_billing_date_amount_and_manage_billing(
    client, make_member, make_subscription, plans
):
    now = timezone.now().replace(microsecond=0)
    member = make_subscription(
        make_member("sub@example.com", trial="over"),
        "active",
        plan=plans[0],
        amount=1200,
        currency="gbp",
        current_period_end=now + timedelta(days=20),
    )
    client.force_login(member)

    html = unescape(client.get("/account/").content.decode())

    assert "Subscribed: Monthly" in html
    assert f"Next billing date: {now + timedelta(days=20):%-d %B %Y} · £12.00" in html
    assert "Status: Active" in html
    assert "Manage billing" not in html  # no Stripe customer recorded for this member yet
