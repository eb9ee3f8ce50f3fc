"""Signing out (/accounts/logout/): only by POST."""


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
