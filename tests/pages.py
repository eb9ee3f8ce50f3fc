"""Reading a page's raw HTML as a reader sees it: the page, and the text inside one element."""

from html import unescape
from html.parser import HTMLParser


def page(client, url) -> str:
    """The page at url as this client gets it (it must answer 200), with entities unescaped."""
    response = client.get(url)
    assert response.status_code == 200
    return unescape(response.content.decode())


VOID_TAGS = {
    "area",
    "base",
    "br",
    "col",
    "embed",
    "hr",
    "img",
    "input",
    "link",
    "meta",
    "source",
    "track",
    "wbr",
}


class _ElementText(HTMLParser):
    def __init__(self, match):
        super().__init__()
        self.match, self.depth, self.parts, self.found = match, 0, [], False

    def handle_starttag(self, tag, attrs):
        if tag in VOID_TAGS:
            return
        if self.depth:
            self.depth += 1
        elif not self.found and self.match(tag, dict(attrs)):
            self.depth, self.found = 1, True

    def handle_endtag(self, tag):
        if self.depth and tag not in VOID_TAGS:
            self.depth -= 1

    def handle_data(self, data):
        if self.depth:
            self.parts.append(data)


def element_text(html: str, *, css_class: str | None = None, **attributes) -> str | None:
    """The text a reader sees inside the first element with that class (or attributes), or None.

    `aria_labelledby="featured-heading"` matches aria-labelledby; whitespace is collapsed.
    """
    wanted = {name.replace("_", "-"): value for name, value in attributes.items()}

    def match(tag, attrs):
        if css_class and css_class not in (attrs.get("class") or "").split():
            return False
        return all(attrs.get(name) == value for name, value in wanted.items())

    parser = _ElementText(match)
    parser.feed(html)
    return " ".join("".join(parser.parts).split()) if parser.found else None


def paywall(html: str) -> str | None:
    return element_text(html, css_class="paywall")
