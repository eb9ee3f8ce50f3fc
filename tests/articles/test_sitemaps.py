"""/sitemap.xml (articles/sitemaps.py): live articles, topics and people, on the site's URL."""

import xml.etree.ElementTree as ET

from django.test import override_settings

from articles.models import Person
from tests.conftest import SECRET_SENTENCES

SITEMAP_NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}


@override_settings(SITE_URL="https://masthead.example")
def test_the_sitemap_lists_home_pricing_articles_topics_and_people_on_the_sites_url(
    client, articles, reviewer
):
    response = client.get("/sitemap.xml", HTTP_HOST="testserver")

    assert response.status_code == 200
    locations = {
        loc.text for loc in ET.fromstring(response.content).findall("s:url/s:loc", SITEMAP_NS)
    }
    assert locations == {
        "https://masthead.example/",
        "https://masthead.example/pricing/",
        "https://masthead.example/articles/public-article/",
        "https://masthead.example/articles/members-article/",
        "https://masthead.example/articles/premium-article/",
        "https://masthead.example/topics/leadership/",
        f"https://masthead.example/people/{Person.objects.get(name='Ada Byline').slug}/",
        "https://masthead.example/people/rex-review/",
    }
    for sentence in SECRET_SENTENCES.values():
        assert sentence not in response.content.decode()
