"""The admin: content editors run the publication but never see members or billing."""


def test_a_member_who_is_not_staff_cannot_open_the_admin(client, readers):
    client.force_login(readers["in_trial"])

    response = client.get("/admin/articles/article/")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
