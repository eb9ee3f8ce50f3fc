"""Resetting a forgotten password (/accounts/password/reset/): the same answer for any address,
and a mailed link that sets the new one."""

import re

from django.core import mail
from hypothesis import given

from accounts.models import User
from tests.accounts.steps import NEW_PASSWORD
from tests.hostile import EXAMPLES, form_data, row_counts


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


@EXAMPLES
@given(data=form_data(["email"]))
def test_any_input_to_password_reset_is_answered_and_writes_nothing(client, db, fresh_cache, data):
    before = row_counts(client, "/accounts/password/reset/")
    response = client.post("/accounts/password/reset/", data)
    assert response.status_code < 500
    assert row_counts(client, "/") == before
