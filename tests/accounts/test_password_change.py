"""Changing the password (/accounts/password/change/): it signs out every other session, and
input it refuses changes nothing."""

from django.apps import apps
from hypothesis import given

from tests.accounts.steps import NEW_PASSWORD
from tests.conftest import PASSWORD
from tests.hostile import EXAMPLES, form_data, row_counts


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


@EXAMPLES
@given(data=form_data(["oldpassword", "password1", "password2"]))
def test_any_input_to_password_change_is_answered_and_changes_nothing(
    client, make_member, fresh_cache, data
):
    User = apps.get_model("accounts", "User")
    tina = User.objects.filter(email="tina@example.com").first() or make_member(
        "tina@example.com", trial="active"
    )
    client.force_login(tina)
    before = row_counts(client, "/accounts/password/change/")
    response = client.post("/accounts/password/change/", data)
    assert response.status_code < 500
    tina.refresh_from_db()
    assert tina.check_password(PASSWORD)
    assert row_counts(client, "/") == before
