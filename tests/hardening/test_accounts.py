"""Accounts that give nothing away and end properly: no account enumeration at sign-up,
and a password change signs out every other session."""

from django.core import mail

from accounts.models import User
from tests.conftest import PASSWORD

NEW_PASSWORD = "a-fresh-and-long-passphrase"


def sign_up(client, email):
    return client.post(
        "/accounts/signup/", {"email": email, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    )


def test_signing_up_with_a_taken_address_looks_the_same_and_mails_the_owner(
    client_for, make_member, fresh_cache
):
    make_member("tina@example.com", trial="active")

    taken = sign_up(client_for(None), "tina@example.com")
    taken_mail = list(mail.outbox)
    mail.outbox.clear()
    new = sign_up(client_for(None), "newcomer@example.com")

    assert taken.status_code == new.status_code == 302
    assert taken["Location"] == new["Location"]
    # the owner of the address hears someone tried; nobody learns it from the page
    [warning] = taken_mail
    assert warning.to == ["tina@example.com"]
    assert "already" in (warning.subject + warning.body).lower()
    assert User.objects.filter(email="tina@example.com").count() == 1
    [verification] = mail.outbox
    assert verification.to == ["newcomer@example.com"]


def test_the_sign_up_page_after_a_taken_address_says_the_same_as_for_a_new_one(
    client_for, make_member, fresh_cache
):
    make_member("tina@example.com", trial="active")
    taken_client, new_client = client_for(None), client_for(None)
    sign_up(taken_client, "tina@example.com")
    sign_up(new_client, "newcomer@example.com")

    taken_page = taken_client.get("/accounts/confirm-email/").content.decode()
    new_page = new_client.get("/accounts/confirm-email/").content.decode()

    assert taken_page.replace("tina@example.com", "X") == new_page.replace(
        "newcomer@example.com", "X"
    )


def test_changing_the_password_signs_out_every_other_session(client_for, make_member, fresh_cache):
    tina = make_member("tina@example.com", trial="active")
    here, elsewhere = client_for(None), client_for(None)
    for client in (here, elsewhere):
        assert (
            client.post(
                "/accounts/login/", {"login": "tina@example.com", "password": PASSWORD}
            ).status_code
            == 302
        )
    assert elsewhere.get("/account/").status_code == 200

    response = here.post(
        "/accounts/password/change/",
        {"oldpassword": PASSWORD, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )

    assert response.status_code == 302
    tina.refresh_from_db()
    assert tina.check_password(NEW_PASSWORD)
    assert here.get("/account/").status_code == 200  # the session that changed it stays
    gone = elsewhere.get("/account/")
    assert gone.status_code == 302 and gone["Location"].startswith("/accounts/login/")
