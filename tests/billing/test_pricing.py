"""The pricing page (/pricing/, billing/views.py): active plans, the annual saving, and what a
signed-out reader or one back from a cancelled Checkout is told."""

from tests.pages import page


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


def test_cancelling_checkout_returns_to_the_plans_saying_nothing_was_charged(
    client, oscar, stripe_plans
):
    html = client.get("/pricing/?checkout=cancelled").content.decode()

    assert "Checkout was cancelled. Nothing was charged." in html
