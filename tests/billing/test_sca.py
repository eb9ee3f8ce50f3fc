"""Strong Customer Authentication (3-D Secure), as GBP cards meet it, through the stand-in.

A renewal the bank wants the member to confirm mails them Stripe's hosted invoice page, once, and
the account page, the banner and the paywall offer it while the invoice waits; the grace policy
keeps them reading. A first payment left waiting leaves the subscription incomplete, and the
success page says so and offers to finish it.
"""

import email
import re
from email import policy

import pytest

from accounts import mail
from accounts.models import SentMail
from billing.models import Subscription
from tests.billing.conftest import advance, checkout_url, control, post_event
from tests.conftest import SECRET_SENTENCES
from tests.pages import page

PREMIUM = SECRET_SENTENCES["premium"]
ALWAYS_AUTHENTICATE = "4000002760003184"
AUTHENTICATE_UNLESS_SET_UP = "4000002500003155"


def pay_with_3ds(standin, session_url, card, authentication):
    session_id = session_url.rstrip("/").rsplit("/", 1)[1]
    status, paid = control(
        standin,
        f"/_standin/checkout/{session_id}/pay",
        {"card": card, "authentication": authentication},
    )
    assert status == 200, paid
    return paid


def raw_message(message):
    """The message as the member's mail server receives it, parsed back: (text, html)."""
    parsed = email.message_from_bytes(message.message().as_bytes(), policy=policy.default)
    return (
        parsed.get_body(preferencelist=("plain",)).get_content(),
        parsed.get_body(preferencelist=("html",)).get_content(),
    )


@pytest.fixture
def renewal_needing_action(client, oscar, stripe_plans, standin, stripe_events):
    """Oscar subscribed monthly with a card that asks for 3-D Secure every time; his renewal has
    just come, and the bank waits for him. Returns his subscription."""
    paid = pay_with_3ds(
        standin, checkout_url(client, stripe_plans["month"]), ALWAYS_AUTHENTICATE, "complete"
    )
    client.get(paid["redirect"].replace("http://testserver", ""))
    stripe_events.deliver()
    advance(standin, paid["subscription"], "renew")
    assert set(stripe_events.deliver()) == {200}
    return Subscription.objects.get(stripe_subscription_id=paid["subscription"])


def test_a_renewal_needing_action_keeps_the_member_reading_in_grace(
    client, renewal_needing_action, articles
):
    subscription = renewal_needing_action

    assert subscription.status == "past_due"
    assert subscription.latest_invoice_status == "open"
    assert subscription.payment_action_url.endswith(f"/i/{subscription.latest_invoice_id}")
    html = client.get("/articles/premium-article/").content.decode()
    assert PREMIUM in html


def test_a_renewal_needing_action_mails_the_hosted_invoice_link_once(
    client, renewal_needing_action, stripe_events, mailoutbox
):
    subscription = renewal_needing_action
    sent = SentMail.objects.filter(kind="payment_action_required", user=subscription.user)
    assert [m.key for m in sent] == [f"payment_action_required:{subscription.latest_invoice_id}"]
    # Stripe's invoice.payment_failed came first; the card was not declined, so no mail says so.
    assert not SentMail.objects.filter(kind="payment_failed").exists()
    assert mail.deliver_recorded(sent[0].key)

    message = mailoutbox[-1]
    assert message.to == ["oscar@example.com"]
    assert message.subject == "Confirm your Masthead payment"
    text, html = raw_message(message)
    link = subscription.payment_action_url
    assert "Your bank asks you to confirm your payment of £12.00" in text
    assert link in text and f'href="{link}"' in html
    assert "Confirm your payment" in html and "Masthead" in html  # the brand, as every mail
    assert "Every article stays open to you until" in text
    assert PREMIUM not in text and PREMIUM not in html

    # The same event again, as Stripe retries: no second mail.
    event = next(e for e in stripe_events.all() if e["type"] == "invoice.payment_action_required")
    post_event(client, event)
    assert sent.count() == 1


