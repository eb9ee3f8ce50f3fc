"""Paying as GBP cards pay, in Chromium: a 3-D Secure card at checkout (the bank's challenge, then
reading), a renewal the bank wants confirmed (the mail's link, the banner, confirming on Stripe's
page, reading on), and a 100 %-off promotion code that shows £0.00 on the account page."""

import re
from io import StringIO

from django.core.management import call_command

from accounts import mail
from accounts.models import SentMail
from billing.models import Subscription
from tests.billing.conftest import (
    advance,
    stripe_client,  # noqa: F401  (a fixture, used by name)
)
from tests.conftest import SECRET_SENTENCES
from tests.integration.browser.conftest import PASSWORD
from tests.integration.browser.helpers import sign_in

PREMIUM_URL = "/articles/premium-article/"
SECRET = SECRET_SENTENCES["premium"]
AUTHENTICATE_UNLESS_SET_UP = "4000 0025 0000 3155"


def reads_in_full(page) -> bool:
    page.goto(PREMIUM_URL)
    return page.locator(".premium-content").count() == 1 and SECRET in page.content()


def subscribe_from_the_paywall(page):
    page.goto(PREMIUM_URL)
    assert SECRET not in page.content()
    page.locator(".paywall").get_by_role("button", name="Subscribe").click()
    page.wait_for_url(re.compile(r".*/checkout/cs_"))


def test_a_3ds_card_at_checkout_authenticates_then_reads(
    page,
    demo_site,
    make_member,
    screenshot,
    live_server,
    stripe_settings,
    stripe_plans,
    stripe_events,
):
    stripe_settings.SITE_URL = live_server.url  # Checkout sends the reader back here
    call_command("stripe_setup", stdout=StringIO())
    member = make_member("sca@example.com", trial="over", password=PASSWORD)
    sign_in(page, member.email)

    subscribe_from_the_paywall(page)
    page.get_by_label("Card number").fill(AUTHENTICATE_UNLESS_SET_UP)
    page.get_by_role("button", name="Subscribe").click()

    page.wait_for_url(re.compile(r".*/checkout/cs_\w+/authenticate"))
    screenshot(page, "bank-asks-to-confirm")
    assert page.get_by_role("heading", name="Confirm your payment").is_visible()
    assert "£12.00" in page.content()
    page.get_by_role("button", name="Complete authentication").click()

    page.wait_for_url(f"{live_server.url}/billing/success/**")
    screenshot(page, "subscribed-after-3ds")
    assert page.get_by_role("heading", name="You're subscribed").is_visible()
    assert all(code == 200 for code in stripe_events.deliver())
    assert Subscription.objects.get(user=member).status == "active"
    assert reads_in_full(page)
    screenshot(page, "reading-after-3ds")


def test_a_100_percent_off_code_shows_zero_on_the_account_page(
    page,
    demo_site,
    make_member,
    screenshot,
    live_server,
    stripe_settings,
    stripe_plans,
    stripe_events,
    stripe_client,  # noqa: F811  (the fixture imported above)
):
    stripe_settings.SITE_URL = live_server.url
    call_command("stripe_setup", stdout=StringIO())
    coupon = stripe_client.v1.coupons.create(params={"percent_off": 100, "duration": "forever"})
    stripe_client.v1.promotion_codes.create(
        params={"promotion": {"type": "coupon", "coupon": coupon.id}, "code": "ONTHEHOUSE"}
    )
    member = make_member("free@example.com", trial="over", password=PASSWORD)
    sign_in(page, member.email)

    subscribe_from_the_paywall(page)
    page.get_by_label("Promotion code").fill("onthehouse")
    page.get_by_role("button", name="Apply").click()
    screenshot(page, "code-applied")
    assert page.get_by_role("status").inner_text() == (
        "Promotion code ONTHEHOUSE applied: £12.00 off."
    )
    assert page.locator("#total").inner_text() == "£0.00"
    page.get_by_label("Card number").fill("4242 4242 4242 4242")
    page.get_by_role("button", name="Subscribe").click()

    page.wait_for_url(f"{live_server.url}/billing/success/**")
    assert page.get_by_role("heading", name="You're subscribed").is_visible()
    assert all(code == 200 for code in stripe_events.deliver())
    assert reads_in_full(page)

    page.goto("/account/")
    screenshot(page, "account-with-free-code")
    billing = page.locator("#billing").inner_text()
    assert "Subscribed: Monthly" in billing
    assert "· £0.00" in billing and "Last invoice: £0.00 (paid)" in billing
    assert "£12.00" not in billing


def test_a_renewal_needing_action_mails_the_link_shows_the_banner_and_confirming_keeps_reading(
    page,
    demo_site,
    make_member,
    screenshot,
    live_server,
    stripe_settings,
    stripe_plans,
    stripe_events,
    mailoutbox,
):
    stripe_settings.SITE_URL = live_server.url
    call_command("stripe_setup", stdout=StringIO())
    member = make_member("renewal@example.com", trial="over", password=PASSWORD)
    sign_in(page, member.email)
    subscribe_from_the_paywall(page)
    page.get_by_label("Card number").fill("4000 0027 6000 3184")  # asks the bank every time
    page.get_by_role("button", name="Subscribe").click()
    page.get_by_role("button", name="Complete authentication").click()
    page.wait_for_url(f"{live_server.url}/billing/success/**")
    assert all(code == 200 for code in stripe_events.deliver())
    subscription = Subscription.objects.get(user=member)

    # The renewal: the bank wants the member, off-session, so Stripe waits for them.
    advance(stripe_events.standin_url, subscription.stripe_subscription_id, "renew")
    assert all(code == 200 for code in stripe_events.deliver())
    [sent] = SentMail.objects.filter(user=member, kind="payment_action_required")
    assert mail.deliver_recorded(sent.key)
    [message] = [m for m in mailoutbox if m.subject == "Confirm your Masthead payment"]
    link = re.search(r"(http://\S+/i/in_\w+)", message.body).group(1)

    assert reads_in_full(page)  # the grace period: reading goes on
    banner = page.locator(".payment-banner")
    assert "Your bank asks you to confirm your payment." in banner.inner_text()
    assert banner.get_by_role("link", name="Confirm your payment").get_attribute("href") == link
    screenshot(page, "banner-confirm-your-payment")

    page.goto(link)  # from the mail, as the member would
    screenshot(page, "hosted-invoice")
    assert "Amount due: £12.00" in page.content()
    page.get_by_role("button", name="Complete authentication").click()
    assert "Paid: £12.00" in page.content()
    assert all(code == 200 for code in stripe_events.deliver())

    subscription.refresh_from_db()
    assert subscription.status == "active"
    assert reads_in_full(page)
    assert page.locator(".payment-banner").count() == 0
    screenshot(page, "reading-after-confirming")
