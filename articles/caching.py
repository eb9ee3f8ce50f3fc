"""What the reading pages keep in the cache, and why none of it can reach the wrong reader.

Every entry can be rebuilt from the database, so a miss (or a Redis outage, which
config.cache reads as a miss) only costs time. The kinds of entry:

- Rendered Markdown, per article version: the intro and the body under separate keys
  (pk + updated_at + RENDER_VERSION), in Redis and, for the pages read most, in each process
  (the "local" cache). An edit changes updated_at, so the next request uses a new key; nothing
  has to be found and deleted for an edit to show. A teaser render asks only for the intro's
  entry: the body's HTML is never read for a reader who may not read it.
- The article's text as a reader with full access sees it, its meta tags and the site's chrome,
  rendered by {% cached_fragment %} (articles/templatetags/fragments.py) in each process, keyed
  by everything the block is given and shown with nothing else. The full text's fragment is
  rendered only in the template's branch for a reader the entitlement module let read in full;
  a teaser is rendered each time.
- Whole pages for anonymous readers, per path, for PUBLIC_CACHE_SECONDS at most, and under a
  content generation that changes when any article, topic, person, plan or the site settings
  is saved or deleted, or articles are updated in bulk. Only a page
  rendered for a request with no session and no cookie that could personalise it is stored
  or served (`is_cacheable_anonymous_request`), and only if nothing in it was made for that
  request (`can_store_page`): a signed-in reader's page is never stored.
- Live articles (with topic and people, never a body) per slug and content generation, so a
  signed-in reader's page needs no article query.
- The lookups every page shows (the topics menu, the entry price, the site settings), as one
  entry read at most once per request, dropped as soon as one of their rows changes.
"""

import hashlib
import time
from dataclasses import dataclass
from functools import wraps

from django.conf import settings
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.cache import cache, caches
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.http import HttpResponse
from django.utils.safestring import SafeString, mark_safe

from articles import markup
from articles.models import Article, Person, SiteSettings, Topic
from articles.signals import content_bulk_updated
from articles.templatetags.fragments import forget_renders
from billing.models import Plan
from billing.signals import plans_bulk_updated

# Bump when markup.render's output or the shape of a cached value changes, so no entry made
# by the old code is served by the new.
RENDER_VERSION = 5
MARKUP_SECONDS = 60 * 60 * 24 * 7  # an old version's entries simply age out
LOOKUP_SECONDS = 60 * 10

_SITE_WIDE = f"site-wide:v{RENDER_VERSION}"
_GENERATION = f"content-generation:v{RENDER_VERSION}"


def _version(article: Article) -> str:
    return f"v{RENDER_VERSION}:{article.pk}:{article.updated_at.timestamp():.6f}"


def live_article(request, slug: str, load) -> Article:
    """The live article with its topic and people, cached per slug and content generation.

    `load()` queries it (raising Http404 if it is not live). The stored copy never holds a
    body: `readable_body` stays with this request only. The same round trip to the cache
    brings the site-wide lookups for the rest of the request.
    """
    key = f"article:{hashlib.sha256(slug.encode()).hexdigest()}"
    generation, article = _current(key, request)
    if article is None:
        article = load()
        body = article.__dict__.pop("readable_body")
        _store(key, generation, article, LOOKUP_SECONDS)
        article.readable_body = body  # pickled above without it
    return article


def article_html(article: Article, *, with_body: bool) -> tuple[SafeString, SafeString | None]:
    """The sanitised HTML of the article's intro and, when with_body, of its body.

    Cached per article version, the two under separate keys and fetched in one round trip;
    a teaser asks for the intro's key alone. On a miss the Markdown is rendered; the body's
    is the `readable_body` the reader's own query brought, or read now (the caller has decided).
    """
    version = _version(article)
    sources = {f"markup:intro:{version}": lambda: article.intro}
    if with_body:
        sources[f"markup:body:{version}"] = lambda: _body_of(article)
    local = caches["local"]  # this process's copy saves the round trip on the pages read most
    html = local.get_many(sources)
    if len(html) < len(sources):
        html.update(cache.get_many([key for key in sources if key not in html]))
        missing = {
            key: str(markup.render(text())) for key, text in sources.items() if key not in html
        }
        if missing:
            cache.set_many(missing, MARKUP_SECONDS)
            html.update(missing)
        local.set_many(html, MARKUP_SECONDS)
    intro_key, *body_key = sources
    # Stored as plain strings; markup.render sanitised them before they were stored.
    return mark_safe(html[intro_key]), (mark_safe(html[body_key[0]]) if body_key else None)


def clear_local() -> None:
    """Forget this process's renders (tests, where ids and clocks repeat)."""
    caches["local"].clear()
    forget_renders()


def _body_of(article: Article) -> str:
    if "readable_body" in article.__dict__:
        return article.readable_body
    return Article.objects.filter(pk=article.pk).values_list("body", flat=True).get()


