"""Site settings: one row, edited in the admin."""

from articles.models import SiteSettings


def test_load_always_returns_the_same_single_row(db):
    first = SiteSettings.load()
    first.headline = "A new offer"
    first.save()

    assert SiteSettings.load().headline == "A new offer"
    assert SiteSettings.objects.count() == 1


def test_saving_a_second_instance_overwrites_the_one_row(db):
    SiteSettings.load()
    SiteSettings(headline="Another").save()

    assert SiteSettings.objects.count() == 1
    assert SiteSettings.load().headline == "Another"


def test_staff_edit_the_settings_in_the_admin_and_the_home_page_follows(client, superuser, plans):
    client.force_login(superuser)
    response = client.get("/admin/articles/sitesettings/")
    assert response.status_code == 302

    change_url = response["Location"]
    response = client.post(
        change_url,
        {
            "headline": "Lead better from Monday",
            "subheadline": "",
            "trusted_by": "Verdigris Labs",
            "members_count": "1200",
            "countries_count": "9",
            "ad_snippet": "",
        },
    )

    assert response.status_code == 302
    html = client.get("/").content.decode()
    assert "Lead better from Monday" in html
    assert "Verdigris Labs" in html and "1,200" in html
