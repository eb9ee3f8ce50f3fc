"""Where an article leads (articles/views.py's article_detail and its includes): "Read next",
reading time on the page and on cards, one byline with the reviewer beside the author, the
contents of a long guide, and share links that load nothing of anyone else's.

Every assertion reads the HTML a reader receives. The contents of a premium guide are held to
the rule the secret sentences hold the body to: a heading of the body never reaches a reader
who gets the teaser."""

import re
from datetime import timedelta
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import timezone

from articles.models import Article, Status, Topic, Visibility
from tests.articles.conftest import warm_site_wide_lookups
from tests.conftest import SECRET_SENTENCES
from tests.pages import element_text
from tests.test_access_matrix import READS, may_read

WITH_PREMIUM = [name for name in READS if may_read(name, Visibility.PREMIUM)]
WITHOUT_PREMIUM = [name for name in READS if not may_read(name, Visibility.PREMIUM)]


def read_next_titles(html: str) -> list[str]:
    section = re.search(r'<aside class="read-next".*?</aside>', html, re.S)
    if section is None:
        return []
    return [unescape(t) for t in re.findall(r'card__title"><a [^>]*>([^<]*)</a>', section[0])]


def hrefs(html: str, css_class: str) -> list[str]:
    """The href of each link with that class, as a browser reads it (entities decoded)."""
    return [unescape(href) for href in re.findall(rf'<a class="{css_class}" href="([^"]*)"', html)]


def get(client, url) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def other_topic(db):
    return Topic.objects.create(name="Productivity", slug="productivity")


@pytest.fixture
def ago():
    now = timezone.now()
    return lambda hours: now - timedelta(hours=hours)


# ---- Read next ------------------------------------------------------------------------


def test_read_next_offers_the_topics_newest_first_then_the_newest_elsewhere(
    client, make_article, other_topic, ago
):
    make_article("the-piece", visibility=Visibility.PUBLIC, publish_at=ago(50))
    make_article("older-in-topic", title="Older In Topic", publish_at=ago(40))
    make_article("newer-in-topic", title="Newer In Topic", publish_at=ago(30))
    make_article("newest-elsewhere", title="Newest Elsewhere", topic=other_topic, publish_at=ago(1))
    make_article("older-elsewhere", title="Older Elsewhere", topic=other_topic, publish_at=ago(2))

    html = get(client, "/articles/the-piece/")

    assert read_next_titles(html) == ["Newer In Topic", "Older In Topic", "Newest Elsewhere"]


def test_read_next_never_offers_the_article_itself_a_draft_or_a_scheduled_one(
    client, make_article, unpublished, ago
):
    make_article("the-piece", title="The Piece", visibility=Visibility.PUBLIC, publish_at=ago(3))
    make_article("the-other", title="The Other", publish_at=ago(5))

    html = get(client, "/articles/the-piece/")

    assert read_next_titles(html) == ["The Other"]


def test_a_lone_article_has_no_read_next(client, make_article):
    make_article("alone", visibility=Visibility.PUBLIC)

    html = get(client, "/articles/alone/")

    assert "Read next" not in html
    assert 'class="read-next"' not in html


def test_each_read_next_card_has_its_badge_title_summary_and_reading_time(
    client, make_article, ago
):
    make_article("the-piece", visibility=Visibility.PUBLIC, publish_at=ago(9))
    make_article("paid-one", title="Paid One", visibility=Visibility.PREMIUM, publish_at=ago(1))
    make_article(
        "members-one", title="Members One", visibility=Visibility.MEMBERS, publish_at=ago(2)
    )
    make_article(
        "free-one",
        title="Free One",
        visibility=Visibility.PUBLIC,
        publish_at=ago(3),
        summary="A free piece about tidy logbooks.",
        body="word " * 700,
    )

    html = get(client, "/articles/the-piece/")

    cards = re.findall(
        r'<article class="card">.*?</article>', html.split('class="read-next"')[1], re.S
    )
    assert len(cards) == 3
    paid, members, free = (element_text(card, css_class="card") for card in cards)
    assert paid.startswith("Leadership Premium Paid One What paid-one is about.")
    assert members.startswith("Leadership Members Members One What members-one is about.")
    assert free.startswith("Leadership Free Free One A free piece about tidy logbooks.")
    assert free.endswith("· 4 min read")  # 700 words and a short intro at 230 a minute
    assert paid.endswith("· 1 min read")


@pytest.mark.parametrize("reader_name", WITHOUT_PREMIUM)
def test_read_next_shows_a_teaser_reader_no_premium_text(client, readers, articles, reader_name):
    if readers[reader_name] is not None:
        client.force_login(readers[reader_name])

    html = get(client, "/articles/public-article/")

    assert "Premium Article" in read_next_titles(html)
    assert SECRET_SENTENCES[Visibility.PREMIUM] not in html
    assert "The body of premium-article" not in html


