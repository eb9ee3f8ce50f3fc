"""The paywall on the article page (templates/articles/_paywall.html): what it offers (the free
trial, the entry price, a card update) and the reason it gives each reader, and the moments
when a subscription, a grace period or complimentary access stops giving the full text, judged
on the raw HTML with time moved by time_machine."""

from datetime import timedelta
from html import unescape

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from accounts.models import Membership
from accounts.services import complimentary_grant
from articles.models import Visibility
from billing.models import Plan, Subscription
from billing.services import membership_sync
from tests.conftest import SECRET_SENTENCES
from tests.pages import page, paywall

PREMIUM = SECRET_SENTENCES[Visibility.PREMIUM]
PREMIUM_URL = "/articles/premium-article/"


# ---- the offer -----------------------------------------------------------------------


def test_anonymous_reader_is_offered_the_free_trial_with_the_from_price(client, articles, plans):
    html = client.get("/articles/premium-article/").content.decode()

    box = paywall(html)
    assert "Start your free trial" in box
    assert "From £12.00 per month · 7-day free trial" in box
    assert "Cancel online anytime" in box
    assert "Subscribe" not in box


def test_member_whose_trial_is_over_is_asked_to_subscribe_without_a_trial_offer(
    client, readers, articles, plans
):
    client.force_login(readers["trial_over"])

    box = paywall(client.get("/articles/premium-article/").content.decode())

    assert "Subscribe" in box
    assert "From £12.00 per month" in box
    assert "free trial" not in box.replace("Your free trial has ended", "")
    assert "Start your free trial" not in box
    assert "Cancel online anytime" in box


def test_the_from_price_is_the_cheapest_active_monthly_plan(client, articles, plans):
    Plan.objects.create(
        name="Cheap but retired", amount=500, currency="gbp", interval="month", active=False
    )
    Plan.objects.create(name="Team", amount=3000, currency="gbp", interval="month")

    box = paywall(client.get("/articles/premium-article/").content.decode())

    assert "From £12.00 per month" in box


def test_the_paywall_still_renders_without_any_active_plan(client, articles):
    html = client.get("/articles/premium-article/").content.decode()

    box = paywall(html)
    assert "Start your free trial" in box
    assert "£" not in box
    assert "From " not in box
    assert SECRET_SENTENCES[Visibility.PREMIUM] not in html


def test_the_trial_length_in_the_offer_follows_the_setting(client, articles, plans, settings):
    settings.TRIAL_DAYS = 14

    box = paywall(client.get("/articles/premium-article/").content.decode())

    assert "From £12.00 per month · 14-day free trial" in box


def test_a_site_without_a_free_trial_never_offers_one(
    client, articles, plans, settings, make_member
):
    settings.TRIAL_DAYS = 0
    pages = [
        "/",
        "/articles/premium-article/",
        "/pricing/",
        "/accounts/signup/",
        "/accounts/login/",
    ]

    for url in pages:
        html = client.get(url).content.decode()
        assert "free trial" not in html.lower(), url
        assert "day free" not in html.lower(), url
    box = paywall(client.get("/articles/premium-article/").content.decode())
    assert "Sign in or subscribe to read this article." in box
    assert "Create your account" in box
    client.force_login(make_member("una@example.com", verified=False))
    assert "free trial" not in client.get("/account/").content.decode().lower()


def test_the_paywall_carries_the_offer_and_the_proof(client, site_settings, plans, premium):
    html = client.get(PREMIUM_URL).content.decode()
    box = html.split('<aside class="paywall"', 1)[1].split("</aside>", 1)[0]

    assert "From £12.00 per month · 7-day free trial" in box
    assert "Start your free trial" in box
    assert "48,200" in box and "Trusted by" in box and "Ollander Bank" in box
    assert "Cancel online anytime" in box
    assert "Secure payments by Stripe" in box


def test_the_paywall_subscribe_button_posts_the_entry_plan_to_checkout(
    client, articles, plans, make_member
):
    client.force_login(make_member("oscar@example.com", trial="over"))

    html = page(client, "/articles/premium-article/")

    assert 'action="/billing/checkout/"' in html and f'name="plan" value="{plans[0].pk}"' in html


# ---- members Stripe knows about, and those staff let in for free ------------------------


@pytest.fixture
def now():
    """The clock as the test starts, to the second."""
    return timezone.now().replace(microsecond=0)


@pytest.fixture
def subscribed(make_member, make_subscription, plans):
    """subscribed(status, **fields): a member whose trial is long over, with one subscription
    to the monthly plan."""

    def make(status, **fields):
        member = make_member("sub@example.com", trial="over")
        values = {"plan": plans[0], "amount": 1200, "currency": "gbp", **fields}
        return make_subscription(member, status, **values)

    return make


def premium_page(client, member):
    client.force_login(member)
    response = client.get("/articles/premium-article/")
    assert response.status_code == 200
    return unescape(response.content.decode())


def reads_in_full(html):
    if PREMIUM in html:
        assert 'class="paywall"' not in html
        return True
    assert 'class="paywall"' in html and "The body of premium-article" not in html
    return False


