"""Template tags for the end and the finding of things in an article: contents and share links."""

from urllib.parse import quote, urlencode

from django import template
from django.conf import settings

from articles import markup

register = template.Library()

TOC_MIN_SECTIONS = 3  # a long guide: with fewer sections the reader needs no contents to find one


@register.simple_tag
def table_of_contents(intro_html, body_html=None) -> tuple[markup.Section, ...]:
    """The contents of what this reader receives: the intro's headings, and the body's only
    when it was given (the reader may read it). Empty for a short piece."""
    sections = markup.table_of_contents(intro_html, body_html or "")
    return sections if len(sections) >= TOC_MIN_SECTIONS else ()


@register.simple_tag
def share_links(article) -> dict[str, str]:
    """Where "Share" sends the article: the page's own address, a mail to write, and the share
    pages of LinkedIn and X (X documents its web intent as x.com/intent/tweet, with text and
    url). Plain links: no script of theirs runs on our page."""
    url = settings.SITE_URL + article.get_absolute_url()
    return {
        "url": url,
        # RFC 6068: %20, not +, for spaces in a mailto's fields
        "email": "mailto:?" + urlencode({"subject": article.title, "body": url}, quote_via=quote),
        "linkedin": "https://www.linkedin.com/sharing/share-offsite/?"
        + urlencode({"url": url}, quote_via=quote),
        "x": "https://x.com/intent/tweet?"
        + urlencode({"text": article.title, "url": url}, quote_via=quote),
    }
