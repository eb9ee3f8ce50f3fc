"""A pending cancellation on the account page (/account/ "ends on ..."), and Resume
(/billing/resume/), which stops it at Stripe; the cancellation mail leads there."""

from datetime import UTC, datetime, timedelta
from html import unescape

from accounts import mail
from accounts.models import Membership, SentMail
from billing.models import Subscription
from tests.billing.conftest import advance, control
from tests.pages import page

RESUMED = "Your subscription will continue. Thank you for staying."
FAILED = (
    "We couldn't resume your subscription with our payment provider just now, so it still ends "
    "as planned. Nothing was changed; please try again."
)
DAY = 86400


def _at_stripe(standin, subscription_id):
    return control(standin, "/_standin/state", method="GET")[1]["subscriptions"][subscription_id]


def _cancel(stripe_client, stripe_events, member, **params):
    """Cancel the member's subscription at Stripe (as the portal or the API would), and let
    Stripe's events arrive; returns our copy."""
    subscription = Subscription.objects.get(user=member)
    stripe_client.v1.subscriptions.update(subscription.stripe_subscription_id, params=params)
    assert set(stripe_events.deliver()) == {200}
    subscription.refresh_from_db()
    return subscription


def _date(moment: datetime) -> str:
    return f"{moment:%-d %B %Y}"


def test_a_cancellation_at_the_period_end_shows_ends_on_and_a_resume_button(
    client, annual_subscriber, stripe_client, stripe_events
):
    subscription = _cancel(
        stripe_client, stripe_events, annual_subscriber, cancel_at_period_end=True
    )

    html = page(client, "/account/")

    assert subscription.cancel_at == subscription.current_period_end
    assert f"Your subscription ends on {_date(subscription.current_period_end)}." in html
    assert '<form method="post" action="/billing/resume/" id="resume">' in html
    assert 'name="csrfmiddlewaretoken"' in html and "Resume subscription</button>" in html
    assert "Next billing date" not in html


def test_an_end_on_a_date_shows_as_ends_on_that_date_and_access_ends_then(
    client, annual_subscriber, stripe_client, stripe_events, standin
):
    on = datetime.fromtimestamp(
        control(standin, "/_standin/clock", method="GET")[1]["now"] + 10 * DAY, UTC
    )

    subscription = _cancel(
        stripe_client, stripe_events, annual_subscriber, cancel_at=int(on.timestamp())
    )

    assert (subscription.cancel_at, subscription.cancel_at_period_end) == (on, False)
    assert Membership.objects.get(pk=annual_subscriber.pk).subscription_ends_at == on
    html = page(client, "/account/")
    assert f"Your subscription ends on {_date(on)}." in html and "Resume subscription" in html


def test_resume_stops_the_cancellation_at_stripe_and_the_account_page_shows_the_renewal(
    client, annual_subscriber, stripe_client, stripe_events, standin
):
    subscription = _cancel(
        stripe_client, stripe_events, annual_subscriber, cancel_at_period_end=True
    )

    response = client.post("/billing/resume/", follow=True)

    assert response.redirect_chain == [("/account/#billing", 302)]
    html = unescape(response.content.decode())
    assert RESUMED in html
    assert f"Next billing date: {_date(subscription.current_period_end)} · £99.00" in html
    assert "ends on" not in html and "Resume subscription" not in html
    at_stripe = _at_stripe(standin, subscription.stripe_subscription_id)
    assert (at_stripe["cancel_at_period_end"], at_stripe["cancel_at"]) == (False, None)
    subscription.refresh_from_db()  # copied from Stripe's answer, before any webhook
    assert (subscription.cancel_at_period_end, subscription.cancel_at) == (False, None)
    assert Membership.objects.get(pk=annual_subscriber.pk).subscription_ends_at is None
    assert set(stripe_events.deliver()) == {200}  # and the webhook agrees
    subscription.refresh_from_db()
    assert subscription.ends_at is None


