"""The Content editors group (accounts/groups.py): editors run the publication in the admin but
never see members or billing."""

import pytest

from articles.models import Article, Status, Visibility


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
            "meter": "hard",
            "status": Status.DRAFT,
            "publish_at_0": "",
            "publish_at_1": "",
            "seo_description": "",
            "attachments-TOTAL_FORMS": "0",  # the attachments inline, left empty
            "attachments-INITIAL_FORMS": "0",
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    article = Article.objects.get(slug="notes-from-the-floor")
    assert article.status == Status.DRAFT
    assert article.body == "The part behind the paywall."
    assert article.meter == "hard"  # never read on the meter (METERED_FREE_ARTICLES)


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
