"""The article page: the byline and role line, the ad slot only without premium, the banners."""

import pytest

from articles.models import Visibility
from tests.conftest import AD_SENTENCE
from tests.test_access_matrix import READS, may_read

PREMIUM_URL = "/articles/premium-article/"
WITH_PREMIUM = [name for name in READS if may_read(name, Visibility.PREMIUM)]
WITHOUT_PREMIUM = [name for name in READS if not may_read(name, Visibility.PREMIUM)]


@pytest.fixture
def premium(articles, reviewer):
    article = articles["premium"]
    article.reviewer = reviewer
    article.save()
    return article


def test_the_header_has_date_topic_title_byline_and_role(client, site_settings, plans, premium):
    html = client.get(PREMIUM_URL).content.decode()

    assert premium.publish_at.strftime("%-d %B %Y") in html
    assert ">Leadership</a>" in html
    assert '<h1 class="article__title">Premium Article</h1>' in html
    assert (
        'by <a href="/people/ada-byline/">Ada Byline</a>, reviewed by <a href="/people/rex-review/">Rex Review</a>'
        in html
    )
    assert "By Ada Byline, Content Writer and Editor" in html
    assert "The opening of premium-article" in html


@pytest.mark.parametrize("reader_name", WITHOUT_PREMIUM)
def test_readers_without_premium_see_the_ad(
    client, site_settings, plans, premium, readers, reader_name
):
    if readers[reader_name]:
        client.force_login(readers[reader_name])

    html = client.get(PREMIUM_URL).content.decode()

    assert 'class="ad-slot"' in html
    assert AD_SENTENCE in html


@pytest.mark.parametrize("reader_name", WITH_PREMIUM)
def test_readers_with_premium_never_see_the_ad(
    client, site_settings, plans, premium, readers, reader_name
):
    client.force_login(readers[reader_name])

    html = client.get(PREMIUM_URL).content.decode()

    assert "premium-content" in html
    assert AD_SENTENCE not in html
    assert "ad-slot" not in html


def test_a_public_article_still_shows_the_ad_to_a_reader_without_premium(
    client, site_settings, plans, articles
):
    html = client.get("/articles/public-article/").content.decode()

    assert "premium-content" in html
    assert AD_SENTENCE in html


def test_the_ad_snippet_is_sanitised(client, site_settings, plans, premium):
    site_settings.ad_snippet = (
        '<p onclick="steal()">Buy <strong>now</strong><script>alert(1)</script>'
        '<img src="https://example.com/a.png" alt="An ad" onerror="steal()">'
        '<iframe src="https://example.com"></iframe><a href="javascript:steal()">x</a>'
        '<a href="https://example.com/ok" style="color:red">ok</a></p>'
    )
    site_settings.save()

    html = client.get(PREMIUM_URL).content.decode()
    ad = html.split('<div class="ad-slot__body">', 1)[1].split("</div>", 1)[0]

    assert "<strong>now</strong>" in ad
    assert '<img src="https://example.com/a.png" alt="An ad">' in ad
    assert (
        'href="https://example.com/ok"' in ad
        and 'rel="noopener noreferrer nofollow sponsored"' in ad
    )
    for forbidden in ("<script", "onclick", "onerror", "<iframe", "javascript:", "style="):
        assert forbidden not in ad


def test_an_empty_snippet_shows_no_ad_slot(client, site_settings, plans, premium):
    site_settings.ad_snippet = "<script>only a script</script>"
    site_settings.save()

    assert "ad-slot" not in client.get(PREMIUM_URL).content.decode()


def test_a_member_in_trial_sees_the_days_left(client, site_settings, plans, premium, readers):
    client.force_login(readers["in_trial"])

    html = client.get(PREMIUM_URL).content.decode()

    assert "Free trial: 6 days left." in html


def test_the_paywall_carries_the_offer_and_the_proof(client, site_settings, plans, premium):
    html = client.get(PREMIUM_URL).content.decode()
    paywall = html.split('<aside class="paywall"', 1)[1].split("</aside>", 1)[0]

    assert "From £12.00 per month · 7-day free trial" in paywall
    assert "Start your free trial" in paywall
    assert "48,200" in paywall and "Trusted by" in paywall and "Ollander Bank" in paywall
    assert "Cancel online anytime" in paywall
    assert "Secure payments by Stripe" in paywall
