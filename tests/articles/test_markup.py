"""Staff write Markdown; readers receive sanitised HTML, whatever the text contained."""

import re

import pytest

from articles.models import Visibility

MARKDOWN = """\
## Why it matters

Some **bold** advice and a [useful link](https://example.com/guide).

- first point
- second point

1. step one
2. step two

> A quotation worth keeping.
"""

HOSTILE = """\
Plain words before.

<script>alert("stolen")</script>

<img src="x.png" onerror="alert('img')">

<p onclick="alert('click')">Click me</p>

[a trap](javascript:alert('link'))

<a href="javascript:alert('raw')">raw trap</a>

<iframe src="https://evil.example/"></iframe>

<style>body { display: none }</style>

Plain words after.
"""


def served_part(html: str, part: str) -> str:
    """The raw HTML of the article's intro or body as the reader received it."""
    match = re.search(rf'<div class="article__{part}\b[^"]*">(.*?)</div>', html, re.S)
    assert match, f"no article__{part} in the page"
    return match.group(1)


@pytest.fixture
def page(client, make_article):
    def get(intro="An intro.", body="A body."):
        make_article("the-piece", visibility=Visibility.PUBLIC, intro=intro, body=body)
        return client.get("/articles/the-piece/").content.decode()

    return get


def test_markdown_renders_headings_lists_emphasis_links_and_quotes(page):
    body = served_part(page(body=MARKDOWN), "body")

    assert '<h2 id="why-it-matters">Why it matters</h2>' in body
    assert "<strong>bold</strong>" in body
    assert re.search(
        r'<a href="https://example.com/guide" rel="noopener noreferrer nofollow">useful link</a>',
        body,
    )
    assert re.search(r"<ul>\s*<li>first point</li>\s*<li>second point</li>\s*</ul>", body)
    assert re.search(r"<ol>\s*<li>step one</li>\s*<li>step two</li>\s*</ol>", body)
    assert "<blockquote>" in body


@pytest.mark.parametrize("part", ["intro", "body"])
def test_scripts_handlers_and_javascript_links_never_reach_the_reader(page, part):
    html = page(**{part: HOSTILE})

    served = served_part(html, part)
    assert "Plain words before." in served
    assert "Plain words after." in served
    assert "<script" not in served
    assert "alert(" not in served
    assert "onerror" not in served
    assert "onclick" not in served
    assert "javascript:" not in served
    assert "<iframe" not in served
    assert "<style" not in served
    assert "Click me" in served  # the harmless text survives without its handler
    assert "a trap" in served and "raw trap" in served
    assert 'alert("stolen")' not in html  # nowhere in the page, either


def test_html_in_a_code_span_is_shown_as_text(page):
    body = served_part(page(body="Type `<script>` to start a script."), "body")

    assert "<code>&lt;script&gt;</code>" in body


TYPOGRAPHY = """\
It's "ready" -- pages 3--5 --- or 'not'.

Type `don't "quote" -- me` as it is.

```
print("it's -- straight")
```
"""


def test_quotes_and_dashes_are_typographic_except_in_code(page):
    body = served_part(page(body=TYPOGRAPHY), "body")

    assert "<p>It’s “ready” – pages 3–5 — or ‘not’.</p>" in body  # noqa: RUF001 (the marks under test)
    assert '<code>don\'t "quote" -- me</code>' in body
    assert '<pre><code>print("it\'s -- straight")' in body


def test_a_heading_with_an_apostrophe_keeps_a_plain_anchor_and_a_curly_title(page):
    body = served_part(page(body="## Don't wait\n\nText."), "body")

    assert '<h2 id="dont-wait">Don’t wait</h2>' in body  # noqa: RUF001 (the marks under test)
