"""The publication's admin (articles/admin.py): the article list's filters and search, the
article form, preview links, publishing and unpublishing, and the one row of site settings.
Who may open which admin page is the Content editors group's (tests/accounts/test_groups.py)."""

import json
import re
from datetime import timedelta
from html import unescape

import pytest
from django.test import Client
from django.utils import timezone

from articles.models import Article, Person, Status, Topic, Visibility


def test_the_article_list_filters_by_status_and_searches(client, superuser, make_article):
    make_article("draft-about-meetings", status=Status.DRAFT, title="Draft About Meetings")
    make_article("draft-about-hiring", status=Status.DRAFT, title="Draft About Hiring")
    make_article("live-about-meetings", title="Live About Meetings")
    client.force_login(superuser)

    html = client.get("/admin/articles/article/?status=draft&q=meetings").content.decode()

    assert "Draft About Meetings" in html
    assert "Draft About Hiring" not in html
    assert "Live About Meetings" not in html


@pytest.mark.parametrize(
    "query", ["visibility=members", "topic__id__exact=TOPIC", "author__id__exact=AUTHOR"]
)
def test_the_article_list_filters_by_visibility_topic_and_author(
    client, superuser, make_article, topic, author, query
):
    other_topic = Topic.objects.create(name="Hiring", slug="hiring")
    other_author = Person.objects.create(name="Someone Else", slug="someone-else")
    make_article("the-match", visibility=Visibility.MEMBERS, title="The Match")
    make_article(
        "the-other",
        visibility=Visibility.PUBLIC,
        topic=other_topic,
        author=other_author,
        title="The Other",
    )
    client.force_login(superuser)

    query = query.replace("TOPIC", str(topic.pk)).replace("AUTHOR", str(author.pk))
    html = client.get(f"/admin/articles/article/?{query}").content.decode()

    assert "The Match" in html
    assert "The Other" not in html


def test_the_preview_link_goes_to_the_article_page(client, superuser, make_article):
    article = make_article("still-a-draft", status=Status.DRAFT)
    client.force_login(superuser)

    listing = client.get("/admin/articles/article/").content.decode()
    change = client.get(f"/admin/articles/article/{article.pk}/change/").content.decode()

    for html in (listing, change):
        assert re.search(r'<a href="/articles/still-a-draft/"[^>]*>View on site</a>', html)
    assert "Preview" in client.get("/articles/still-a-draft/").content.decode()


def test_the_article_form_prepopulates_the_slug_from_the_title(client, superuser):
    client.force_login(superuser)

    html = client.get("/admin/articles/article/add/").content.decode()

    config = re.search(r'data-prepopulated-fields="([^"]*)"', html).group(1)
    [slug] = json.loads(unescape(config))
    assert slug["id"] == "#id_slug"
    assert slug["dependency_ids"] == ["#id_title"]


def test_scheduling_an_article_without_a_date_is_refused_not_published_at_once(
    client, editor, topic, author
):
    client.force_login(editor)

    response = client.post(
        "/admin/articles/article/add/",
        {
            "title": "Held Back",
            "slug": "held-back",
            "topic": topic.pk,
            "author": author.pk,
            "reviewer": "",
            "summary": "Not yet.",
            "intro": "Soon.",
            "body": "Later.",
            "visibility": Visibility.PREMIUM,
            "meter": "counted",
            "status": Status.SCHEDULED,
            "publish_at_0": "",
            "publish_at_1": "",
            "seo_description": "",
        },
    )

    assert response.status_code == 200
    assert "A scheduled article needs the date and time it goes live." in response.content.decode()
    assert not Article.objects.filter(slug="held-back").exists()


# ---- publishing and unpublishing ------------------------------------------------------


def admin_action(user, action, articles):
    client = Client()
    client.force_login(user)
    return client.post(
        "/admin/articles/article/",
        {"action": action, "_selected_action": [a.pk for a in articles], "index": 0},
        follow=True,
    )


def test_publishing_a_draft_in_the_admin_puts_it_in_front_of_readers(
    client, superuser, unpublished
):
    response = admin_action(superuser, "publish", [unpublished["draft"], unpublished["scheduled"]])

    assert "Published 2 article(s)." in response.content.decode()
    assert client.get("/articles/the-draft/").status_code == 200
    assert client.get("/articles/the-scheduled/").status_code == 200  # "now" overrides tomorrow
    assert "The Draft" in client.get("/").content.decode()
    draft = Article.objects.get(slug="the-draft")
    assert draft.status == Status.PUBLISHED
    assert draft.publish_at <= timezone.now()


def test_publishing_keeps_the_original_date_of_an_article_already_dated_in_the_past(
    superuser, make_article
):
    long_ago = timezone.now() - timedelta(days=30)
    article = make_article("old-draft", status=Status.DRAFT, publish_at=long_ago)

    admin_action(superuser, "publish", [article])

    article.refresh_from_db()
    assert article.status == Status.PUBLISHED
    assert article.publish_at == long_ago


def test_unpublishing_in_the_admin_takes_an_article_away_from_readers(client, superuser, articles):
    assert client.get("/articles/public-article/").status_code == 200

    response = admin_action(superuser, "unpublish", [articles[Visibility.PUBLIC]])

    assert "Unpublished 1 article(s)." in response.content.decode()
    assert client.get("/articles/public-article/").status_code == 404
    assert "Public Article" not in client.get("/").content.decode()
    assert Article.objects.get(slug="public-article").status == Status.DRAFT


# ---- site settings ---------------------------------------------------------------------


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
