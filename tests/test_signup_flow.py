"""Sign-up, verification, login, logout, password reset and email change, through the test client."""

import re

import pytest
import time_machine
from allauth.account.models import EmailAddress
from django.core import mail
from django.test import Client
from django.utils import timezone

from accounts.models import TrialClaim, User
from articles.models import Visibility
from tests.conftest import PASSWORD, SECRET_SENTENCES

NEW_PASSWORD = "a-fresh-and-long-passphrase"


def confirmation_path(message) -> str:
    """The path of the verification link in a mail, as the member would click it."""
    match = re.search(r"https?://[^/\s]+(/accounts/confirm-email/[^/\s]+/)", message.body)
    assert match, f"no confirmation link in:\n{message.body}"
    return match.group(1)


def sign_up(client, email, password=NEW_PASSWORD):
    return client.post(
        "/accounts/signup/", {"email": email, "password1": password, "password2": password}
    )


def test_sign_up_sends_a_verification_mail_and_the_link_starts_the_trial(client, articles, plans):
    response = sign_up(client, "Some.One+news@Example.com")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/confirm-email/"
    [message] = mail.outbox
    # allauth stores and mails addresses lower-cased; the +tag and dots stay as typed
    assert message.to == ["some.one+news@example.com"]
    user = User.objects.get(email="some.one+news@example.com")
    assert user.membership.trial_started_at is None  # not before verification

    path = confirmation_path(message)
    assert client.get(path).status_code == 200
    response = client.post(path)

    assert response.status_code == 302
    user.refresh_from_db()
    assert user.membership.trial_started_at is not None
    assert EmailAddress.objects.get(user=user).verified
    assert TrialClaim.objects.filter(user=user).exists()
    page = client.get("/articles/premium-article/").content.decode()
    assert SECRET_SENTENCES[Visibility.PREMIUM] in page
    assert client.session["_auth_user_id"] == str(user.pk)  # signed in by the link


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


def test_logout_by_get_does_not_log_out(client, make_member):
    client.force_login(make_member("tina@example.com", trial="active"))

    response = client.get("/accounts/logout/")

    assert response.status_code == 200  # a page asking to confirm, with a POST form
    assert 'method="post"' in response.content.decode()
    assert client.get("/account/").status_code == 200  # still signed in


def test_logout_by_post_logs_out(client, make_member):
    client.force_login(make_member("tina@example.com", trial="active"))

    response = client.post("/accounts/logout/")

    assert response.status_code == 302
    assert "_auth_user_id" not in client.session
    assert client.get("/account/")["Location"].startswith("/accounts/login/")


def test_password_reset_answers_the_same_for_known_and_unknown_addresses(client, make_member):
    make_member("tina@example.com", trial="active")

    known = client.post("/accounts/password/reset/", {"email": "tina@example.com"})
    unknown = client.post("/accounts/password/reset/", {"email": "nobody@example.com"})

    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"] == "/accounts/password/reset/done/"
    reset_mail = [m for m in mail.outbox if m.to == ["tina@example.com"]]
    assert len(reset_mail) == 1
    assert "/accounts/password/reset/key/" in reset_mail[0].body


def test_password_reset_link_sets_a_new_password(client, make_member):
    make_member("tina@example.com", trial="active")
    client.post("/accounts/password/reset/", {"email": "tina@example.com"})
    [message] = mail.outbox
    path = re.search(r"https?://[^/\s]+(/accounts/password/reset/key/\S+/)", message.body).group(1)

    form = client.get(path, follow=True)  # allauth moves the key into the session
    response = client.post(
        form.redirect_chain[-1][0], {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    )

    assert response.status_code == 302
    assert User.objects.get(email="tina@example.com").check_password(NEW_PASSWORD)


def test_changing_email_adds_an_unverified_address_and_mails_it(client, make_member):
    tina = make_member("tina@example.com", trial="active")
    client.force_login(tina)

    response = client.post("/accounts/email/", {"action_add": "", "email": "tina.new@example.com"})

    assert response.status_code == 302
    new = EmailAddress.objects.get(user=tina, email="tina.new@example.com")
    assert not new.verified
    [message] = mail.outbox
    assert message.to == ["tina.new@example.com"]
    assert "/accounts/confirm-email/" in message.body
    # until verified, the old address is still the one to log in with
    tina.refresh_from_db()
    assert tina.email == "tina@example.com"


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


def test_confirming_the_changed_address_makes_it_the_login(client, make_member):
    tina = make_member("tina@example.com", trial="active")
    client.force_login(tina)
    client.post("/accounts/email/", {"action_add": "", "email": "tina.new@example.com"})

    client.post(confirmation_path(mail.outbox[-1]))

    tina.refresh_from_db()
    assert tina.email == "tina.new@example.com"
    assert list(EmailAddress.objects.filter(user=tina).values_list("email", "verified")) == [
        ("tina.new@example.com", True)
    ]
    client.logout()
    client.post("/accounts/login/", {"login": "tina.new@example.com", "password": PASSWORD})
    assert client.session["_auth_user_id"] == str(tina.pk)


def test_signing_up_with_a_taken_address_looks_the_same_and_tells_the_owner(client, make_member):
    make_member("tina@example.com", trial="active")

    taken = sign_up(client, "tina@example.com")
    fresh = sign_up(Client(), "fresh@example.com")

    assert taken.status_code == fresh.status_code == 302
    assert taken["Location"] == fresh["Location"] == "/accounts/confirm-email/"
    assert User.objects.filter(email="tina@example.com").count() == 1
    to_tina = [m for m in mail.outbox if m.to == ["tina@example.com"]]
    assert len(to_tina) == 1  # "you already have an account", sent to the owner only
    assert "/accounts/confirm-email/" not in to_tina[0].body


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


@pytest.mark.parametrize(
    ("url", "fields"),
    [
        ("/accounts/signup/", ['name="email"', 'name="password1"', 'name="password2"']),
        ("/accounts/login/", ['name="login"', 'name="password"']),
        ("/accounts/password/reset/", ['name="email"']),
    ],
)
def test_the_account_forms_render_for_a_visitor(client, db, url, fields):
    response = client.get(url)

    html = response.content.decode()
    assert response.status_code == 200
    assert 'name="csrfmiddlewaretoken"' in html
    for field in fields:
        assert field in html
    assert 'name="username"' not in html  # email is the login
