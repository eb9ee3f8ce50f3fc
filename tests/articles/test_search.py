"""Search at /search/ (articles/search.py): finds by any text, ranks by where the words are, and
snippets never give a premium body to a reader who may not read it."""

import pytest
from hypothesis import given

from articles.models import Status, Visibility
from tests.conftest import SECRET_SENTENCES
from tests.hostile import EXAMPLES, hostile_text
from tests.test_access_matrix import may_read

# Words found only in each article's secret sentence (tests/conftest.py), never in public text.
SECRET_WORDS = {
    Visibility.MEMBERS: "orchard ledger",
    Visibility.PREMIUM: "copper kettle",
}


# The rest of each secret sentence: absent means no snippet was cut from it.
SECRET_TAILS = {
    Visibility.MEMBERS: "balances on Tuesdays",
    Visibility.PREMIUM: "hidden behind the atlas",
}


def result_titles(html):
    import re

    return re.findall(r'class="search-result__title"><a href="[^"]+">([^<]+)</a>', html)


def test_a_public_word_finds_the_article(client, articles):
    response = client.get("/search/?q=opening")

    assert response.status_code == 200
    assert sorted(result_titles(response.content.decode())) == [
        "Members Article",
        "Premium Article",
        "Public Article",
    ]


def test_a_match_in_the_title_ranks_above_one_in_the_body(client, make_article):
    make_article(
        "in-the-body", visibility=Visibility.PUBLIC, body="All about lighthouses and harbours."
    )
    make_article("lighthouses-explained", visibility=Visibility.PUBLIC)

    titles = result_titles(client.get("/search/?q=lighthouses").content.decode())

    assert titles == ["Lighthouses Explained", "In The Body"]


def test_drafts_and_future_articles_are_not_found(client, make_article):
    from datetime import timedelta

    from django.utils import timezone

    make_article("draft-compass", status=Status.DRAFT, summary="About a compass.")
    make_article(
        "future-compass",
        status=Status.SCHEDULED,
        publish_at=timezone.now() + timedelta(days=1),
        summary="About a compass.",
    )

    response = client.get("/search/?q=compass")

    assert result_titles(response.content.decode()) == []
    assert "Nothing matches" in response.content.decode()


@pytest.mark.parametrize("visibility", list(SECRET_WORDS))
def test_secret_words_find_the_article_but_the_snippet_is_public_unless_the_reader_may_read(
    client_for, readers, articles, visibility
):
    article = articles[visibility]
    for name, reader in readers.items():
        html = client_for(reader).get(f"/search/?q={SECRET_WORDS[visibility]}").content.decode()

        # Finding the article by what it says is fine: its title is public.
        assert result_titles(html) == [article.title], name
        if may_read(name, visibility):
            assert SECRET_SENTENCES[visibility].split(" the ")[0] in html.replace(
                "<mark>", ""
            ).replace("</mark>", ""), name
        else:
            assert "The body of" not in html, name
            assert SECRET_SENTENCES[visibility] not in html, name
            assert SECRET_TAILS[visibility] not in html, name
            assert "What " + article.slug + " is about." in html, name  # the public snippet instead


def test_a_reader_without_access_never_sees_body_text_in_any_snippet(client_for, readers, articles):
    html = client_for(readers["trial_over"]).get("/search/?q=body").content.decode()

    assert "Premium Article" in html  # "body" is in every body, so every article matches
    assert SECRET_SENTENCES[Visibility.PREMIUM] not in html
    assert "The body of premium-article" not in html


def test_an_empty_query_gets_a_calm_page(client, articles):
    for url in ["/search/", "/search/?q=", "/search/?q=%20%20%20"]:
        response = client.get(url)
        assert response.status_code == 200
        assert "Type a word or two" in response.content.decode()


def test_a_huge_query_is_cut_short_calmly(client, articles):
    response = client.get("/search/", {"q": "opening " * 1250})  # 10,000 characters

    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("opening") < 100
    assert len(result_titles(html)) == 3


@pytest.mark.parametrize(
    "query",
    [
        '"opening',
        "opening & | !",
        ":* opening",
        "opening\x00",
        "\x00",
        "'",
        "!!!",
        "a | | b",
        "(opening",
        "<script>",
        "%",
        "_",
        "\\",
    ],
)
def test_odd_characters_are_answered_not_crashed_on(client, articles, query):
    response = client.get("/search/", {"q": query})

    assert response.status_code == 200
    assert "<script>" not in response.content.decode().split("</header>", 1)[-1]


def test_results_are_paginated(client, make_article):
    for number in range(12):
        make_article(
            f"harbour-{number}", visibility=Visibility.PUBLIC, summary="All about the harbour."
        )

    first = client.get("/search/?q=harbour").content.decode()
    second = client.get("/search/?q=harbour&page=2").content.decode()
    beyond = client.get("/search/?q=harbour&page=99")
    nonsense = client.get("/search/?q=harbour&page=x")

    assert len(result_titles(first)) == 10
    assert len(result_titles(second)) == 2
    assert not set(result_titles(first)) & set(result_titles(second))
    assert "Page 1 of 2" in first
    assert beyond.status_code == nonsense.status_code == 200


@EXAMPLES
@given(q=hostile_text, page=hostile_text)
def test_any_query_or_page_number_is_answered(client, articles, q, page):
    response = client.get("/search/", {"q": q, "page": page})
    assert response.status_code == 200