def is_cacheable_anonymous_request(request) -> bool:
    """True for a GET from a signed-out reader with no session and no message cookie.

    Such a reader's page depends only on the URL, so it may be shared. Any session (even
    an anonymous one, e.g. mid sign-up) means the page could be personalised: not shared.
    """
    return (
        request.method in ("GET", "HEAD")
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
        and CookieStorage.cookie_name not in request.COOKIES
        and not request.user.is_authenticated
    )


def can_store_page(request, response) -> bool:
    """A rendered page may be shared only if nothing in it was made for this request."""
    return (
        response.status_code == 200
        and not response.streaming
        and not response.cookies
        and getattr(request, "_csp_nonce", None) is None  # a nonce is valid for one response only
    )


def _current(key: str, request=None):
    """(the content generation, the value stored under key if it was stored in this generation).

    Values are stored with the generation they were made in, so one round trip fetches both
    and a value from an older generation reads as a miss. It also brings the site-wide lookups.
    """
    found = cache.get_many([_GENERATION, key, _SITE_WIDE])
    generation = found.get(_GENERATION) or _first_generation()
    if request is not None and _SITE_WIDE in found:
        request._site_wide_lookups = found[_SITE_WIDE]
    stored_generation, value = found.get(key, (None, None))
    return generation, (value if stored_generation == generation else None)


def _first_generation() -> str:
    cache.add(_GENERATION, str(time.time_ns()), None)  # the first of racing workers wins
    return cache.get(_GENERATION) or "unstored"


def _store(key: str, generation: str, value, seconds: int) -> None:
    cache.set(key, (generation, value), seconds)


def shared_for_anonymous(view):
    """Serve signed-out readers without a session one stored copy of this page per path.

    Stored with the content generation, so an edited, published or unpublished article
    shows on the next request; a scheduled article going live by the clock shows within
    PUBLIC_CACHE_SECONDS, as it would through a CDN. A hit costs no query at all, and answers
    with the status, headers and content the view gave; the middleware marks it as it would
    a fresh render.
    """

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not is_cacheable_anonymous_request(request):
            return view(request, *args, **kwargs)
        key = f"page:anonymous:{hashlib.sha256(request.get_full_path().encode()).hexdigest()}"
        generation, page = _current(key, request)
        if page is not None:
            status, headers, content = page
            return HttpResponse(content, status=status, headers=headers)
        response = view(request, *args, **kwargs)
        if can_store_page(request, response):
            # the view's own headers (Content-Type and any it set); never a cookie, since a
            # response that sets one is not stored at all
            page = (response.status_code, dict(response.items()), response.content)
            _store(key, generation, page, settings.PUBLIC_CACHE_SECONDS)
        return response

    return wrapped


@dataclass(frozen=True)
class TopicLink:
    """A topic as the menu shows it, its URL worked out once when the menu is cached."""

    name: str
    url: str


def site_wide(request=None) -> dict:
    """The topics menu, the entry price and the site settings: one cache entry, read once a request."""
    lookups = getattr(request, "_site_wide_lookups", None)
    if lookups is None:
        lookups = cache.get(_SITE_WIDE)
    if lookups is None:
        lookups = {
            "topics": [
                TopicLink(t.name, t.get_absolute_url()) for t in Topic.objects.only("name", "slug")
            ],
            "entry_plan": Plan.objects.from_price(),
            "site_settings": SiteSettings.load(),
        }
        cache.set(_SITE_WIDE, lookups, LOOKUP_SECONDS)
    if request is not None:
        request._site_wide_lookups = lookups
    return lookups


@dataclass(frozen=True)
class TopicsMenu:
    links: list[TopicLink]
    current: str  # the URL of the topic whose page this is, or ""


def topics_menu(request=None) -> TopicsMenu:
    lookups = site_wide(request)
    path = getattr(request, "path", "")
    current = path if any(link.url == path for link in lookups["topics"]) else ""
    return TopicsMenu(lookups["topics"], current)


def entry_plan(request=None) -> Plan | None:
    """Plan.objects.from_price(): what every paywall and the home page advertise."""
    return site_wide(request)["entry_plan"]


def site_settings(request=None) -> SiteSettings:
    return site_wide(request)["site_settings"]


@receiver([post_save, post_delete], sender=Article)
@receiver([post_save, post_delete], sender=Topic)
@receiver([post_save, post_delete], sender=Person)
@receiver([post_save, post_delete], sender=Plan)
@receiver([post_save, post_delete], sender=SiteSettings)
@receiver(content_bulk_updated)  # QuerySet.update() of any of those but Plan
@receiver(plans_bulk_updated)
def _content_changed(sender, **kwargs):
    content_changed()
    # Again once the change is committed: a request that read the old rows in between (and
    # stored what it built from them under the new generation) must not outlive it.
    transaction.on_commit(content_changed)


def content_changed() -> None:
    """A new generation retires every shared anonymous page at once; the lookups are rebuilt."""
    cache.delete(_SITE_WIDE)
    cache.set(_GENERATION, str(time.time_ns()), None)


@receiver(post_delete, sender=Article)
def _article_deleted(instance, **kwargs):
    # An edit needs nothing deleted (the version changes); a deleted article's text goes now.
    version = _version(instance)
    cache.delete_many([f"markup:intro:{version}", f"markup:body:{version}"])
