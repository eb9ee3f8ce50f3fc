"""Every reader page is valid HTML: the W3C Nu Html Checker (vnu.jar, from the npm registry with
the browser tests' axe-core) finds no error on any of them, and, checked without it too, each
<time datetime> is a valid HTML date-time (at most three fractional digits of a second) and
headings go down one level at a time (no h1 followed by an h3)."""

import itertools
import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.core.files.base import ContentFile

from articles.models import Attachment

VNU_JAR = (
    Path(__file__).resolve().parents[1]
    / "integration/browser/node_modules/vnu-jar/build/dist/vnu.jar"
)

# HTML's "valid global date and time string": a date, T, a time whose seconds have at most three
# fractional digits, then Z or an offset
VALID_DATETIME = re.compile(
    r"\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:?\d{2}))?"
)

ANONYMOUS_PAGES = [
    "/",
    "/articles/premium-article/",
    "/articles/members-article/",
    "/articles/public-article/",
    "/topics/leadership/",
    "/people/ada-byline/",
    "/search/?q=article",
    "/pricing/",
    "/accounts/signup/",
    "/accounts/login/",
]
SUBSCRIBER_PAGES = [
    "/",
    "/articles/premium-article/",
    "/topics/leadership/",
    "/search/?q=article",
    "/pricing/",
    "/account/",
]


class _Outline(HTMLParser):
    """The page's <time datetime> values and its heading levels, in order."""

    def __init__(self):
        super().__init__()
        self.datetimes, self.headings = [], []

    def handle_starttag(self, tag, attrs):
        if tag == "time" and "datetime" in dict(attrs):
            self.datetimes.append(dict(attrs)["datetime"])
        if re.fullmatch(r"h[1-6]", tag):
            self.headings.append(int(tag[1]))


def _outline(html: str) -> _Outline:
    outline = _Outline()
    outline.feed(html)
    return outline


def _pages(client_for, readers):
    for reader, urls in (("anonymous", ANONYMOUS_PAGES), ("subscriber", SUBSCRIBER_PAGES)):
        client = client_for(readers[reader])
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, (reader, url)
            yield f"{reader} {url}", response.content.decode()


@pytest.fixture
def guide(articles):
    """The premium article with sections and subsections in its body, as long guides have, and
    a worksheet to download (its list on the page)."""
    article = articles["premium"]
    article.body = (
        "## First steps\n\nText.\n\n### A detail\n\nMore.\n\n## Next steps\n\nEnd.\n\n"
        + (article.body)
    )
    article.save()
    Attachment.objects.create(
        article=article, title="Worksheet", file=ContentFile(b"%PDF-1.4\n", name="worksheet.pdf")
    )
    return article


def test_every_time_element_has_a_valid_datetime_to_the_second(
    client_for, readers, site_settings, plans, articles, guide
):
    seen = 0
    for page, html in _pages(client_for, readers):
        for value in _outline(html).datetimes:
            seen += 1
            assert VALID_DATETIME.fullmatch(value), (page, value)
            assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}", value), (
                page,
                value,
            )
    assert seen  # cards, article headers and search results all show dates


def test_the_article_date_is_its_publication_time_in_iso_8601(client, site_settings, articles):
    article = articles["public"]
    html = client.get("/articles/public-article/").content.decode()

    expected = article.publish_at.replace(microsecond=0).isoformat()
    assert expected.endswith("+00:00")
    assert f'<time datetime="{expected}">' in html


def test_headings_never_skip_a_level(client_for, readers, site_settings, plans, articles, guide):
    for page, html in _pages(client_for, readers):
        levels = _outline(html).headings
        assert levels and levels[0] == 1, (page, levels)
        for before, after in itertools.pairwise(levels):
            assert after <= before + 1, (page, levels)


def test_a_topic_page_lists_its_articles_under_h2s(client, site_settings, articles):
    html = client.get("/topics/leadership/").content.decode()

    assert _outline(html).headings == [1, 2, 2, 2]


@pytest.mark.skipif(
    not (VNU_JAR.exists() and shutil.which("java")),
    reason="the Nu Html Checker needs Java and vnu.jar (npm ci in tests/integration/browser)",
)
def test_the_nu_html_checker_finds_no_error_on_any_reader_page(
    client_for, readers, site_settings, plans, articles, guide, tmp_path
):
    for number, (page, html) in enumerate(_pages(client_for, readers)):
        (tmp_path / f"{number:02d}.html").write_text(f"<!-- {page} -->\n{html}")

    checked = subprocess.run(
        ["java", "-jar", str(VNU_JAR), "--errors-only", "--format", "json", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    messages = json.loads(checked.stderr or '{"messages": []}')["messages"]
    assert [
        (Path(m.get("url", "")).name, m.get("lastLine"), m.get("message")) for m in messages
    ] == []