def test_resume_unsets_an_end_set_on_a_date(
    client, annual_subscriber, stripe_client, stripe_events, standin
):
    clock = control(standin, "/_standin/clock", method="GET")[1]["now"]
    subscription = _cancel(stripe_client, stripe_events, annual_subscriber, cancel_at=clock + DAY)

    response = client.post("/billing/resume/")

    assert response["Location"] == "/account/#billing"
    assert _at_stripe(standin, subscription.stripe_subscription_id)["cancel_at"] is None
    subscription.refresh_from_db()
    assert subscription.ends_at is None
    assert Membership.objects.get(pk=annual_subscriber.pk).subscription_ends_at is None


def test_a_double_click_on_resume_makes_one_change_at_stripe(
    client, annual_subscriber, stripe_client, stripe_events, standin
):
    subscription = _cancel(
        stripe_client, stripe_events, annual_subscriber, cancel_at_period_end=True
    )
    pending = {"cancel_at_period_end": True, "cancel_at": subscription.cancel_at}

    client.post("/billing/resume/")
    # The second click read our copy before the first one's answer was written to it.
    Subscription.objects.filter(pk=subscription.pk).update(**pending)
    second = client.post("/billing/resume/", follow=True)

    assert RESUMED in unescape(second.content.decode())
    updates = [e for e in stripe_events.pending() if e["type"] == "customer.subscription.updated"]
    assert len(updates) == 1  # Stripe replayed the first answer to the second (its idempotency key)
    subscription.refresh_from_db()
    assert subscription.ends_at is None
    third = client.post("/billing/resume/", follow=True)  # long after: nothing left to resume
    assert RESUMED in unescape(third.content.decode())
    assert len([e for e in stripe_events.pending() if e["type"].endswith(".updated")]) == 1


def test_resume_during_an_outage_shows_the_account_page_again_with_a_message_and_changes_nothing(
    client, annual_subscriber, stripe_client, stripe_events, standin, settings
):
    subscription = _cancel(
        stripe_client, stripe_events, annual_subscriber, cancel_at_period_end=True
    )
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"  # nothing listens there

    response = client.post("/billing/resume/")

    assert response.status_code == 502
    html = unescape(response.content.decode())
    assert FAILED in html
    assert f"Your subscription ends on {_date(subscription.current_period_end)}." in html
    assert "Resume subscription</button>" in html  # to try again
    subscription.refresh_from_db()
    assert subscription.cancel_at_period_end and subscription.ends_at is not None
    assert Membership.objects.get(pk=annual_subscriber.pk).subscription_ends_at is not None
    assert _at_stripe(standin, subscription.stripe_subscription_id)["cancel_at_period_end"]


def test_resume_after_the_subscription_ended_leads_to_the_plans(
    client, annual_subscriber, stripe_client, stripe_events
):
    subscription = Subscription.objects.get(user=annual_subscriber)
    stripe_client.v1.subscriptions.cancel(subscription.stripe_subscription_id)
    stripe_events.deliver()

    response = client.post("/billing/resume/", follow=True)

    assert response.redirect_chain == [("/pricing/", 302)]
    assert "Your subscription has ended." in unescape(response.content.decode())


def test_resume_after_stripe_ended_it_but_before_its_webhook_says_it_has_ended(
    client, annual_subscriber, stripe_client, stripe_events
):
    subscription = _cancel(
        stripe_client, stripe_events, annual_subscriber, cancel_at_period_end=True
    )
    # Stripe ends it; its webhook has not reached us yet (nothing delivered)
    stripe_client.v1.subscriptions.cancel(subscription.stripe_subscription_id)

    response = client.post("/billing/resume/", follow=True)

    assert response.redirect_chain == [("/pricing/", 302)]  # not a retry that can never work
    assert "Your subscription has ended." in unescape(response.content.decode())
    assert Subscription.objects.get(pk=subscription.pk).status == "canceled"