def test_the_account_page_banner_and_paywall_say_confirm_your_payment(
    client, renewal_needing_action, articles, settings
):
    link = renewal_needing_action.payment_action_url

    account = page(client, "/account/")
    assert "Confirm your payment" in account and f'href="{link}"' in account
    assert "Update your card" not in account
    home = page(client, "/")
    assert "Your bank asks you to confirm your payment." in home and f'href="{link}"' in home

    # Once the grace period is over the paywall offers the same link, not a new subscription.
    settings.PAYMENT_GRACE_DAYS = 0
    html = page(client, "/articles/premium-article/")
    assert PREMIUM not in html
    assert f'<a class="button button--large" href="{link}">Confirm your payment</a>' in html
    assert "Your bank asks you to confirm your payment before you can read on." in html
    assert "Update your card" not in html and 'action="/billing/checkout/"' not in html


def test_confirming_on_stripes_page_ends_the_banner_and_pays(
    client, renewal_needing_action, standin, stripe_events, articles
):
    subscription = renewal_needing_action

    status, paid = control(
        standin,
        f"/_standin/invoices/{subscription.latest_invoice_id}/pay",
        {"authentication": "complete"},
    )
    assert status == 200, paid
    stripe_events.deliver()

    subscription.refresh_from_db()
    assert (subscription.status, subscription.latest_invoice_status) == ("active", "paid")
    assert subscription.payment_action_url == ""
    html = page(client, "/articles/premium-article/")
    assert PREMIUM in html and "Confirm your payment" not in html
    assert "Confirm your payment" not in page(client, "/account/")


def test_a_late_action_required_event_for_a_paid_invoice_shows_and_sends_nothing(
    client, oscar, stripe_plans, standin, stripe_events
):
    paid = pay_with_3ds(
        standin, checkout_url(client, stripe_plans["month"]), ALWAYS_AUTHENTICATE, "complete"
    )
    stripe_events.deliver()
    advance(standin, paid["subscription"], "renew")
    waiting = [e for e in stripe_events.pending() if e["type"] == "invoice.payment_action_required"]
    invoice_id = waiting[0]["data"]["object"]["id"]
    control(standin, f"/_standin/invoices/{invoice_id}/pay", {"authentication": "complete"})

    # The member confirmed before our webhook heard that the bank asked: newest first.
    others = [e for e in stripe_events.pending() if e not in waiting]
    stripe_events.deliver(list(reversed(others)))
    stripe_events.deliver(waiting)

    subscription = Subscription.objects.get(stripe_subscription_id=paid["subscription"])
    assert subscription.status == "active" and subscription.payment_action_url == ""
    assert not SentMail.objects.filter(kind="payment_action_required").exists()
    assert "Confirm your payment" not in page(client, "/account/")


# ---- the first payment -------------------------------------------------------------


def test_a_first_payment_left_waiting_makes_the_success_page_honest(
    client, oscar, stripe_plans, standin, stripe_events, articles
):
    paid = pay_with_3ds(
        standin,
        checkout_url(client, stripe_plans["month"]),
        AUTHENTICATE_UNLESS_SET_UP,
        "unanswered",
    )

    html = page(client, paid["redirect"].replace("http://testserver", ""))

    subscription = Subscription.objects.get(stripe_subscription_id=paid["subscription"])
    assert subscription.status == "incomplete"
    assert "One more step to finish subscribing" in html
    assert "You're subscribed" not in html and "Start reading" not in html
    assert "Your bank asks you to confirm your payment of £12.00" in html
    link = subscription.payment_action_url
    assert link and f'<a class="button" href="{link}">Confirm your payment</a>' in html
    premium = page(client, "/articles/premium-article/")
    assert PREMIUM not in premium and f'href="{link}"' in premium

    # Finishing it on Stripe's page makes Oscar a subscriber.
    control(
        standin,
        f"/_standin/invoices/{subscription.latest_invoice_id}/pay",
        {"authentication": "complete"},
    )
    stripe_events.deliver()
    subscription.refresh_from_db()
    assert subscription.status == "active"
    assert PREMIUM in page(client, "/articles/premium-article/")


