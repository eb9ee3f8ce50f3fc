"""Subscribing during the free trial keeps the free days (Checkout's trial ends when the free
trial would have), said before paying; and Checkout leads back to the article being read."""

import urllib.request
from datetime import timedelta
from html import unescape
from urllib.parse import parse_qs, urlsplit

from django.utils import timezone

from accounts import mail
from accounts.models import SentMail
from accounts.services import trial_set
from billing.models import Subscription
from tests.billing.conftest import checkout_url, control, pay
from tests.conftest import SECRET_SENTENCES
from tests.pages import page

PREMIUM = SECRET_SENTENCES["premium"]


def hosted_page(url: str) -> str:
    """The stand-in's hosted Checkout page, as the reader's browser gets it."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=10) as response:
        return unescape(response.read().decode())


def in_trial(make_member, client, *, left: timedelta):
    """A member on day 2 of their free trial (or with `left` of it to go), signed in."""
    member = make_member("tina@example.com")
    now = timezone.now().replace(microsecond=0)
    trial_set(user_id=member.pk, started_at=now - timedelta(days=1), ends_at=now + left)
    client.force_login(member)
    return member, now + left


def test_pricing_during_the_trial_says_the_first_charge_waits_for_the_trials_end(
    client, make_member, plans
):
    _, trial_end = in_trial(make_member, client, left=timedelta(days=6))

    html = page(client, "/pricing/")

    assert (
        "Subscribe now and keep your free days: you won't be charged until "
        f"{trial_end:%-d %B %Y}, when your free trial ends." in html
    )


def test_subscribing_on_day_2_of_the_trial_first_charges_on_the_trials_end(
    client, make_member, stripe_plans, standin, stripe_events, mailoutbox, articles
):
    member, trial_end = in_trial(make_member, client, left=timedelta(days=6))

    session_url = checkout_url(client, stripe_plans["month"])

    hosted = hosted_page(session_url)
    assert f"You won't be charged until {trial_end:%-d %B %Y}, then £12.00 per month" in hosted
    status, paid = pay(standin, session_url)
    assert status == 200, paid
    success = client.get(paid["redirect"].replace("http://testserver", ""))
    assert "You're subscribed" in success.content.decode()
    assert set(stripe_events.deliver()) == {200}

    subscription = Subscription.objects.get(user=member)
    assert (subscription.status, subscription.trial_end) == ("trialing", trial_end)
    assert subscription.current_period_end == trial_end
    state = control(standin, "/_standin/state", method="GET")[1]
    (invoice,) = state["invoices"].values()
    assert invoice["amount_paid"] == 0  # nothing charged today
    account = page(client, "/account/")
    assert f"Free until {trial_end:%-d %B %Y}, then £12.00 per month." in account
    assert PREMIUM in page(client, "/articles/premium-article/")
    (row,) = SentMail.objects.filter(user=member, kind="subscription_started")
    assert mail.deliver_recorded(row.key)
    assert f"you won't be charged until {trial_end:%-d %B %Y}." in mailoutbox[-1].body


def test_with_less_than_48_hours_of_trial_left_subscribing_charges_today_and_pricing_says_so(
    client, make_member, stripe_plans, standin, stripe_events
):
    member, trial_end = in_trial(make_member, client, left=timedelta(hours=30))

    html = page(client, "/pricing/")
    assert "won't be charged until" not in html
    assert f"Your free trial ends on {trial_end:%-d %B %Y at %H:%M} (UTC)." in html
    assert "If you subscribe now, your first payment is taken today." in html

    session_url = checkout_url(client, stripe_plans["month"])
    assert "won't be charged" not in hosted_page(session_url)
    pay(standin, session_url)
    stripe_events.deliver()

    subscription = Subscription.objects.get(user=member)
    assert (subscription.status, subscription.trial_end) == ("active", None)


def test_after_the_trial_checkout_charges_at_once(
    client, oscar, stripe_plans, standin, stripe_events
):
    assert "won't be charged" not in page(client, "/pricing/")

    status, _ = pay(standin, checkout_url(client, stripe_plans["month"]))
    stripe_events.deliver()

    assert status == 200
    assert Subscription.objects.get(user=oscar).status == "active"


# ---- back to the article ------------------------------------------------------------


def test_the_paywall_subscribe_button_carries_the_article_through_checkout_back_to_it(
    client, oscar, stripe_plans, standin, articles
):
    html = page(client, "/articles/premium-article/")
    assert '<input type="hidden" name="next" value="/articles/premium-article/">' in html
    assert 'href="/pricing/?next=/articles/premium-article/">See all plans' in html

    response = client.post(
        "/billing/checkout/",
        {"plan": stripe_plans["month"].pk, "next": "/articles/premium-article/"},
    )
    status, paid = pay(standin, response["Location"])

    assert status == 200
    query = parse_qs(urlsplit(paid["redirect"]).query)
    assert query["next"] == ["/articles/premium-article/"]
    success = page(client, paid["redirect"].replace("http://testserver", ""))
    assert '<a class="button" href="/articles/premium-article/">Back to your article</a>' in success
    assert PREMIUM in page(client, "/articles/premium-article/")


def test_pricing_keeps_the_article_for_its_subscribe_buttons_and_cancelled_checkout(
    client, oscar, stripe_plans, standin
):
    html = page(client, "/pricing/?next=/articles/premium-article/")
    assert html.count('<input type="hidden" name="next" value="/articles/premium-article/">') == 2

    response = client.post(
        "/billing/checkout/",
        {"plan": stripe_plans["year"].pk, "next": "/articles/premium-article/"},
    )

    session_id = response["Location"].rsplit("/", 1)[1]
    session = control(standin, "/_standin/state", method="GET")[1]["checkout_sessions"][session_id]
    assert session["cancel_url"] == (
        "http://testserver/pricing/?checkout=cancelled&next=%2Farticles%2Fpremium-article%2F"
    )


def test_a_next_that_leaves_the_site_is_dropped(client, oscar, stripe_plans, standin):
    for hostile in (
        "https://evil.example/articles/",
        "//evil.example/articles/",
        "/\\evil.example",
        "javascript:alert(1)",
        "articles/premium-article/",
    ):
        response = client.post(
            "/billing/checkout/", {"plan": stripe_plans["month"].pk, "next": hostile}
        )
        session_id = response["Location"].rsplit("/", 1)[1]
        sessions = control(standin, "/_standin/state", method="GET")[1]["checkout_sessions"]
        assert "next=" not in sessions[session_id]["success_url"], hostile
        assert "evil" not in page(client, f"/pricing/?next={hostile}").split("<main", 1)[1]

    _, paid = pay(standin, response["Location"])
    success = page(
        client,
        paid["redirect"].replace("http://testserver", "") + "&next=https://evil.example/",
    )
    assert "evil.example" not in success and "Start reading" in success


def test_signing_in_from_pricing_keeps_the_article(client, plans):
    html = page(client, "/pricing/?next=/articles/premium-article/")

    # sign in, back to pricing, which still carries the article
    assert (
        'href="/accounts/login/?next=%2Fpricing%2F%3Fnext%3D%252Farticles%252Fpremium-article%252F"'
        in html
    )
