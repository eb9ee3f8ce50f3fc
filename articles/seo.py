"""What search engines and link previews are told about the site and each article.

Everything here is built from public fields (title, summary, seo_description, byline,
dates): the body is never loaded, so no meta tag or structured data can carry premium text.
For paywalled articles the JSON-LD says so, as Google asks of paywalled content: the page
is not free, and the part behind the paywall is `.premium-content`, the element that wraps
the body for readers who may read it (templates/articles/article_detail.html).
"""

import functools
import json

from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse
from django.templatetags.static import static
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_GET

from articles.models import Visibility

LOGO = "img/logo.svg"
PREMIUM_SELECTOR = ".premium-content"
HEADLINE_LENGTH = 110  # Google truncates longer headlines in rich results


def absolute(path: str) -> str:
    return path if path.startswith(("http://", "https://")) else settings.SITE_URL + path


@functools.cache
def logo_url() -> str | None:
    """The site logo's absolute URL, or None if the site has none (we omit rather than invent)."""
    return absolute(static(LOGO)) if finders.find(LOGO) else None


def description(article) -> str:
    return article.seo_description or article.summary


def article_json_ld(article) -> dict:
    url = absolute(article.get_absolute_url())
    data = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": article.title[:HEADLINE_LENGTH],
        "description": description(article),
        "url": url,
        "mainEntityOfPage": {"@type": "WebPage", "@id": url},
        "datePublished": article.publish_at,
        "dateModified": article.updated_at,
        "articleSection": article.topic.name,
        "author": {
            "@type": "Person",
            "name": article.author.name,
            "url": absolute(article.author.get_absolute_url()),
        },
        "publisher": {"@type": "Organization", "name": settings.SITE_NAME, "url": absolute("/")},
        "isAccessibleForFree": article.visibility == Visibility.PUBLIC,
    }
    if logo := logo_url():
        data["publisher"]["logo"] = {"@type": "ImageObject", "url": logo}
        data["image"] = [logo]
    if article.visibility != Visibility.PUBLIC:
        data["hasPart"] = {
            "@type": "WebPageElement",
            "isAccessibleForFree": False,
            "cssSelector": PREMIUM_SELECTOR,
        }
    return data


JSON_SCRIPT_ESCAPES = {ord("<"): "\\u003C", ord(">"): "\\u003E", ord("&"): "\\u0026"}


def json_for_script(data: dict) -> SafeString:
    """JSON that cannot end its <script> element early (the same escapes as Django's json_script)."""
    return mark_safe(
        json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False).translate(JSON_SCRIPT_ESCAPES)
    )


ROBOTS_TXT = """User-agent: *
Allow: /
Disallow: /account/
Disallow: /accounts/
Disallow: /admin/
Disallow: /billing/
Disallow: /search/

Sitemap: {sitemap}
"""


@require_GET
def robots_txt(request):
    sitemap = absolute(reverse("sitemap"))
    return HttpResponse(
        ROBOTS_TXT.format(sitemap=sitemap), content_type="text/plain; charset=utf-8"
    )
