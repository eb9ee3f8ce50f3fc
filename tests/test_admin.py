"""The admin: content editors run the publication but never see members or billing."""

import json
import re
from html import unescape

import pytest

from articles.models import Article, Person, Status, Topic, Visibility


def test_a_member_who_is_not_staff_cannot_open_the_admin(client, readers):
    client.force_login(readers["in_trial"])

    response = client.get("/admin/articles/article/")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


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
            "status": Status.SCHEDULED,
            "publish_at_0": "",
            "publish_at_1": "",
            "seo_description": "",
        },
    )

    assert response.status_code == 200
    assert "A scheduled article needs the date and time it goes live." in response.content.decode()
    assert not Article.objects.filter(slug="held-back").exists()
