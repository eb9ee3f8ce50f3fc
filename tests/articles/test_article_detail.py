"""The article page (/articles/<slug>/, articles/views.py's article_detail): its header, the
ad slot for readers without premium, previews of unpublished articles for staff, and what it
costs in queries. Who reads the body is the access matrix's (tests/test_access_matrix.py); the
paywall's offer and reasons are in test_paywall.py."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from articles.models import Article, Status, Visibility
from tests.articles.conftest import warm_site_wide_lookups
from tests.conftest import AD_SENTENCE, SECRET_SENTENCES
from tests.pages import element_text
from tests.test_access_matrix import READS, may_read

PREMIUM_URL = "/articles/premium-article/"
WITH_PREMIUM = [name for name in READS if may_read(name, Visibility.PREMIUM)]
WITHOUT_PREMIUM = [name for name in READS if not may_read(name, Visibility.PREMIUM)]
# Queries for any reader: the member with their access, and the article (its body only if allowed).
ARTICLE_PAGE_BUDGET = 4


# ---- the header ----------------------------------------------------------------------


def test_article_page_shows_date_topic_title_byline_role_and_intro(client, make_article, reviewer):
    published = datetime(2025, 6, 14, 8, 0, tzinfo=UTC)
    make_article(
        "on-trust",
        visibility=Visibility.PUBLIC,
        title="On Trust",
        reviewer=reviewer,
        publish_at=published,
    )

    html = client.get("/articles/on-trust/").content.decode()

    header = element_text(html, css_class="article__header")
    assert "14 June 2025" in header
    assert "Leadership" in header
    assert "On Trust" in header
    assert (
        "by Ada Byline, Content Writer and Editor reviewed by Rex Review, Executive Coach" in header
    )
    assert header.count("Ada Byline") == 1  # one byline
    assert "The opening of on-trust, which every reader may see." in html


def test_article_without_a_reviewer_names_only_the_author(client, make_article):
    make_article("solo", visibility=Visibility.PUBLIC)

    header = element_text(
        client.get("/articles/solo/").content.decode(), css_class="article__header"
    )

    assert "by Ada Byline" in header
    assert "reviewed by" not in header


def test_the_header_has_date_topic_title_byline_and_role(client, site_settings, plans, premium):
    html = client.get(PREMIUM_URL).content.decode()

    assert premium.publish_at.strftime("%-d %B %Y") in html
    assert ">Leadership</a>" in html
    assert '<h1 class="article__title">Premium Article</h1>' in html
    byline = element_text(html, css_class="byline")
    assert (
        byline == "by Ada Byline, Content Writer and Editor reviewed by Rex Review, Executive Coach"
    )
    assert '<a href="/people/ada-byline/">Ada Byline</a>' in html
    assert '<a href="/people/rex-review/">Rex Review</a>' in html
    assert "By Ada Byline" not in html  # the author is named once, not again under the byline
    assert "The opening of premium-article" in html


def test_a_member_in_trial_sees_the_days_left(client, site_settings, plans, premium, readers):
    client.force_login(readers["in_trial"])

    html = client.get(PREMIUM_URL).content.decode()

    assert "Free trial: 6 days left." in html


# ---- the ad slot ---------------------------------------------------------------------


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


# ---- drafts, scheduled articles and staff previews -------------------------------------


@pytest.mark.parametrize("reader_name", [name for name in READS if name != "staff"])
@pytest.mark.parametrize("slug", ["the-draft", "the-scheduled"])
def test_readers_get_404_for_drafts_and_scheduled_articles(
    client, readers, unpublished, reader_name, slug
):
    if readers[reader_name]:
        client.force_login(readers[reader_name])

    response = client.get(f"/articles/{slug}/")

    assert response.status_code == 404
    assert SECRET_SENTENCES[Visibility.PUBLIC] not in response.content.decode()


@pytest.mark.parametrize("slug", ["the-draft", "the-scheduled"])
def test_staff_preview_unpublished_articles_with_a_banner(client, readers, unpublished, slug):
    client.force_login(readers["staff"])

    response = client.get(f"/articles/{slug}/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "Preview" in html
    assert "not visible to readers" in html
    assert SECRET_SENTENCES[Visibility.PUBLIC] in html


def test_staff_see_no_preview_banner_on_a_live_article(client, readers, articles):
    client.force_login(readers["staff"])

    html = client.get("/articles/public-article/").content.decode()

    assert "not visible to readers" not in html


def test_a_scheduled_article_goes_live_at_its_moment_by_the_clock(make_article, readers):
    at = timezone.now().replace(microsecond=0) + timedelta(days=2)
    make_article(
        "at-dawn",
        visibility=Visibility.PREMIUM,
        status=Status.SCHEDULED,
        publish_at=at,
        title="At Dawn",
    )
    reader = Client()

    with time_machine.travel(at - timedelta(seconds=1), tick=False):
        reader.force_login(readers["in_trial"])
        before = reader.get("/articles/at-dawn/")
        home_before = reader.get("/").content.decode()
    with time_machine.travel(at, tick=False):
        reader.force_login(readers["in_trial"])
        after = reader.get("/articles/at-dawn/")
        home_after = reader.get("/").content.decode()

    assert before.status_code == 404
    assert "At Dawn" not in home_before
    assert after.status_code == 200
    assert SECRET_SENTENCES[Visibility.PREMIUM] in after.content.decode()
    assert "At Dawn" in home_after
    # no job flipped anything: the row is as the editor left it
    assert Article.objects.get(slug="at-dawn").status == Status.SCHEDULED


# ---- what it costs --------------------------------------------------------------------


@pytest.mark.usefixtures("production_caching")
@pytest.mark.parametrize("reader_name", READS)
@pytest.mark.parametrize("visibility", list(Visibility))
def test_the_article_page_needs_at_most_four_queries_for_any_reader(
    client, readers, articles, plans, reader_name, visibility, django_assert_max_num_queries
):
    if readers[reader_name] is not None:
        client.force_login(readers[reader_name])
    warm_site_wide_lookups(client)

    with django_assert_max_num_queries(ARTICLE_PAGE_BUDGET):
        response = client.get(f"/articles/{visibility}-article/")

    assert response.status_code == 200
    assert f"The opening of {visibility}-article" in response.content.decode()


@pytest.mark.usefixtures("production_caching")
def test_a_subscriber_reads_the_premium_body_within_the_budget(
    client, readers, articles, plans, django_assert_max_num_queries
):
    client.force_login(readers["subscriber"])
    warm_site_wide_lookups(client)

    with django_assert_max_num_queries(ARTICLE_PAGE_BUDGET):
        response = client.get("/articles/premium-article/")

    assert SECRET_SENTENCES[Visibility.PREMIUM] in response.content.decode()