def test_a_first_payment_left_waiting_23_hours_expires_and_the_reader_can_subscribe_again(
    client, oscar, stripe_plans, standin, stripe_events, articles
):
    paid = pay_with_3ds(
        standin,
        checkout_url(client, stripe_plans["month"]),
        AUTHENTICATE_UNLESS_SET_UP,
        "unanswered",
    )
    page(client, paid["redirect"].replace("http://testserver", ""))
    stripe_events.deliver()
    link = Subscription.objects.get(stripe_subscription_id=paid["subscription"]).latest_invoice_url
    assert "Confirm your payment" in page(client, "/account/")

    # Stripe: "If the first invoice is not paid within 23 hours, the subscription transitions
    # to incomplete_expired"; the invoice is voided.
    control(standin, "/_standin/clock", {"advance_seconds": 23 * 3600 + 60})
    assert set(stripe_events.deliver()) == {200}

    subscription = Subscription.objects.get(stripe_subscription_id=paid["subscription"])
    assert subscription.status == "incomplete_expired"
    assert subscription.payment_action_url == ""
    for path in ("/account/", "/", "/articles/premium-article/"):
        html = page(client, path)
        assert "Confirm your payment" not in html and f'href="{link}"' not in html
    premium = page(client, "/articles/premium-article/")
    assert PREMIUM not in premium and 'action="/billing/checkout/"' in premium

    # Nothing live is left, so Subscribe opens a new Checkout instead of "already subscribed".
    assert checkout_url(client, stripe_plans["month"]).startswith(standin)


def test_a_3ds_card_authenticated_at_checkout_subscribes_as_any_card(
    client, oscar, stripe_plans, standin, stripe_events
):
    paid = pay_with_3ds(
        standin, checkout_url(client, stripe_plans["month"]), AUTHENTICATE_UNLESS_SET_UP, "complete"
    )

    html = page(client, paid["redirect"].replace("http://testserver", ""))

    assert "You're subscribed" in html
    assert Subscription.objects.get(user=oscar).status == "active"
    assert re.search(r"Confirm your payment", html) is None


@pytest.mark.django_db
def test_the_confirm_mail_reads_well_without_any_context(make_member, mailoutbox, settings):
    settings.SITE_URL = "https://news.example.org"
    member = make_member("bare@example.com")

    mail.deliver(mail.PAYMENT_ACTION_REQUIRED, user_id=member.pk, key="bare", context={})

    [message] = mailoutbox
    text, html = raw_message(message)
    for part in (message.subject, text, html):
        assert "None" not in part and "{{" not in part and "{%" not in part
        assert " ." not in part.replace("\n", " ") and " ," not in part
    assert "https://news.example.org/account/" in text  # where to confirm, lacking Stripe's link
    assert 'href="https://news.example.org/account/"' in html


def test_the_action_required_event_alone_or_first_is_enough(
    client, oscar, stripe_plans, standin, stripe_events
):
    paid = pay_with_3ds(
        standin, checkout_url(client, stripe_plans["month"]), ALWAYS_AUTHENTICATE, "complete"
    )
    stripe_events.deliver()
    advance(standin, paid["subscription"], "renew")
    events = stripe_events.pending()
    action = [e for e in events if e["type"] == "invoice.payment_action_required"]

    stripe_events.deliver(action)  # first, before Stripe's other two
    stripe_events.deliver()

    invoice_id = action[0]["data"]["object"]["id"]
    assert [m.kind for m in SentMail.objects.filter(user=oscar).order_by("pk")][-1:] == [
        "payment_action_required"
    ]
    assert SentMail.objects.filter(key=f"payment_action_required:{invoice_id}").count() == 1
    assert not SentMail.objects.filter(kind="payment_failed").exists()
    assert Subscription.objects.get(user=oscar).payment_action_url.endswith(f"/i/{invoice_id}")
