"""A sign-up is remembered in the browser until it is confirmed (accounts/signup.py): the
paywall and the "check your inbox" page say where the link went (masked), offer Resend
(rate-limited) and "Wrong address?"; the link confirms in one click, signs in, lands on the
article the reader came from, and greets them once."""

import re
from datetime import timedelta

import time_machine
from allauth.account.models import EmailAddress
from django.core import mail
from django.test import Client
from django.utils import timezone

from accounts.models import User
from articles.models import Visibility
from tests.accounts.steps import confirmation_path, sign_up
from tests.conftest import SECRET_SENTENCES
from tests.pages import paywall

ARTICLE = "/articles/premium-article/"
PREMIUM = SECRET_SENTENCES[Visibility.PREMIUM]


def messages_on(html: str) -> list[str]:
    return re.findall(r'<p class="message message--[^"]*">(.*?)</p>', html)


def test_back_on_the_article_after_signing_up_the_paywall_says_check_your_inbox(
    client, articles, plans, fresh_cache
):
    sign_up(client, "newcomer@example.com", next_url=ARTICLE)

    response = client.get(ARTICLE)

    html = response.content.decode()
    box = paywall(html)
    assert "One step left" in box
    assert "Check your inbox: we sent a link to n…@example.com." in box
    assert "newcomer@example.com" not in html  # masked, on a page anyone behind them can see
    assert '<form method="post" action="/accounts/signup/resend/">' in html
    assert f'<input type="hidden" name="next" value="{ARTICLE}">' in html
    assert "Resend" in box and "Wrong address?" in box
    assert "Start your free trial" not in box
    assert "private" in response["Cache-Control"]
    assert PREMIUM not in html


def test_the_check_your_inbox_page_shows_the_masked_address_resend_and_wrong_address(
    client, db, fresh_cache
):
    response = sign_up(client, "newcomer@example.com")

    html = client.get(response["Location"]).content.decode()
    assert "<h1>Check your inbox</h1>" in html
    assert "we sent a link to <strong>n…@example.com</strong>" in html
    assert 'action="/accounts/signup/resend/"' in html
    assert 'action="/accounts/signup/wrong-address/"' in html


def test_a_browser_that_did_not_sign_up_sees_the_ordinary_paywall(client, articles, plans):
    sign_up(Client(), "newcomer@example.com")

    box = paywall(client.get(ARTICLE).content.decode())

    assert "Start your free trial" in box
    assert "Check your inbox" not in box


def test_resend_mails_the_link_again_but_not_twice_within_the_cooldown(
    client, articles, fresh_cache
):
    signed_up_at = timezone.now()
    with time_machine.travel(signed_up_at, tick=False):
        sign_up(client, "newcomer@example.com", next_url=ARTICLE)
        too_soon = client.post("/accounts/signup/resend/", {"next": ARTICLE}, follow=True)

    assert len(mail.outbox) == 1
    assert too_soon.redirect_chain[-1][0] == ARTICLE
    [said] = messages_on(too_soon.content.decode())
    assert "We sent you a link a moment ago" in said and "spam folder" in said

    with time_machine.travel(signed_up_at + timedelta(minutes=4), tick=False):
        resent = client.post("/accounts/signup/resend/", {"next": ARTICLE}, follow=True)

    assert len(mail.outbox) == 2
    assert mail.outbox[1].to == ["newcomer@example.com"]
    assert confirmation_path(mail.outbox[1])
    [said] = messages_on(resent.content.decode())
    assert said == "We sent the link again to n…@example.com."


def test_resend_is_limited_per_browser_address_too(client, db, fresh_cache, settings):
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "signup_resend": "1/h/ip"}
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        sign_up(client, "newcomer@example.com")
    with time_machine.travel(start + timedelta(minutes=4), tick=False):
        client.post("/accounts/signup/resend/", follow=True)
    with time_machine.travel(start + timedelta(minutes=8), tick=False):
        limited = client.post("/accounts/signup/resend/", follow=True)

    assert len(mail.outbox) == 2
    [said] = messages_on(limited.content.decode())
    assert "We sent you a link a moment ago" in said


def test_resend_for_a_taken_address_mails_its_owner_as_sign_up_did(
    client, make_member, fresh_cache
):
    make_member("tina@example.com")
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        sign_up(client, "tina@example.com")
    with time_machine.travel(start + timedelta(minutes=4), tick=False):
        client.post("/accounts/signup/resend/")

    assert [m.subject for m in mail.outbox] == ["Masthead: You already have an account"] * 2


