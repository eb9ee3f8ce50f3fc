"""Signing in (/accounts/login/, allauth): by email and password, verified members only, back to
the page that asked, and rate limits that neither a right password nor a forged address dodges."""

import time_machine
from django.apps import apps
from django.core import mail
from django.utils import timezone
from hypothesis import given

from articles.models import Visibility
from tests.conftest import PASSWORD, SECRET_SENTENCES
from tests.hostile import EXAMPLES, form_data, row_counts


def test_a_verified_member_logs_in_with_email_and_password(client, make_member):
    tina = make_member("tina@example.com", trial="active")

    response = client.post("/accounts/login/", {"login": "tina@example.com", "password": PASSWORD})

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(tina.pk)


def test_a_wrong_password_is_refused(client, make_member):
    make_member("tina@example.com", trial="active")

    response = client.post("/accounts/login/", {"login": "tina@example.com", "password": "not-it"})

    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert "not correct" in response.content.decode()


def test_an_unverified_member_cannot_log_in_and_is_sent_to_verify(client, make_member):
    make_member("una@example.com", verified=False)

    response = client.post("/accounts/login/", {"login": "una@example.com", "password": PASSWORD})

    assert response.status_code == 302
    assert response["Location"] == "/accounts/confirm-email/"
    assert "_auth_user_id" not in client.session
    assert client.get("/account/").status_code == 302  # still signed out
    [message] = mail.outbox  # a fresh verification link
    assert message.to == ["una@example.com"]
    assert "/accounts/confirm-email/" in message.body
    # and the browser is told where it went, as after signing up
    html = client.get("/accounts/confirm-email/").content.decode()
    assert "we sent a link to <strong>u…@example.com</strong>" in html
    assert 'action="/accounts/signup/resend/"' in html


def test_signing_in_from_the_paywall_brings_the_member_back_to_the_article(
    client, make_member, articles
):
    make_member("tina@example.com", trial="active")
    page = client.get("/articles/premium-article/").content.decode()
    assert 'href="/accounts/login/?next=/articles/premium-article/"' in page

    response = client.post(
        "/accounts/login/?next=/articles/premium-article/",
        {"login": "tina@example.com", "password": PASSWORD},
    )

    assert response.status_code == 302
    assert response["Location"] == "/articles/premium-article/"
    assert SECRET_SENTENCES[Visibility.PREMIUM] in client.get(response["Location"]).content.decode()


# ---- rate limits ----------------------------------------------------------------------


def test_allauth_rate_limits_are_on_for_every_form_that_mails_or_checks_a_password():
    from allauth.account import app_settings

    for action in [
        "login",
        "login_failed",
        "signup",
        "reset_password",
        "confirm_email",
        "manage_email",
    ]:
        assert app_settings.RATE_LIMITS.get(action), action


def test_after_five_wrong_passwords_even_the_right_one_is_refused_for_a_while(
    client, make_member, fresh_cache
):
    make_member("tina@example.com", trial="active")
    with time_machine.travel(
        timezone.now(), tick=False
    ):  # all within allauth's window, however slow the machine
        for _ in range(5):
            client.post("/accounts/login/", {"login": "tina@example.com", "password": "guess"})

        response = client.post(
            "/accounts/login/", {"login": "tina@example.com", "password": PASSWORD}
        )

    assert response.status_code == 200
    assert "Too many failed login attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_hammering_the_login_form_from_one_address_gets_429(client, db, fresh_cache):
    with time_machine.travel(timezone.now(), tick=False):  # all within the same minute
        statuses = [
            client.post(
                "/accounts/login/", {"login": f"guess{n}@example.com", "password": "guess"}
            ).status_code
            for n in range(40)
        ]

    assert statuses[0] == 200
    first_refusal = statuses.index(429)
    assert set(statuses[first_refusal:]) == {429}  # and it stays refused


def test_a_forged_forwarded_for_does_not_dodge_the_login_rate_limit(
    client, make_member, fresh_cache
):
    make_member("tina@example.com", trial="active")
    for attempt in range(10):  # allauth: 10 failed logins a minute from one address
        client.post(
            "/accounts/login/",
            {"login": f"guess{attempt}@example.com", "password": "wrong"},
            HTTP_X_FORWARDED_FOR=f"203.0.113.{attempt}",
        )

    response = client.post(
        "/accounts/login/",
        {"login": "tina@example.com", "password": PASSWORD},
        HTTP_X_FORWARDED_FOR="198.51.100.7",
    )

    assert response.status_code in (200, 429)
    assert "_auth_user_id" not in client.session


@EXAMPLES
@given(data=form_data(["login", "password", "remember"]))
def test_any_input_to_log_in_is_answered_signs_in_nobody_and_writes_nothing(
    client, make_member, fresh_cache, data
):
    make_member("tina@example.com", trial="active") if not apps.get_model(
        "accounts", "User"
    ).objects.exists() else None
    before = row_counts(client, "/accounts/login/")
    response = client.post("/accounts/login/", data)
    assert response.status_code < 500
    assert "_auth_user_id" not in client.session
    assert row_counts(client, "/") == before
