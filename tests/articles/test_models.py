"""The articles app's models (articles/models.py): site settings are one row."""

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
