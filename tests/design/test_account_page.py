"""The account page's own parts: membership state and the member's email preferences."""

from accounts.models import User


def test_a_member_in_trial_sees_the_days_left_and_the_preferences(client, readers):
    client.force_login(readers["in_trial"])

    html = client.get("/account/").content.decode()

    assert "Free trial: 6 days left" in html
    assert "Email preferences" in html
    assert 'name="wants_product_emails"' in html and "checked" in html


def test_unticking_the_box_stops_product_emails(client, readers):
    client.force_login(readers["in_trial"])

    response = client.post("/account/email-preferences/", {})

    assert response.status_code == 302 and response["Location"] == "/account/"
    assert User.objects.get(pk=readers["in_trial"].pk).wants_product_emails is False
    html = client.get("/account/").content.decode()
    assert "Your email preferences are saved." in html


def test_ticking_it_again_restores_them(client, readers):
    User.objects.filter(pk=readers["in_trial"].pk).update(wants_product_emails=False)
    client.force_login(readers["in_trial"])

    client.post("/account/email-preferences/", {"wants_product_emails": "on"})

    assert User.objects.get(pk=readers["in_trial"].pk).wants_product_emails is True


def test_preferences_change_only_by_post_and_only_for_a_signed_in_member(client, readers):
    assert client.post("/account/email-preferences/", {})["Location"].startswith("/accounts/login/")
    client.force_login(readers["in_trial"])
    assert client.get("/account/email-preferences/").status_code == 405
    assert User.objects.get(pk=readers["in_trial"].pk).wants_product_emails is True
