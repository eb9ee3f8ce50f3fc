"""The admin: content editors run the publication but never see members or billing."""

import json
import re
from html import unescape

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.groups import CONTENT_EDITORS
from articles.models import Article, Person, Status, Topic, Visibility


def test_a_content_editor_opens_the_article_list(client, editor, articles):
    client.force_login(editor)

    response = client.get("/admin/articles/article/")

    assert response.status_code == 200
    assert "Premium Article" in response.content.decode()


def test_a_content_editor_adds_an_article(client, editor, topic, author):
    client.force_login(editor)

    response = client.post(
        "/admin/articles/article/add/",
        {
            "title": "Notes From The Floor",
            "slug": "notes-from-the-floor",
            "topic": topic.pk,
            "author": author.pk,
            "reviewer": "",
            "summary": "What we learned on the shop floor.",
            "intro": "An opening everyone reads.",
            "body": "The part behind the paywall.",
            "visibility": Visibility.PREMIUM,
            "status": Status.DRAFT,
            "publish_at_0": "",
            "publish_at_1": "",
            "seo_description": "",
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    article = Article.objects.get(slug="notes-from-the-floor")
    assert article.status == Status.DRAFT
    assert article.body == "The part behind the paywall."


@pytest.mark.parametrize("url", ["/admin/articles/topic/", "/admin/articles/person/"])
def test_a_content_editor_manages_topics_and_people(client, editor, url):
    client.force_login(editor)

    assert client.get(url).status_code == 200
    assert client.get(f"{url}add/").status_code == 200


@pytest.mark.parametrize(
    "url",
    [
        "/admin/accounts/user/",
        "/admin/accounts/user/add/",
        "/admin/accounts/trialclaim/",
        "/admin/billing/plan/",
        "/admin/billing/plan/add/",
        "/admin/auth/group/",
    ],
)
def test_a_content_editor_cannot_open_members_billing_or_groups(client, editor, url):
    client.force_login(editor)

    assert client.get(url).status_code == 403


def test_a_content_editor_cannot_open_one_member(client, editor, readers):
    client.force_login(editor)

    assert client.get(f"/admin/accounts/user/{readers['in_trial'].pk}/change/").status_code == 403


def test_the_admin_index_shows_a_content_editor_only_the_publication(client, editor):
    client.force_login(editor)

    html = client.get("/admin/").content.decode()

    assert "/admin/articles/article/" in html
    assert "/admin/accounts/user/" not in html
    assert "/admin/billing/" not in html


def test_a_member_who_is_not_staff_cannot_open_the_admin(client, readers):
    client.force_login(readers["in_trial"])

    response = client.get("/admin/articles/article/")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def member_rows(html) -> dict[str, dict[str, str]]:
    """The admin's member list as {email: {column: cell text or icon's alt}}."""
    rows = {}
    for row in re.findall(r"<tr>(.*?)</tr>", html, re.S):
        cells = dict(re.findall(r'<t[hd] class="field-(\w+)[^"]*">(.*?)</t[hd]>', row, re.S))
        if "email" in cells:
            text = {k: re.sub(r'<img [^>]*alt="(\w+)"[^>]*>', r"\1", v) for k, v in cells.items()}
            rows[re.sub(r"<[^>]+>", "", text["email"])] = {
                k: re.sub(r"<[^>]+>", "", v) for k, v in text.items()
            }
    return rows


def test_the_member_list_shows_verified_trial_and_access_columns(client, superuser, readers):
    client.force_login(superuser)

    rows = member_rows(client.get("/admin/accounts/user/").content.decode())

    assert rows["tina@example.com"]["verified"] == "True"
    assert rows["tina@example.com"]["access_state"] == "trial"
    assert rows["tina@example.com"]["trial_ends_at"] != "-"
    assert rows["oscar@example.com"]["access_state"] == "trial over"
    assert rows["una@example.com"]["verified"] == "False"
    assert rows["una@example.com"]["access_state"] == "unverified"
    assert rows["una@example.com"]["trial_started_at"] == "-"
    assert rows["stella@example.com"]["access_state"] == "staff"
    assert rows["sue@example.com"]["access_state"] == "subscriber"
    assert rows["gail@example.com"]["access_state"] == "payment grace"
    assert rows["carl@example.com"]["access_state"] == "cancelled"
    assert rows["cora@example.com"]["access_state"] == "complimentary"


def test_the_member_list_costs_the_same_queries_for_9_or_29_members(
    client, superuser, readers, make_member
):
    client.force_login(superuser)

    def queries_for_the_list():
        with CaptureQueriesContext(connection) as captured:
            html = client.get("/admin/accounts/user/").content.decode()
        return len(captured), member_rows(html)

    with_nine, _ = queries_for_the_list()
    for number in range(20):
        make_member(f"reader{number}@example.com", trial="over")
    with_twenty_nine, rows = queries_for_the_list()

    assert with_twenty_nine == with_nine
    assert len(rows) == 29  # the eight signed-in readers, the superuser and the twenty
    assert rows["reader7@example.com"]["access_state"] == "trial over"
    assert rows["tina@example.com"]["access_state"] == "trial"


def test_the_member_list_searches_by_email(client, superuser, readers):
    client.force_login(superuser)

    rows = member_rows(client.get("/admin/accounts/user/?q=oscar").content.decode())

    assert list(rows) == ["oscar@example.com"]


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