@pytest.mark.usefixtures("production_caching")
@pytest.mark.parametrize("reader_name", ["anonymous", "subscriber"])
def test_a_new_article_in_the_topic_shows_in_read_next_on_the_next_request(
    client, readers, make_article, plans, reader_name, ago
):
    if readers[reader_name] is not None:
        client.force_login(readers[reader_name])
    make_article("the-piece", visibility=Visibility.PUBLIC, publish_at=ago(9))
    make_article("the-first", title="The First", publish_at=ago(5))
    warm_site_wide_lookups(client)
    assert read_next_titles(get(client, "/articles/the-piece/")) == ["The First"]  # now cached

    make_article("the-latest", title="The Latest", publish_at=ago(1))
    assert read_next_titles(get(client, "/articles/the-piece/")) == ["The Latest", "The First"]

    Article.objects.filter(slug="the-latest").update(status=Status.DRAFT)  # the admin's unpublish
    assert read_next_titles(get(client, "/articles/the-piece/")) == ["The First"]


@pytest.mark.usefixtures("production_caching")
def test_a_renamed_article_shows_renamed_in_read_next(client, readers, make_article, ago):
    client.force_login(readers["subscriber"])
    make_article("the-piece", visibility=Visibility.PUBLIC, publish_at=ago(9))
    other = make_article("the-other", title="The Other", publish_at=ago(5))
    warm_site_wide_lookups(client)
    get(client, "/articles/the-piece/")

    other.title = "The Other, Revised"
    other.save()

    assert read_next_titles(get(client, "/articles/the-piece/")) == ["The Other, Revised"]


# ---- Reading time ---------------------------------------------------------------------


def test_reading_time_counts_the_words_of_intro_and_body(client, make_article):
    make_article(
        "long-read",
        title="Long Read",
        visibility=Visibility.PREMIUM,
        intro="word " * 300,
        body="## A heading\n\n" + "word " * 400,  # 702 words: a little over three minutes
    )

    article_page = get(client, "/articles/long-read/")  # the teaser: the body is not loaded
    home = get(client, "/")

    assert element_text(article_page, css_class="article__reading-time") == "4 min read"
    assert element_text(home, css_class="card").endswith("· 4 min read")


@pytest.mark.parametrize(
    "url", ["/", "/topics/leadership/", "/people/ada-byline/", "/search/?q=marathon"]
)
def test_every_card_shows_its_reading_time(client, make_article, url):
    make_article("marathon", title="Marathon", intro="A marathon read.", body="word " * 1000)

    html = get(client, url)

    assert "5 min read" in html  # 1003 words


def test_reading_time_follows_an_edit_of_the_body(make_article):
    article = make_article("growing", intro="A short opening.", body="word " * 10)
    assert article.reading_minutes == 1

    article.body = "word " * 1200
    article.save()

    assert Article.objects.get(pk=article.pk).reading_minutes == 6


# ---- One byline, and the reviewer beside the author -----------------------------------


def test_one_byline_names_the_author_and_the_reviewer_with_their_roles(
    client, make_article, reviewer
):
    make_article("checked", visibility=Visibility.PUBLIC, reviewer=reviewer)

    html = get(client, "/articles/checked/")

    header = element_text(html, css_class="article__header")
    assert header.count("Ada Byline") == 1
    assert header.count("Rex Review") == 1
    assert element_text(html, css_class="byline") == (
        "by Ada Byline, Content Writer and Editor reviewed by Rex Review, Executive Coach"
    )


def test_the_reviewers_bio_sits_beside_the_authors(client, make_article, author, reviewer):
    author.bio = "Ada ran a warehouse team for ten years."
    author.save()
    reviewer.bio = "Rex coaches first-time managers."
    reviewer.save()
    make_article("checked", visibility=Visibility.PUBLIC, reviewer=reviewer)

    html = get(client, "/articles/checked/")

    boxes = element_text(html, css_class="people-boxes")
    assert boxes == (
        "Written by Ada Byline Content Writer and Editor Ada ran a warehouse team for ten years. "
        "Reviewed by Rex Review Executive Coach Rex coaches first-time managers."
    )


def test_a_person_without_a_bio_gets_no_box(client, make_article, author, reviewer):
    author.bio = "Ada ran a warehouse team for ten years."
    author.save()
    make_article("checked", visibility=Visibility.PUBLIC, reviewer=reviewer)

    boxes = element_text(get(client, "/articles/checked/"), css_class="people-boxes")

    assert "Written by Ada Byline" in boxes
    assert "Reviewed by" not in boxes


# ---- The contents of a long guide ------------------------------------------------------

PUBLIC_SECTIONS = (
    "## Where to start\n\nFirst.\n\n## What to avoid\n\nSecond.\n\n## Overview\n\nThird."
)
# The body's headings carry the premium secret: a teaser reader must never see one of them
PREMIUM_SECTIONS = (
    "## Overview\n\nRepeated on purpose.\n\n"
    "## The copper kettle behind the atlas\n\n"
    f"{SECRET_SENTENCES[Visibility.PREMIUM]}\n\n"
    "### Polishing the kettle\n\nMore.\n\n"
    "## Closing the atlas\n\nEnd."
)


