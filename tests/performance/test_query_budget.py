"""What a page costs in database queries, for every kind of reader.

The article page needs at most 4 queries whoever reads it (the member and their access, the
article with the body only where allowed). Listing pages cost the same however many articles
they show. Counts are taken with the site-wide lookups (topics menu, entry price, site
settings) warm, as they are on a live site after its first request; the article's own cached
HTML is cold, so the count includes loading its body.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from articles.models import Visibility
from tests.conftest import SECRET_SENTENCES
from tests.test_access_matrix import READS

ARTICLE_PAGE_BUDGET = 4


def warm_site_wide_lookups(client):
    assert client.get("/").status_code == 200


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


def test_a_subscriber_reads_the_premium_body_within_the_budget(
    client, readers, articles, plans, django_assert_max_num_queries
):
    client.force_login(readers["subscriber"])
    warm_site_wide_lookups(client)

    with django_assert_max_num_queries(ARTICLE_PAGE_BUDGET):
        response = client.get("/articles/premium-article/")

    assert SECRET_SENTENCES[Visibility.PREMIUM] in response.content.decode()


def count_queries(client, url) -> int:
    """The number of queries a GET of url makes (its page must answer 200)."""
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


def publish_more(make_article, count, *, start):
    for number in range(start, start + count):
        make_article(f"listed-{number}", featured=number % 5 == 0)


@pytest.mark.parametrize("reader_name", ["anonymous", "in_trial", "subscriber"])
@pytest.mark.parametrize("url", ["/", "/topics/leadership/", "/people/ada-byline/"])
def test_listing_pages_cost_the_same_with_3_or_30_articles(
    client, readers, make_article, plans, reader_name, url
):
    if readers[reader_name] is not None:
        client.force_login(readers[reader_name])
    publish_more(make_article, 3, start=0)
    assert client.get("/articles/listed-0/").status_code == 200  # warms the site-wide lookups
    with_three = count_queries(client, url)

    publish_more(make_article, 27, start=3)
    assert client.get("/articles/listed-0/").status_code == 200  # publishing dropped them
    with_thirty = count_queries(client, url)

    assert with_thirty == with_three
    assert "Listed 29" in client.get(url).content.decode()


@pytest.mark.parametrize(
    "url", ["/", "/topics/leadership/", "/people/ada-byline/", "/articles/premium-article/"]
)
def test_an_anonymous_readers_repeat_visit_makes_no_query(client, articles, plans, url):
    warm_site_wide_lookups(client)  # the first ever request also creates the site settings row
    client.get(url)

    assert count_queries(client, url) == 0


def test_a_subscribers_repeat_visit_costs_one_query_for_the_member_and_their_access(
    client, readers, articles, plans, django_assert_num_queries
):
    client.force_login(readers["subscriber"])
    warm_site_wide_lookups(client)
    assert (
        client.get("/articles/premium-article/").status_code == 200
    )  # the article and its HTML cached

    with django_assert_num_queries(1):  # the session comes from the cache (cached_db)
        response = client.get("/articles/premium-article/")

    assert SECRET_SENTENCES[Visibility.PREMIUM] in response.content.decode()
