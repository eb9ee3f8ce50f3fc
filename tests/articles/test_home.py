"""The home page (/, articles/views.py's home): the staff's offer and proof, the price and trial
computed from plans, featured and latest articles without their bodies."""

from django.test import override_settings

from articles.models import Visibility
from billing.models import Plan
from tests.conftest import SECRET_SENTENCES
from tests.pages import element_text


def test_home_states_the_offer_from_site_settings_and_plans(client, site_settings, plans, articles):
    html = client.get("/").content.decode()

    assert "Become the manager your team deserves" in html
    assert "Short, practical guides, reviewed by people who have run teams." in html
    assert "From £12.00 per month · 7-day free trial" in html
    assert "48,200" in html and "members" in html
    assert "63" in html and "countries" in html
    assert "Cancel online anytime" in html
    assert "Secure payments by Stripe" in html
    for brand in ("Visa", "Mastercard", "American Express"):
        assert f'alt="{brand}"' in html


def test_trusted_by_lists_each_named_organisation_once(client, site_settings, plans):
    html = client.get("/").content.decode()

    assert "Trusted by" in html
    for name in ("Kestrel Freightworks", "Ollander Bank", "Quillon Press"):
        assert html.count(f">{name}</li>") == 1
    assert '<li class="logo logo--' in html
    assert (
        "></li>" not in html.split("Trusted by", 1)[1].split("</ul>", 1)[0]
    )  # blank lines are skipped


def test_the_price_follows_the_cheapest_active_monthly_plan(client, site_settings, plans):
    Plan.objects.filter(name="Monthly").update(amount=900)

    assert "From £9.00 per month" in client.get("/").content.decode()


@override_settings(TRIAL_DAYS=14)
def test_the_trial_length_follows_the_setting(client, site_settings, plans):
    assert "From £12.00 per month · 14-day free trial" in client.get("/").content.decode()


def test_without_active_plans_no_price_is_promised(client, site_settings, plans):
    Plan.objects.update(active=False)

    html = client.get("/").content.decode()

    assert "From £" not in html
    assert "Become the manager your team deserves" in html


def test_zero_figures_and_no_names_hide_the_social_proof(client, site_settings, plans):
    site_settings.members_count = site_settings.countries_count = 0
    site_settings.trusted_by = ""
    site_settings.save()

    html = client.get("/").content.decode()

    assert "Trusted by" not in html
    assert "countries" not in html


def test_home_offers_the_free_trial_to_a_visitor(client, articles, plans):
    html = client.get("/").content.decode()

    assert "From £12.00 per month · 7-day free trial" in element_text(html, css_class="hero")


def test_home_offers_no_free_trial_to_a_member_whose_trial_is_over(
    client, readers, articles, plans
):
    client.force_login(readers["trial_over"])

    html = client.get("/").content.decode()

    hero = element_text(html, css_class="hero")
    assert "From £12.00 per month" in hero
    assert "Subscribe" in hero
    assert "free trial" not in html.replace("Your free trial has ended", "")


def test_a_member_with_premium_is_not_sold_a_trial(client, site_settings, plans, readers):
    client.force_login(readers["in_trial"])

    html = client.get("/").content.decode()

    assert "Start your free trial" not in html
    assert "days left" in html


def test_home_shows_featured_articles_and_the_latest(client, make_article):
    make_article(
        "the-big-feature", visibility=Visibility.PUBLIC, featured=True, title="The Big Feature"
    )
    make_article("a-fresh-piece", visibility=Visibility.PREMIUM, title="A Fresh Piece")

    html = client.get("/").content.decode()

    featured = element_text(html, aria_labelledby="featured-heading")
    latest = element_text(html, aria_labelledby="latest-heading")
    assert "The Big Feature" in featured
    assert "A Fresh Piece" in latest
    assert "The Big Feature" not in latest  # shown once, in its own row
    for visibility in Visibility:
        assert SECRET_SENTENCES[visibility] not in html


def test_featured_and_latest_articles_are_listed_without_their_bodies(
    client, site_settings, plans, articles
):
    from tests.conftest import SECRET_SENTENCES

    articles["premium"].featured = True
    articles["premium"].save()

    html = client.get("/").content.decode()

    assert 'id="featured-heading"' in html and 'id="latest-heading"' in html
    for article in articles.values():
        assert article.title in html
    for sentence in SECRET_SENTENCES.values():
        assert sentence not in html


def test_a_home_without_site_settings_still_renders_with_defaults(client, plans, db):
    response = client.get("/")

    assert response.status_code == 200
    assert "Sharper management, one article at a time" in response.content.decode()
