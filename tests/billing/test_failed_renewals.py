"""A renewal that fails, followed over the days Stripe retries it, to the end the account's
settings choose: the site's grace period, banners and mail follow each step once.

The stand-in's clock drives it (its renewals and retries fire as time passes, on the account's
retry schedule: days 1, 3, 5 and 7), its events are delivered to our webhook signed, and our
clock travels with it, so grace periods and signatures read the same time as Stripe's events.
"""

from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy

import pytest
import time_machine

from accounts import mail
from accounts.models import Membership, SentMail
from billing.models import Subscription
from tests.billing.conftest import checkout_url, control, pay
from tests.conftest import SECRET_SENTENCES

PREMIUM = SECRET_SENTENCES["premium"]
DAY = 86400
FAILING_CARD = "4000000000000341"  # Stripe's test card: attaches, then every charge fails
BANNER = "Your last payment didn't go through."


class Journey:
    """Oscar's subscription over time: the stand-in's clock moved, its events delivered, pages read."""

    def __init__(self, client, member, standin, stripe_events, mailoutbox):
        self.client, self.member, self.standin = client, member, standin
        self.stripe_events, self.outbox = stripe_events, mailoutbox
        self.sent_before = len(mailoutbox)  # the welcome to the subscription

    @property
    def mailoutbox(self) -> list:
        """The messages sent since the card began to fail."""
        return self.outbox[self.sent_before :]

    def now(self) -> int:
        _, clock = control(self.standin, "/_standin/clock", method="GET")
        return clock["now"]

    def at_stripes_time(self):
        return time_machine.travel(datetime.fromtimestamp(self.now(), UTC), tick=False)

    def move_to(self, moment: int) -> list[dict]:
        """Move Stripe's clock to `moment`, deliver what happened, send the mail it queued."""
        status, _ = control(
            self.standin, "/_standin/clock", {"advance_seconds": moment - self.now()}
        )
        assert status == 200
        events = self.stripe_events.pending()
        with self.at_stripes_time():
            assert set(self.stripe_events.deliver(events)) <= {200}
            for row in SentMail.objects.filter(user=self.member, sent_at__isnull=True):
                mail.deliver_recorded(row.key)
        return events

    def page(self, path: str) -> str:
        with self.at_stripes_time():
            self.client.force_login(self.member)
            return self.client.get(path).content.decode()

    def mails(self, kind: str) -> list:
        return list(SentMail.objects.filter(user=self.member, kind=kind))


@pytest.fixture
def journey(client, oscar, stripe_plans, articles, standin, stripe_events, mailoutbox):
    """Oscar subscribed monthly and paid; then his card starts failing every charge."""
    pay(standin, checkout_url(client, stripe_plans["month"]))
    stripe_events.deliver()
    [welcome] = SentMail.objects.filter(user=oscar, kind="subscription_started")
    assert mail.deliver_recorded(welcome.key)
    subscription = Subscription.objects.get(user=oscar)
    customer = oscar.stripe_customer.stripe_customer_id
    status, _ = control(standin, f"/_standin/customers/{customer}/card", {"card": FAILING_CARD})
    assert status == 200 and subscription.status == "active"
    return Journey(client, oscar, standin, stripe_events, mailoutbox)


def raw(message) -> str:
    """The message as the mail server receives it, its parts decoded."""
    parsed = message_from_bytes(message.message().as_bytes(), policy=policy.default)
    parts = [p.get_content() for p in parsed.walk() if not p.is_multipart()]
    assert [p.get_content_type() for p in parsed.walk() if not p.is_multipart()] == [
        "text/plain",
        "text/html",
    ]
    return parsed["Subject"] + "\n" + "\n".join(parts)


