"""Account mail (allauth's, through accounts/adapter.py and templates/account/email/) is
Masthead's own: the brand's name and HTML layout, a plain-text part, links on SITE_URL, and
never the host the request came in on."""

import email
from email.message import Message
from pathlib import Path

import allauth
import pytest
from allauth.account.adapter import get_adapter
from allauth.core import context as allauth_context
from django.core import mail
from django.test import RequestFactory

from tests.accounts.steps import NEW_PASSWORD, confirmation_path, sign_up
from tests.conftest import PASSWORD

SITE_URL = "https://read.masthead.example"
HOSTS = ("testserver", "127.0.0.1", "localhost", "example.com/accounts")
READER_IP = "203.0.113.9"
ALLAUTH_TEMPLATES = Path(allauth.__file__).parent / "templates"


@pytest.fixture(autouse=True)
def site_url(settings):
    settings.SITE_URL = SITE_URL


def parts(message) -> tuple[Message, str, str]:
    """The raw message as a mail client reads it, and its text and HTML parts."""
    raw = email.message_from_bytes(message.message().as_bytes())
    bodies = {
        part.get_content_type(): part.get_payload(decode=True).decode()
        for part in raw.walk()
        if not part.is_multipart()
    }
    return raw, bodies.get("text/plain", ""), bodies.get("text/html", "")


def assert_branded(message):
    raw, text, html = parts(message)
    assert raw.get_content_type() == "multipart/alternative"
    assert raw["Subject"].startswith("Masthead: ")
    assert "Masthead <" in raw["From"]
    assert "Masthead" in text and "<html" not in text
    assert html.startswith("<!doctype html>") and ">Masthead</a>" in html
    for host in HOSTS:
        assert host not in text and host not in html, host
    assert "Hello from" not in text and "Thank you for using" not in text
    assert "{{" not in text + html and "{%" not in text + html
    return text, html


def test_the_sign_up_mail_is_branded_with_a_one_click_link_on_the_site_url(client, db):
    sign_up(client, "newcomer@example.com")

    [message] = mail.outbox
    text, html = assert_branded(message)
    assert message.subject == "Masthead: One click to start reading"
    assert f"{SITE_URL}/accounts/confirm-email/" in text
    assert f'href="{SITE_URL}/accounts/confirm-email/' in html
    assert "Confirm your address</a>" in html
    assert confirmation_path(message) in html


def test_the_mail_to_the_owner_of_a_taken_address_is_branded(client, make_member, fresh_cache):
    make_member("tina@example.com")

    sign_up(client, "tina@example.com")

    [message] = mail.outbox
    text, _ = assert_branded(message)
    assert message.subject == "Masthead: You already have an account"
    assert f"{SITE_URL}/accounts/password/reset/" in text


def test_password_reset_mails_are_branded(client, make_member, fresh_cache):
    make_member("tina@example.com")

    client.post("/accounts/password/reset/", {"email": "tina@example.com"})
    client.post("/accounts/password/reset/", {"email": "nobody@example.com"})

    reset, unknown = mail.outbox
    text, _ = assert_branded(reset)
    assert reset.subject == "Masthead: Choose a new password"
    assert f"{SITE_URL}/accounts/password/reset/key/" in text
    text, _ = assert_branded(unknown)
    assert unknown.subject == "Masthead: No account with this address"
    assert f"{SITE_URL}/accounts/signup/" in text


def test_a_password_change_is_notified_in_a_branded_mail(client, make_member, fresh_cache):
    client.force_login(make_member("tina@example.com"))

    client.post(
        "/accounts/password/change/",
        {"oldpassword": PASSWORD, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
        REMOTE_ADDR=READER_IP,  # the notice names it; the test client's own is 127.0.0.1
    )

    [notice] = mail.outbox
    text, html = assert_branded(notice)
    assert notice.subject == "Masthead: Your password has changed"
    assert "Your password was changed." in text and "Your password was changed." in html
    assert f"IP address: {READER_IP}" in text


def test_changing_address_sends_a_branded_confirmation_and_a_branded_notice(
    client, make_member, fresh_cache
):
    client.force_login(make_member("tina@example.com"))

    client.post("/accounts/email/", {"action_add": "", "email": "tina.work@example.com"})
    [confirm] = mail.outbox
    assert_branded(confirm)
    assert confirm.subject == "Masthead: Confirm your email address"
    client.get(confirmation_path(confirm), REMOTE_ADDR=READER_IP)

    notices = mail.outbox[1:]
    assert notices, "no notice of the change"
    for notice in notices:
        assert_branded(notice)
    assert any("tina.work@example.com" in parts(n)[1] for n in notices)


def every_allauth_mail() -> list[str]:
    return sorted(
        str(path.relative_to(ALLAUTH_TEMPLATES)).removesuffix("_subject.txt")
        for folder in ("account/email", "mfa/email")
        for path in (ALLAUTH_TEMPLATES / folder).glob("*_subject.txt")
    )


@pytest.mark.parametrize("prefix", every_allauth_mail())
def test_every_kind_of_account_mail_allauth_sends_is_ours(prefix, make_member):
    """Also the ones no flow here sends yet (login codes, security keys): a newer allauth's
    new kind fails this until it has templates of ours."""
    user = make_member("tina@example.com")
    request = RequestFactory().get("/", HTTP_HOST="testserver")
    request.user = user
    context = {
        "user": user,
        "code": "ABC123",
        "activate_url": "http://testserver/accounts/confirm-email/key/",
        "password_reset_url": "http://testserver/accounts/password/reset/key/1-set/",
        "signup_url": "http://testserver/accounts/signup/",
        "from_email": "old@example.com",
        "to_email": "tina@example.com",
        "deleted_email": "old@example.com",
        "ip": "192.0.2.1",
        "user_agent": "Firefox",
        "timestamp": "29 November 2026",
    }

    with allauth_context.request_context(request):
        get_adapter().send_mail(prefix, "tina@example.com", context)

    [message] = mail.outbox
    text, _ = assert_branded(message)
    assert len(message.subject) > len("Masthead: ")
    # a link allauth built on the request's host now points at the site
    for url in ("activate_url", "password_reset_url", "signup_url"):
        if context[url].replace("http://testserver", "") in text:
            assert context[url].replace("http://testserver", SITE_URL) in text