@pytest.mark.parametrize("status", ["active", "trialing"])
def test_a_subscriber_reads_premium_articles(client, articles, subscribed, status):
    html = premium_page(client, subscribed(status))

    assert reads_in_full(html)
    assert "Update your card" not in html


@pytest.mark.parametrize(
    "status", ["unpaid", "canceled", "incomplete", "incomplete_expired", "paused"]
)
def test_a_subscription_in_these_states_gets_the_teaser_with_its_reason(
    client, articles, subscribed, status
):
    html = premium_page(client, subscribed(status))

    assert not reads_in_full(html)
    reason = {
        "unpaid": "Your last payment didn't go through. Update your card to keep reading.",
        "canceled": "Your subscription has ended. Subscribe again to keep reading.",
        "incomplete": "Your payment hasn't gone through yet.",
        "incomplete_expired": "Your subscription has ended.",
        "paused": "Your subscription is paused.",
    }[status]
    assert reason in html


def test_past_due_reads_on_through_the_grace_period_with_a_banner_then_gets_the_teaser(
    client, articles, subscribed, settings, now
):
    settings.PAYMENT_GRACE_DAYS = 7
    failed_at = now - timedelta(days=2)
    member = subscribed("past_due", first_failed_payment_at=failed_at)

    with time_machine.travel(failed_at + timedelta(days=7) - timedelta(minutes=1)):
        html = premium_page(client, member)
        assert reads_in_full(html)
        assert "Your last payment didn't go through." in html and "Update your card" in html

    with time_machine.travel(failed_at + timedelta(days=7) + timedelta(minutes=1)):
        html = premium_page(client, member)
        assert not reads_in_full(html)
        assert "Update your card to keep reading." in html


@pytest.mark.parametrize("status", ["past_due", "unpaid"])
def test_a_member_whose_payment_failed_is_offered_the_card_update_on_the_paywall_not_a_new_subscription(
    client, articles, plans, subscribed, settings, status, now
):
    settings.PAYMENT_GRACE_DAYS = 7
    html = premium_page(client, subscribed(status, first_failed_payment_at=now - timedelta(days=8)))

    box = html[html.index('class="paywall"') :]
    assert '<form method="post" action="/billing/portal/">' in box
    assert "Update your card</button>" in box
    assert "/billing/checkout/" not in box and "Subscribe</button>" not in box


def test_a_cancelled_subscription_reads_until_the_period_ends_then_gets_the_teaser(
    client, articles, subscribed, now
):
    period_end = now + timedelta(days=3)
    member = subscribed(
        "active", cancel_at_period_end=True, canceled_at=now, current_period_end=period_end
    )

    with time_machine.travel(period_end - timedelta(minutes=1)):
        assert reads_in_full(premium_page(client, member))
        account = client.get("/account/").content.decode()
        assert f"Your subscription ends on {period_end:%-d %B %Y}" in account

    with time_machine.travel(period_end + timedelta(minutes=1)):
        html = premium_page(client, member)
        assert not reads_in_full(html)
        assert "Your subscription has ended." in html


def test_complimentary_access_reads_until_its_date(client, articles, make_member, readers, now):
    member = make_member("guest@example.com", trial="over")
    until = now + timedelta(days=10)
    complimentary_grant(user=member, until=until, reason="Press pass", granted_by=readers["staff"])

    with time_machine.travel(until - timedelta(minutes=1)):
        assert reads_in_full(premium_page(client, member))
        assert (
            f"Complimentary access until {until:%-d %B %Y}"
            in client.get("/account/").content.decode()
        )

    with time_machine.travel(until + timedelta(minutes=1)):
        html = premium_page(client, member)
        assert not reads_in_full(html)
        assert "Your free trial has ended" in html  # back to what they were before the grant


def test_complimentary_access_outranks_a_lapsed_subscription(client, articles, subscribed, now):
    member = subscribed("canceled")
    complimentary_grant(
        user=member, until=now + timedelta(days=1), reason="Apology", granted_by=None
    )

    assert reads_in_full(premium_page(client, member))


def test_an_unverified_member_with_a_subscription_still_verifies_first(
    client, articles, make_member, subscribed
):
    member = subscribed("active")
    for address in member.emailaddress_set.all():
        address.verified = False
        address.save()

    assert not reads_in_full(premium_page(client, member))


def test_a_new_subscription_outranks_an_old_cancelled_one(client, articles, subscribed, now):
    member = subscribed("canceled", started_at=now - timedelta(days=400))
    Subscription.objects.create(
        stripe_subscription_id="sub_new",
        user=member,
        status="active",
        started_at=now - timedelta(days=1),
        current_period_end=now + timedelta(days=29),
        synced_at=now,
    )
    membership_sync(user_id=member.pk)

    assert reads_in_full(premium_page(client, member))


def test_a_trial_end_without_a_start_in_the_database_is_no_trial_and_no_error(
    make_member, articles
):
    member = make_member("nora@example.com")
    Membership.objects.filter(pk=member.pk).update(trial_ends_at=timezone.now() + timedelta(days=3))
    client = Client()
    client.force_login(member)

    response = client.get("/articles/premium-article/")

    assert response.status_code == 200
    assert PREMIUM not in response.content.decode()