def test_wrong_address_drops_the_unconfirmed_account_and_goes_back_to_sign_up(
    client, articles, plans, fresh_cache
):
    sign_up(client, "newcomer@exmaple.com", next_url=ARTICLE)
    assert User.objects.filter(email="newcomer@exmaple.com").exists()

    response = client.post("/accounts/signup/wrong-address/")

    assert response.status_code == 302
    assert response["Location"] == f"/accounts/signup/?next={ARTICLE}"
    assert not User.objects.filter(email="newcomer@exmaple.com").exists()
    assert "Start your free trial" in paywall(client.get(ARTICLE).content.decode())

    sign_up(client, "newcomer@example.com", next_url=ARTICLE)
    client.get(confirmation_path(mail.outbox[-1]))
    assert PREMIUM in client.get(ARTICLE).content.decode()


def test_wrong_address_after_a_taken_address_deletes_nobody(client, make_member, fresh_cache):
    tina = make_member("tina@example.com")
    sign_up(client, "tina@example.com")

    response = client.post("/accounts/signup/wrong-address/")

    assert response["Location"] == "/accounts/signup/"
    assert User.objects.filter(pk=tina.pk).exists()


def test_one_click_on_the_link_confirms_signs_in_and_lands_on_the_article(
    client, articles, plans, fresh_cache
):
    sign_up(client, "newcomer@example.com", next_url=ARTICLE)

    response = client.get(confirmation_path(mail.outbox[0]))

    assert response.status_code == 302
    assert response["Location"] == ARTICLE
    user = User.objects.get(email="newcomer@example.com")
    assert EmailAddress.objects.get(user=user).verified
    assert client.session["_auth_user_id"] == str(user.pk)
    html = client.get(ARTICLE).content.decode()
    assert PREMIUM in html
    assert messages_on(html) == ["Welcome — your 7-day trial has started."]
    assert "Check your inbox" not in html


def test_the_welcome_names_the_trial_length_from_the_settings(
    client, articles, plans, fresh_cache, settings
):
    settings.TRIAL_DAYS = 14
    sign_up(client, "newcomer@example.com", next_url=ARTICLE)

    html = client.get(confirmation_path(mail.outbox[0]), follow=True).content.decode()

    assert messages_on(html) == ["Welcome — your 14-day trial has started."]


def test_without_a_trial_the_welcome_says_nothing_of_one(
    client, articles, plans, fresh_cache, settings
):
    settings.TRIAL_DAYS = 0
    sign_up(client, "newcomer@example.com", next_url=ARTICLE)

    html = client.get(confirmation_path(mail.outbox[0]), follow=True).content.decode()

    assert messages_on(html) == ["Welcome to Masthead — your address is confirmed."]
    assert "trial" not in " ".join(messages_on(html)).lower()


def test_the_link_opened_in_another_browser_confirms_without_signing_in(
    client, articles, plans, fresh_cache
):
    sign_up(client, "newcomer@example.com", next_url=ARTICLE)
    elsewhere = Client()  # a phone's mail app, or a link scanner

    response = elsewhere.get(confirmation_path(mail.outbox[0]))

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert "_auth_user_id" not in elsewhere.session
    assert EmailAddress.objects.get(email="newcomer@example.com").verified
    # the browser that signed up no longer waits for a link
    assert "Check your inbox" not in client.get(ARTICLE).content.decode()


def test_after_the_login_window_the_link_confirms_and_sign_in_returns_to_the_article(
    client, articles, plans, fresh_cache
):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        sign_up(client, "newcomer@example.com", next_url=ARTICLE)
    with time_machine.travel(start + timedelta(hours=1), tick=False):
        response = client.get(confirmation_path(mail.outbox[0]))

    assert response["Location"] == "/accounts/login/?next=%2Farticles%2Fpremium-article%2F"


def test_a_link_used_already_says_so_and_offers_to_sign_in(client, articles, fresh_cache):
    sign_up(client, "newcomer@example.com")
    link = confirmation_path(mail.outbox[0])
    Client().get(link)  # a link scanner, first

    response = client.get(link)

    html = response.content.decode()
    assert response.status_code == 200
    assert "<h1>This link has been used</h1>" in html
    assert 'href="/accounts/login/"' in html
    assert EmailAddress.objects.get(email="newcomer@example.com").verified


def test_the_sign_up_is_forgotten_when_its_link_has_expired(client, articles, plans, fresh_cache):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        sign_up(client, "newcomer@example.com", next_url=ARTICLE)
    with time_machine.travel(start + timedelta(days=3, minutes=1), tick=False):
        box = paywall(client.get(ARTICLE).content.decode())

    assert "Start your free trial" in box
    assert "Check your inbox" not in box
