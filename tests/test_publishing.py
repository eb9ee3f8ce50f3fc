"""Drafts and scheduled articles stay hidden from readers until they are live; staff preview them."""

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from articles.models import Article, Status, Visibility
from tests.conftest import SECRET_SENTENCES

LISTINGS = ["/", "/topics/leadership/", "/people/ada-byline/"]


@pytest.fixture
def unpublished(make_article):
    """A draft and an article scheduled for tomorrow, both public so that only the status hides them."""
    tomorrow = timezone.now() + timedelta(days=1)
    return {
        "draft": make_article(
            "the-draft", visibility=Visibility.PUBLIC, status=Status.DRAFT, title="The Draft"
        ),
        "scheduled": make_article(
            "the-scheduled",
            visibility=Visibility.PUBLIC,
            status=Status.SCHEDULED,
            publish_at=tomorrow,
            title="The Scheduled",
        ),
    }


@pytest.mark.parametrize("reader_name", ["anonymous", "unverified", "in_trial", "trial_over"])
@pytest.mark.parametrize("slug", ["the-draft", "the-scheduled"])
def test_readers_get_404_for_drafts_and_scheduled_articles(
    client, readers, unpublished, reader_name, slug
):
    if readers[reader_name]:
        client.force_login(readers[reader_name])

    response = client.get(f"/articles/{slug}/")

    assert response.status_code == 404
    assert SECRET_SENTENCES[Visibility.PUBLIC] not in response.content.decode()


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
