"""Changing the sign-in address (/accounts/email/): the new one counts only once verified."""

from allauth.account.models import EmailAddress
from django.core import mail

from tests.accounts.steps import confirmation_path
from tests.conftest import PASSWORD


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
