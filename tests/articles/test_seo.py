"""What search engines read (articles/seo.py): an article page's head (canonical URL,
description, Open Graph and Twitter tags) and JSON-LD that marks paywalled articles as such, all
from the public part only; and robots.txt."""

import json
import re

import pytest
from django.test import override_settings

from articles.models import Visibility
from tests.conftest import SECRET_SENTENCES
from tests.test_access_matrix import may_read


def head_of(html):
    return html.split("</head>", 1)[0]


def json_ld(response):
    scripts = re.findall(
        r'<script type="application/ld\+json">(.*?)</script>', response.content.decode(), re.S
    )
    assert len(scripts) == 1
    return json.loads(scripts[0])


def meta(html, attribute, name):
    match = re.search(rf'<meta {attribute}="{re.escape(name)}" content="([^"]*)">', html)
    return match and match.group(1)


@override_settings(SITE_URL="https://masthead.example")
def test_the_head_names_the_canonical_url_and_the_public_description(client, articles):
    article = articles[Visibility.PREMIUM]
    article.seo_description = "A short public description for search engines."
    article.save()

    head = head_of(client.get("/articles/premium-article/", HTTP_HOST="127.0.0.1").content.decode())

    assert (
        '<link rel="canonical" href="https://masthead.example/articles/premium-article/">' in head
    )
    assert meta(head, "name", "description") == "A short public description for search engines."
    assert (
        meta(head, "property", "og:description") == "A short public description for search engines."
    )
    assert (
        meta(head, "name", "twitter:description")
        == "A short public description for search engines."
    )
    assert meta(head, "property", "og:title") == "Premium Article"
    assert meta(head, "property", "og:url") == "https://masthead.example/articles/premium-article/"


def test_without_an_seo_description_the_summary_describes_the_article(client, articles):
    head = head_of(client.get("/articles/members-article/").content.decode())

    assert meta(head, "name", "description") == "What members-article is about."


@override_settings(SITE_URL="https://masthead.example")
@pytest.mark.parametrize("visibility", [Visibility.PREMIUM, Visibility.MEMBERS])
def test_json_ld_marks_a_paywalled_article_and_names_the_gated_part(client, articles, visibility):
    data = json_ld(client.get(f"/articles/{visibility}-article/"))

    assert data["@type"] == "NewsArticle"
    assert data["headline"] == f"{visibility.title()} Article"
    assert data["author"] == {
        "@type": "Person",
        "name": "Ada Byline",
        "url": "https://masthead.example/people/ada-byline/",
    }
    assert data["publisher"]["@type"] == "Organization" and data["publisher"]["name"] == "Masthead"
    assert data["datePublished"] and data["dateModified"]
    assert data["isAccessibleForFree"] is False
    assert data["hasPart"] == {
        "@type": "WebPageElement",
        "isAccessibleForFree": False,
        "cssSelector": ".premium-content",
    }
    assert "articleBody" not in data


def test_json_ld_says_a_public_article_is_free(client, articles):
    data = json_ld(client.get("/articles/public-article/"))

    assert data["isAccessibleForFree"] is True
    assert "hasPart" not in data
    assert "articleBody" not in data


def test_the_publisher_logo_and_image_are_the_sites_logo_when_it_has_one(client, articles):
    from django.contrib.staticfiles import finders

    data = json_ld(client.get("/articles/premium-article/"))

    if finders.find("img/logo.svg"):
        assert data["publisher"]["logo"]["url"].endswith("img/logo.svg")
        assert data["image"] == [data["publisher"]["logo"]["url"]]
    else:
        assert "logo" not in data["publisher"] and "image" not in data


def test_the_json_ld_data_block_carries_no_nonce_so_the_anonymous_page_can_be_shared(
    client, articles
):
    # CSP governs scripts that run; a JSON-LD data block never runs, so it needs no nonce. A
    # nonce would make each response unique, and the anonymous article page uncacheable (issue 6).
    response = client.get("/articles/premium-article/")

    assert json_ld(response)["@type"] == "NewsArticle"
    assert "nonce" not in response.content.decode()
    assert "public" in response["Cache-Control"]


def test_a_title_cannot_close_the_json_ld_script(client, make_article):
    make_article(
        "escape",
        title='Breaking </script><script>alert("x")</script> & more',
        visibility=Visibility.PUBLIC,
    )

    html = client.get("/articles/escape/").content.decode()

    assert '</script><script>alert("x")' not in html
    data = json_ld(client.get("/articles/escape/"))
    assert data["headline"] == 'Breaking </script><script>alert("x")</script> & more'


def test_the_gated_part_wears_the_class_json_ld_names_only_for_readers_who_may_read_it(
    client_for, readers, articles
):
    for name, reader in readers.items():
        html = client_for(reader).get("/articles/premium-article/").content.decode()
        assert ('class="article__body prose premium-content"' in html) == may_read(
            name, Visibility.PREMIUM
        ), name


@pytest.mark.parametrize("visibility", list(Visibility))
def test_no_reader_finds_a_body_in_the_head_and_only_entitled_readers_anywhere(
    client_for, readers, articles, visibility
):
    for name, reader in readers.items():
        html = client_for(reader).get(f"/articles/{visibility}-article/").content.decode()
        assert SECRET_SENTENCES[visibility] not in head_of(html), name
        assert (SECRET_SENTENCES[visibility] in html) == may_read(name, visibility), name


@override_settings(SITE_URL="https://masthead.example")
def test_robots_allows_reading_and_keeps_crawlers_out_of_accounts_admin_and_billing(client):
    response = client.get("/robots.txt")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    lines = response.content.decode().splitlines()
    assert "User-agent: *" in lines
    assert "Allow: /" in lines
    for path in ["/account/", "/admin/", "/billing/"]:
        assert f"Disallow: {path}" in lines
    assert "Sitemap: https://masthead.example/sitemap.xml" in lines


@override_settings(SITE_URL="https://masthead.example")
def test_the_home_page_head_describes_the_site_for_search_and_link_previews(client, site_settings):
    head = head_of(client.get("/", HTTP_HOST="127.0.0.1").content.decode())

    assert '<link rel="canonical" href="https://masthead.example/">' in head
    subheadline = "Short, practical guides, reviewed by people who have run teams."
    assert meta(head, "name", "description") == subheadline
    assert meta(head, "property", "og:type") == "website"
    assert meta(head, "property", "og:title") == "Become the manager your team deserves"
    assert meta(head, "property", "og:description") == subheadline
    assert meta(head, "property", "og:url") == "https://masthead.example/"
    assert meta(head, "property", "og:image").endswith("/static/img/logo.svg")
    assert meta(head, "name", "twitter:card") == "summary"


@override_settings(SITE_URL="https://masthead.example")
def test_the_pricing_page_head_describes_the_plans(client, plans):
    head = head_of(client.get("/pricing/?next=/articles/x/").content.decode())

    assert '<link rel="canonical" href="https://masthead.example/pricing/">' in head
    assert meta(head, "name", "description").startswith("Plans and prices: every article")
    assert meta(head, "property", "og:title") == "Pricing · Masthead"
    assert meta(head, "property", "og:url") == "https://masthead.example/pricing/"
    assert meta(head, "name", "twitter:title") == "Pricing · Masthead"
