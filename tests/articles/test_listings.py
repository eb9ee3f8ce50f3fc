"""The listing pages (articles/views.py's topic and person pages, and the home page's lists):
each lists its own live articles, never a draft or a scheduled one, at the same cost in queries
however many it shows."""

import pytest

from articles.models import Topic, Visibility
from tests.articles.conftest import count_queries

LISTINGS = ["/", "/topics/leadership/", "/people/ada-byline/"]


def test_topic_page_lists_its_articles_only(client, make_article, topic, author):
    other = Topic.objects.create(name="Productivity", slug="productivity")
    make_article("leading-well", title="Leading Well")
    make_article("busy-days", title="Busy Days", topic=other)

    response = client.get("/topics/leadership/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "Leadership" in html
    assert "Leading Well" in html
    assert "Busy Days" not in html
    assert client.get("/topics/no-such-topic/").status_code == 404


def test_author_page_shows_the_person_and_lists_their_articles(client, make_article, reviewer):
    make_article("by-ada", title="Written By Ada")
    make_article("by-rex", title="Written By Rex", author=reviewer)

    html = client.get("/people/ada-byline/").content.decode()

    assert "Ada Byline" in html
    assert "Content Writer and Editor" in html
    assert "Written By Ada" in html
    assert "Written By Rex" not in html
    assert client.get("/people/nobody/").status_code == 404


@pytest.mark.parametrize("reader_name", ["anonymous", "in_trial"])
@pytest.mark.parametrize("url", LISTINGS)
def test_listings_leave_out_drafts_and_scheduled_articles(
    client, readers, unpublished, make_article, reader_name, url
):
    make_article("the-live-one", visibility=Visibility.PUBLIC, title="The Live One")
    if readers[reader_name]:
        client.force_login(readers[reader_name])

    html = client.get(url).content.decode()

    assert "The Live One" in html
    assert "The Draft" not in html
    assert "The Scheduled" not in html


def publish_more(make_article, count, *, start):
    for number in range(start, start + count):
        make_article(f"listed-{number}", featured=number % 5 == 0)


@pytest.mark.usefixtures("production_caching")
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
