"""Article text: staff write Markdown; readers get HTML that nh3 has sanitised.

Markdown rather than a rich-text editor: it needs no editor JavaScript in the admin
(nothing from a CDN, nothing to keep patched), diffs and reviews as plain text, and
renders the same way every time, which makes it safe to cache. nh3 (Rust's ammonia)
then removes anything outside a small allow-list, so even a staff account cannot put a
script into a reader's page.
"""

import re
from dataclasses import dataclass

import markdown
import nh3
from django.utils.html import strip_tags
from django.utils.safestring import SafeString, mark_safe
from markdown.extensions.toc import slugify

ALLOWED_TAGS = {
    "p",
    "h2",
    "h3",
    "h4",
    "ul",
    "ol",
    "li",
    "blockquote",
    "strong",
    "em",
    "a",
    "code",
    "pre",
    "hr",
    "br",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "th": {"align"},
    "td": {"align"},
    # headings keep the ids Markdown's toc extension gives them: the table of contents links there
    "h2": {"id"},
    "h3": {"id"},
    "h4": {"id"},
}


# Ids the article page itself uses (the skip link's target, its sections' headings): a heading
# called "Main" must not become a second #main
PAGE_IDS = frozenset(
    {
        "main",
        "paywall-heading",
        "toc-heading",
        "share-heading",
        "read-next-heading",
        "trusted-heading",
        "newsletter-email-article",
        "newsletter-email-footer",
        "newsletter-email-error",
    }
)


def render(text: str, *, taken_ids: frozenset[str] = frozenset()) -> SafeString:
    """Sanitised HTML of the Markdown, its headings given ids for the table of contents.

    taken_ids: ids already used on the page (the intro's headings, when rendering the body),
    which a heading here must not repeat; nor does it repeat one of PAGE_IDS.
    """
    taken_ids = taken_ids | PAGE_IDS

    def heading_id(text: str, separator: str) -> str:
        base = slugify(text, separator) or "section"
        slug, n = base, 1
        while slug in taken_ids:
            n += 1
            slug = f"{base}-{n}"
        return slug

    html = markdown.markdown(
        text,
        # smarty: typographic apostrophes, quotes and dashes (' " -- ---) as a typeset page has
        # them, left alone inside code; nh3 below writes its entities as the characters
        extensions=["extra", "sane_lists", "toc", "smarty"],
        # marker "": a "[TOC]" typed in the text stays text; the page builds its own contents
        extension_configs={"toc": {"slugify": heading_id, "marker": ""}},
        output_format="html",
    )
    clean = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )
    return mark_safe(clean)


@dataclass(frozen=True)
class Heading:
    id: str
    text: SafeString  # the heading's text from the sanitised HTML: tags gone, entities kept


@dataclass(frozen=True)
class Section:
    heading: Heading
    subheadings: tuple[Heading, ...] = ()


# Headings as render() writes them, after nh3: the tag and its one attribute are ours
_HEADING = re.compile(r'<h([23]) id="([^"<>]+)">(.*?)</h\1>', re.S)


def heading_ids(html: str) -> frozenset[str]:
    return frozenset(match[2] for match in _HEADING.finditer(html))


def table_of_contents(*htmls: str) -> tuple[Section, ...]:
    """The h2 sections (with their h3s) of already rendered, sanitised HTML, in order.

    Given only the HTML the reader receives, so a teaser's contents can never name a heading
    of the body it does not get.
    """
    sections: list[Section] = []
    for html in htmls:
        for level, id_, inner in _HEADING.findall(html):
            heading = Heading(id_, mark_safe(strip_tags(inner).strip()))
            if level == "2" or not sections:
                sections.append(Section(heading))
            else:
                last = sections[-1]
                sections[-1] = Section(last.heading, (*last.subheadings, heading))
    return tuple(sections)


AD_TAGS = {"a", "img", "p", "strong"}
AD_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "width", "height"}}


def clean_ad_snippet(html: str) -> SafeString:
    """Staff-provided ad HTML, cut down to links, images, paragraphs and bold text.

    No scripts, iframes, styles or event handlers: the site's Content Security Policy
    would block them anyway, and an ad must not be able to read the page it sits on.
    """
    clean = nh3.clean(
        html,
        tags=AD_TAGS,
        attributes=AD_ATTRIBUTES,
        url_schemes={"http", "https"},
        link_rel="noopener noreferrer nofollow sponsored",
    )
    return mark_safe(clean.strip())
