"""Security middleware and policy (config/security.py, the CSP settings): staff must set up
two-factor authentication before any admin page, every member may, and the admin works under
the Content Security Policy."""

import re

import time_machine
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.test import override_settings

from tests.conftest import PASSWORD


@override_settings(MFA_REQUIRED_FOR_STAFF=True)
def test_staff_without_two_factor_are_sent_to_set_it_up_before_the_admin(client, superuser):
    client.force_login(superuser)

    for url in ["/admin/", "/admin/articles/article/"]:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"] == "/accounts/2fa/totp/activate/"
    assert client.get("/").status_code == 200  # reading is not held up


@override_settings(MFA_REQUIRED_FOR_STAFF=True)
def test_staff_with_an_authenticator_use_the_admin(client, superuser):
    TOTP.activate(superuser, generate_totp_secret())
    client.force_login(superuser)

    assert client.get("/admin/").status_code == 200


@override_settings(MFA_REQUIRED_FOR_STAFF=False)
def test_with_the_requirement_off_staff_use_the_admin_without_two_factor(client, superuser):
    client.force_login(superuser)

    assert client.get("/admin/").status_code == 200


@override_settings(MFA_REQUIRED_FOR_STAFF=True)
@time_machine.travel("2026-11-28 12:00:05Z", tick=False)  # the code cannot roll over mid-test
def test_staff_with_two_factor_reach_the_admin_only_after_the_code(client, superuser, fresh_cache):
    from allauth.mfa.totp.internal.auth import (
        format_hotp_value,
        hotp_value,
        yield_hotp_counters_from_time,
    )

    secret = generate_totp_secret()
    TOTP.activate(superuser, secret)
    valid = [
        format_hotp_value(hotp_value(secret, counter))
        for counter in yield_hotp_counters_from_time()
    ]

    response = client.post(
        "/accounts/login/?next=/admin/", {"login": "boss@example.com", "password": PASSWORD}
    )

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/2fa/authenticate/")
    assert "_auth_user_id" not in client.session  # the password alone is not enough
    assert client.get("/admin/").status_code == 302

    wrong_code = next(
        code for code in ("000000", "111111", "222222", "333333") if code not in valid
    )
    wrong = client.post("/accounts/2fa/authenticate/", {"code": wrong_code})
    assert wrong.status_code == 200 and "_auth_user_id" not in client.session

    response = client.post(
        "/accounts/2fa/authenticate/", {"code": valid[len(valid) // 2]}
    )  # this period's code

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(superuser.pk)
    assert client.get("/admin/").status_code == 200


def test_two_factor_is_offered_to_every_member(client, readers):
    client.force_login(readers["in_trial"])

    response = client.get("/accounts/2fa/")

    assert response.status_code == 200
    assert "/accounts/2fa/totp/activate/" in response.content.decode()


@override_settings(MFA_REQUIRED_FOR_STAFF=True)
def test_the_admin_works_under_the_content_security_policy(client, superuser, articles):
    TOTP.activate(superuser, generate_totp_secret())
    client.force_login(superuser)
    article = next(iter(articles.values()))

    for url in [
        "/admin/articles/article/",
        f"/admin/articles/article/{article.pk}/change/",
        "/admin/articles/article/add/",
        f"/admin/accounts/user/{superuser.pk}/change/",
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
        policy = response["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "'unsafe-inline'" not in policy
        # No inline script the policy would block: each is a data block or carries the nonce.
        for tag in re.findall(r"<script\b(?![^>]*\bsrc=)[^>]*>", response.content.decode()):
            assert 'type="application/json"' in tag or "nonce=" in tag, (url, tag)

    assert article.title in client.get("/admin/articles/article/").content.decode()
