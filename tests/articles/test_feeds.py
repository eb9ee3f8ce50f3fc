"""The RSS feeds (/feed/, /topics/<slug>/feed/; articles/feeds.py): every live article with its
public summary and intro, never a paywalled body, whoever asks."""

import xml.etree.ElementTree as ET
from datetime import timedelta

from django.test import override_settings
from django.utils import timezone

from articles.models import Status, Topic, Visibility
from tests.conftest import SECRET_SENTENCES


def feed_items(response):
    channel = ET.fromstring(response.content).find("channel")
    return {item.findtext("title"): item for item in channel.findall("item")}


@override_settings(SITE_URL="https://masthead.example")
def test_the_feed_has_every_published_article_with_its_summary_and_intro(client, articles):
    response = client.get("/feed/")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/rss+xml")
    items = feed_items(response)
    assert set(items) == {"Public Article", "Members Article", "Premium Article"}
    premium = items["Premium Article"]
    assert premium.findtext("link") == "https://masthead.example/articles/premium-article/"
    assert "What premium-article is about." in premium.findtext("description")
    assert "The opening of premium-article" in premium.findtext("description")


def test_a_topic_feed_has_only_that_topics_articles(client, articles, make_article):
    other = Topic.objects.create(name="Hiring", slug="hiring")
    make_article("hiring-well", visibility=Visibility.PUBLIC, topic=other)

    assert set(feed_items(client.get("/topics/hiring/feed/"))) == {"Hiring Well"}
    assert "Hiring Well" not in feed_items(client.get("/topics/leadership/feed/"))
    assert client.get("/topics/no-such-topic/feed/").status_code == 404


def test_no_feed_sitemap_or_robots_carries_any_body_whoever_asks(client_for, readers, articles):
    for name, reader in readers.items():
        client = client_for(reader)
        for url in ["/feed/", "/topics/leadership/feed/", "/sitemap.xml", "/robots.txt"]:
            text = client.get(url).content.decode()
            for sentence in SECRET_SENTENCES.values():
                assert sentence not in text, (name, url)
            assert "The body of" not in text, (name, url)
        assert "Premium Article" in client.get("/feed/").content.decode()


def test_drafts_and_scheduled_articles_stay_out_of_feeds_and_sitemap(
    client, articles, make_article
):
    make_article("a-draft", status=Status.DRAFT)
    make_article("not-yet", status=Status.SCHEDULED, publish_at=timezone.now() + timedelta(hours=2))

    feed = client.get("/feed/").content.decode()
    sitemap = client.get("/sitemap.xml").content.decode()

    for text in (feed, sitemap):
        assert "a-draft" not in text and "A Draft" not in text
        assert "not-yet" not in text and "Not Yet" not in text


def test_paywalled_items_say_so_in_a_category_and_free_ones_do_not(client, articles):
    for url in ("/feed/", "/topics/leadership/feed/"):
        items = feed_items(client.get(url))

        categories = {
            title: [c.text for c in item.findall("category")] for title, item in items.items()
        }
        assert categories == {
            "Public Article": ["Leadership"],
            "Members Article": ["Leadership", "Members"],
            "Premium Article": ["Leadership", "Premium"],
        }
