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


def test_pricing_hides_inactive_plans(client, plans):
    plans[1].active = False
    plans[1].save()

    html = page(client, "/pricing/")

    assert "£12.00 <span>per month</span>" in html and "£99.00" not in html


def test_a_visitor_is_offered_the_trial_and_subscribes_by_signing_up(client, plans, settings):
    settings.TRIAL_DAYS, settings.TRIAL_MODE = 7, "no_card"

    html = page(client, "/pricing/")

    assert "Sign in to subscribe" not in html and 'action="/billing/checkout/"' not in html
    assert (
        '<a class="button button--large" href="/accounts/signup/?next=%2Fpricing%2F">'
        "Start your 7-day free trial</a> No card needed" in html
    )
    for interval in ("monthly", "yearly"):
        assert f'href="/accounts/signup/?next=%2Fpricing%2F">Subscribe {interval}</a>' in html
    assert 'Already a member? <a href="/accounts/login/?next=%2Fpricing%2F">Sign in</a>' in html


def test_the_trial_leads_back_to_the_article_and_subscribing_back_to_its_plans(
    client, plans, settings
):
    settings.TRIAL_DAYS, settings.TRIAL_MODE = 7, "no_card"

    html = page(client, "/pricing/?next=/articles/premium-article/")

    assert 'href="/accounts/signup/?next=%2Farticles%2Fpremium-article%2F">Start your' in html
    plans_then_article = "%2Fpricing%2F%3Fnext%3D%252Farticles%252Fpremium-article%252F"
    assert f'href="/accounts/signup/?next={plans_then_article}">Subscribe monthly</a>' in html
    assert f'href="/accounts/login/?next={plans_then_article}">Sign in</a>' in html


def test_without_a_trial_a_visitor_is_promised_no_free_days(client, plans, settings):
    settings.TRIAL_DAYS = 0

    html = page(client, "/pricing/")

    assert "free" not in html.lower().split("<main", 1)[1].split("</main>", 1)[0]
    assert "trial" not in html.lower().split("<main", 1)[1].split("</main>", 1)[0]
    assert 'href="/accounts/signup/?next=%2Fpricing%2F">Subscribe monthly</a>' in html


def test_a_visitor_who_signs_up_from_pricing_comes_back_to_subscribe(client, plans, settings):
    settings.TRIAL_DAYS = 0
    settings.ACCOUNT_EMAIL_VERIFICATION = "optional"

    response = client.post(
        "/accounts/signup/?next=%2Fpricing%2F",
        {"email": "vera@example.com", "password1": "a-long-unusual-passphrase-9"},
        follow=True,
    )

    assert response.redirect_chain[-1][0] == "/pricing/"
    assert response.content.decode().count('action="/billing/checkout/"') == 2


def test_cancelling_checkout_returns_to_the_plans_saying_nothing_was_charged(
    client, oscar, stripe_plans
):
    html = client.get("/pricing/?checkout=cancelled").content.decode()

    assert "Checkout was cancelled. Nothing was charged." in html
