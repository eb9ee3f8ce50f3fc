"""Article text: staff write Markdown; readers get HTML that nh3 has sanitised.

Markdown rather than a rich-text editor: it needs no editor JavaScript in the admin
(nothing from a CDN, nothing to keep patched), diffs and reviews as plain text, and
renders the same way every time, which makes it safe to cache. nh3 (Rust's ammonia)
then removes anything outside a small allow-list, so even a staff account cannot put a
script into a reader's page.
"""

import markdown
import nh3
from django.utils.safestring import SafeString, mark_safe

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
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "th": {"align"}, "td": {"align"}}


def render(text: str) -> SafeString:
    html = markdown.markdown(text, extensions=["extra", "sane_lists"], output_format="html")
    clean = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )
    return mark_safe(clean)


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