def test_resume_is_post_only_with_a_csrf_token_and_for_members(client, annual_subscriber, plans):
    from django.test import Client

    assert client.get("/billing/resume/").status_code == 405
    assert Client(enforce_csrf_checks=True).post("/billing/resume/").status_code == 403
    anonymous = Client().post("/billing/resume/")
    assert anonymous["Location"] == "/accounts/login/?next=/account/%23resume"


def test_the_cancellation_mail_leads_to_resume_on_the_account_page_not_the_plans(
    client, annual_subscriber, stripe_client, stripe_events, mailoutbox
):
    subscription = _cancel(
        stripe_client, stripe_events, annual_subscriber, cancel_at_period_end=True
    )
    (row,) = SentMail.objects.filter(user=annual_subscriber, kind="subscription_cancelled")

    assert mail.deliver_recorded(row.key)

    (message,) = mailoutbox
    text, (html, _) = message.body, message.alternatives[0]
    raw = message.message().as_string()
    assert "Masthead" in raw and message.to == [annual_subscriber.email]
    ends = _date(subscription.current_period_end)
    assert f"You can keep reading every article until {ends}." in text
    assert "http://testserver/account/#resume" in text
    assert 'href="http://testserver/account/#resume"' in html and "Resume my subscription" in html
    assert "/pricing/" not in text and "/pricing/" not in html


def test_cancelling_again_after_resuming_sends_a_second_mail(
    client, annual_subscriber, stripe_client, stripe_events, standin
):
    _cancel(stripe_client, stripe_events, annual_subscriber, cancel_at_period_end=True)
    client.post("/billing/resume/")
    stripe_events.deliver()
    control(standin, "/_standin/clock", {"advance_seconds": 60})

    _cancel(stripe_client, stripe_events, annual_subscriber, cancel_at_period_end=True)

    assert (
        SentMail.objects.filter(user=annual_subscriber, kind="subscription_cancelled").count() == 2
    )


def test_a_subscription_cancelled_at_once_mails_the_plans_link(
    client, annual_subscriber, stripe_client, stripe_events, mailoutbox
):
    subscription = Subscription.objects.get(user=annual_subscriber)
    stripe_client.v1.subscriptions.cancel(subscription.stripe_subscription_id)
    stripe_events.deliver()
    (row,) = SentMail.objects.filter(user=annual_subscriber, kind="subscription_cancelled")

    mail.deliver_recorded(row.key)

    text = mailoutbox[-1].body
    assert "You will not be charged again." in text and "http://testserver/pricing/" in text
    assert "#resume" not in text


def test_access_continues_until_a_dated_end_then_ends_by_the_clock(
    client, annual_subscriber, stripe_client, stripe_events, standin, articles
):
    import time_machine

    from tests.conftest import SECRET_SENTENCES

    clock = control(standin, "/_standin/clock", method="GET")[1]["now"]
    on = datetime.fromtimestamp(clock + 3 * DAY, UTC)
    _cancel(stripe_client, stripe_events, annual_subscriber, cancel_at=int(on.timestamp()))

    with time_machine.travel(on - timedelta(minutes=1)):
        client.force_login(annual_subscriber)
        assert SECRET_SENTENCES["premium"] in page(client, "/articles/premium-article/")
    with time_machine.travel(on + timedelta(minutes=1)):
        client.force_login(annual_subscriber)
        html = page(client, "/articles/premium-article/")
        assert SECRET_SENTENCES["premium"] not in html and "Your subscription has ended" in html


def test_a_cancellation_pending_while_a_payment_failed_still_offers_resume(
    client, annual_subscriber, stripe_client, stripe_events, standin
):
    # The renewal fails, then the member cancels (in the portal) while Stripe still retries.
    advance(standin, Subscription.objects.get().stripe_subscription_id, "fail_renewal")
    stripe_events.deliver()
    _cancel(stripe_client, stripe_events, annual_subscriber, cancel_at_period_end=True)

    html = page(client, "/account/")

    assert "Your last payment didn" in html  # the grace period's warning
    assert '<form method="post" action="/billing/resume/" id="resume">' in html  # the mail's link