def toc_links(html: str) -> list[tuple[str, str]]:
    nav = re.search(r'<nav class="toc".*?</nav>', html, re.S)
    if nav is None:
        return []
    return [
        (href, unescape(text))
        for href, text in re.findall(r'<a href="([^"]*)">([^<]*)</a>', nav[0])
    ]


@pytest.fixture
def guide(make_article):
    return make_article(
        "the-guide",
        title="The Guide",
        visibility=Visibility.PREMIUM,
        intro=f"An opening.\n\n{PUBLIC_SECTIONS}",
        body=PREMIUM_SECTIONS,
    )


@pytest.mark.parametrize("reader_name", WITH_PREMIUM)
def test_a_reader_of_the_whole_guide_gets_contents_linking_to_every_heading(
    client, readers, guide, reader_name
):
    client.force_login(readers[reader_name])

    html = get(client, "/articles/the-guide/")

    assert toc_links(html) == [
        ("#where-to-start", "Where to start"),
        ("#what-to-avoid", "What to avoid"),
        ("#overview", "Overview"),
        ("#overview-2", "Overview"),  # the body's own, not a second #overview on the page
        ("#the-copper-kettle-behind-the-atlas", "The copper kettle behind the atlas"),
        ("#polishing-the-kettle", "Polishing the kettle"),
        ("#closing-the-atlas", "Closing the atlas"),
    ]
    for href, text in toc_links(html):  # each link lands on its heading, and only one
        assert len(re.findall(rf'<h[23] id="{href[1:]}">{re.escape(text)}</h[23]>', html)) == 1


@pytest.mark.parametrize("reader_name", WITHOUT_PREMIUM)
def test_a_teaser_reader_gets_contents_of_the_public_part_only(client, readers, guide, reader_name):
    if readers[reader_name] is not None:
        client.force_login(readers[reader_name])

    html = get(client, "/articles/the-guide/")

    assert toc_links(html) == [
        ("#where-to-start", "Where to start"),
        ("#what-to-avoid", "What to avoid"),
        ("#overview", "Overview"),
    ]
    for leak in ("copper kettle", "Polishing", "Closing the atlas", "overview-2"):
        assert leak not in html
    assert SECRET_SENTENCES[Visibility.PREMIUM] not in html


def test_the_teasers_contents_stay_public_after_a_subscriber_read_the_guide(client, readers, guide):
    """The full render is kept for readers with access; the teaser's must not take from it."""
    client.force_login(readers["subscriber"])
    assert "copper kettle" in get(client, "/articles/the-guide/")
    client.logout()
    client.force_login(readers["trial_over"])

    html = get(client, "/articles/the-guide/")

    assert "copper kettle" not in html
    assert len(toc_links(html)) == 3


def test_a_heading_never_takes_an_id_the_page_already_uses(client, make_article):
    make_article(
        "chrome", visibility=Visibility.PUBLIC, intro="## Main\n\nText.", body="## Main\n\nMore."
    )

    html = get(client, "/articles/chrome/")

    assert html.count('id="main"') == 1  # the skip link's target
    assert '<h2 id="main-2">Main</h2>' in html
    assert '<h2 id="main-3">Main</h2>' in html


def test_a_short_piece_has_no_contents(client, make_article):
    make_article(
        "short",
        visibility=Visibility.PUBLIC,
        body="## One part\n\nText.\n\n## Another part\n\nText.",
    )

    html = get(client, "/articles/short/")

    assert 'class="toc"' not in html
    assert '<h2 id="one-part">One part</h2>' in html  # the heading is still a target for links


# ---- Share links ----------------------------------------------------------------------


def test_share_links_carry_the_articles_address_and_title_encoded(client, make_article, settings):
    settings.SITE_URL = "https://masthead.example"
    make_article(
        "plans-promises", title="Plans & Promises: 100% Done?", visibility=Visibility.PUBLIC
    )
    url = "https://masthead.example/articles/plans-promises/"

    html = get(client, "/articles/plans-promises/")

    copy, email, linkedin, x = hrefs(html, "share__link")
    assert copy == url
    assert email == (
        "mailto:?subject=Plans%20%26%20Promises%3A%20100%25%20Done%3F"
        "&body=https%3A%2F%2Fmasthead.example%2Farticles%2Fplans-promises%2F"
    )
    assert linkedin == (
        "https://www.linkedin.com/sharing/share-offsite/"
        "?url=https%3A%2F%2Fmasthead.example%2Farticles%2Fplans-promises%2F"
    )
    assert x.startswith("https://x.com/intent/tweet?")
    assert parse_qs(urlsplit(x).query) == {"text": ["Plans & Promises: 100% Done?"], "url": [url]}
    assert parse_qs(urlsplit(email).query)["subject"] == ["Plans & Promises: 100% Done?"]


def test_sharing_loads_no_script_but_our_own(client, make_article):
    make_article("shared", visibility=Visibility.PUBLIC)

    html = get(client, "/articles/shared/")

    assert re.findall(r"<script[^>]*src=[^>]*>", html) == [
        '<script src="/static/js/share.js" defer>'
    ]
    assert "data-copy-link" in html  # the plain link the script enhances
