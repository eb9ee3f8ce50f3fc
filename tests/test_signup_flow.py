"""Sign-up, verification, login, logout, password reset and email change, through the test client."""

import re

import pytest

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