@pytest.mark.parametrize("after_retries", ["cancel", "unpaid"])
def test_a_renewal_failing_through_every_retry_is_followed_once_at_each_step(
    journey, standin, after_retries
):
    status, _ = control(standin, "/_standin/settings/billing", {"after_retries": after_retries})
    assert status == 200
    subscription = Subscription.objects.get(user=journey.member)
    renewal = int(subscription.current_period_end.timestamp())

    # The renewal fails: past_due, full access through the grace period, one mail, a banner.
    events = journey.move_to(renewal + 60)
    assert [e["type"] for e in events if e["type"].startswith("invoice.payment")] == [
        "invoice.payment_failed"
    ]
    subscription.refresh_from_db()
    failed_at = datetime.fromtimestamp(renewal, UTC)
    assert (subscription.status, subscription.first_failed_payment_at) == ("past_due", failed_at)
    membership = Membership.objects.get(pk=journey.member.pk)
    assert (membership.subscription_status, membership.payment_failed_at) == ("past_due", failed_at)
    [first_mail] = journey.mails("payment_failed")
    [message] = journey.mailoutbox
    assert message.to == ["oscar@example.com"]
    text = raw(message)
    assert "Your Masthead payment did not go through" in text
    assert "We could not take your payment of £12.00 for your Monthly subscription" in text
    grace_end = f"{failed_at + timedelta(days=7):%-d %B}"
    article = journey.page("/articles/premium-article/")
    assert PREMIUM in article
    assert article.count(BANNER) == 1 and f"Every article stays open until {grace_end}" in article
    account = journey.page("/account/")
    assert account.count(BANNER) == 1  # its billing section, not the banner again
    assert f"Update your card by {failed_at + timedelta(days=7):%-d %B %Y}" in account

    # Retries on days 1, 3 and 5 fail too: the same invoice, nothing new for the member.
    for day in (1, 3, 5):
        events = journey.move_to(renewal + day * DAY + 60)
        [retry] = [e for e in events if e["type"] == "invoice.payment_failed"]
        assert retry["data"]["object"]["attempt_count"] == day // 2 + 2
        subscription.refresh_from_db()
        assert subscription.status == "past_due"
        assert subscription.first_failed_payment_at == failed_at  # grace counts from the first
        assert journey.mails("payment_failed") == [first_mail]
        assert len(journey.mailoutbox) == 1
        article = journey.page("/articles/premium-article/")
        assert PREMIUM in article and article.count(BANNER) == 1

    # The last retry, on day 7, fails: Stripe ends the subscription as the settings say.
    events = journey.move_to(renewal + 7 * DAY + 60)
    [last] = [e for e in events if e["type"] == "invoice.payment_failed"]
    assert last["data"]["object"]["next_payment_attempt"] is None
    subscription.refresh_from_db()
    membership.refresh_from_db()
    [final_mail] = journey.mails("payment_failed_final")
    assert len(journey.mailoutbox) == 2
    final = raw(journey.mailoutbox[-1])
    assert journey.mails("payment_failed") == [first_mail]
    assert journey.mails("subscription_cancelled") == []  # nobody chose to cancel
    article = journey.page("/articles/premium-article/")
    account = journey.page("/account/")
    assert PREMIUM not in article
    if after_retries == "cancel":
        assert (subscription.status, membership.subscription_status) == ("canceled", "canceled")
        assert subscription.first_failed_payment_at is None
        assert "subscription has ended: your payment did not go through" in final
        assert "you will not be charged again" in final and "/pricing/" in final
        assert BANNER not in article  # no card to update: the way back is a new subscription
        assert "Your subscription has ended. Subscribe again to keep reading." in article
        assert "Your subscription has ended" in account and "Subscribe again" in account
    else:
        assert (subscription.status, membership.subscription_status) == ("unpaid", "unpaid")
        assert membership.payment_failed_at == failed_at
        assert "subscription is on hold: your payment did not go through" in final
        assert "pay the open invoice" in final and "/account/" in final
        assert article.count(BANNER) == 1 and "Every article stays open" not in article
        assert "Update your card to keep reading." in article
        assert account.count("go through") == 1 and "Manage billing" in account

    # Everything delivered again, as Stripe may: nothing changes, nobody is mailed twice.
    with journey.at_stripes_time():
        journey.stripe_events.deliver(journey.stripe_events.all())
    assert [m.key for m in journey.mails("payment_failed_final")] == [final_mail.key]
    assert SentMail.objects.filter(user=journey.member).count() == 3  # started, failed, final
    assert len(journey.mailoutbox) == 2


def test_a_retry_that_succeeds_after_the_card_is_updated_restores_everything_quietly(
    journey, standin
):
    subscription = Subscription.objects.get(user=journey.member)
    renewal = int(subscription.current_period_end.timestamp())
    journey.move_to(renewal + 60)
    customer = journey.member.stripe_customer.stripe_customer_id
    control(standin, f"/_standin/customers/{customer}/card", {"card": "4242424242424242"})

    events = journey.move_to(renewal + DAY + 60)

    assert "invoice.paid" in [e["type"] for e in events]
    subscription.refresh_from_db()
    assert (subscription.status, subscription.first_failed_payment_at) == ("active", None)
    assert Membership.objects.get(pk=journey.member.pk).payment_failed_at is None
    article = journey.page("/articles/premium-article/")
    assert PREMIUM in article and BANNER not in article
    assert [m.kind for m in SentMail.objects.filter(user=journey.member).order_by("pk")] == [
        "subscription_started",
        "payment_failed",
    ]
