"""What the reading pages keep in the cache, and why none of it can reach the wrong reader.

Every entry can be rebuilt from the database, so a miss (or a Redis outage, which config.cache
reads as a miss) only costs time. These are all the kinds of entry there are, and what retires
each; "the generation" is the first of them.

In Redis (the default cache), shared by every web node:

- `content-generation`: a token, replaced whenever an article, attachment, topic, person, plan or
  the site settings is saved or deleted (post_save, post_delete) or updated in bulk (the
  content_bulk_updated and plans_bulk_updated signals their querysets send), through the
  admin, a service or a command alike; replaced again when that transaction commits. The next
  three are stored with the generation they were built in, and read in one round trip with
  it: one from an older generation reads as a miss, so a change shows on the next request.
- `page:anonymous:<path>`: a whole page for signed-out readers without a session, as the view
  answered it (status, headers, content), for PUBLIC_CACHE_SECONDS at most. Only a request
  with no session and no cookie that could personalise it is served or stored
  (`is_cacheable_anonymous_request`), and only a page that sets no cookie and used no CSP
  nonce (`can_store_page`): a signed-in reader's page is never stored. Retired by the
  generation; a scheduled article going live by the clock shows within PUBLIC_CACHE_SECONDS.
- `article:<slug>`: the live article with its topic, people and attachments (their titles, kinds
  and sizes; never a file's bytes), never its body, and the
  articles its page offers to read next (their cards' fields), so a signed-in reader's page
  needs no article query. Retired by the generation (or LOOKUP_SECONDS): a new, edited or
  unpublished article in the topic shows in "Read next" on the next request; one going live
  by the clock within LOOKUP_SECONDS.
- `site-wide`: the topics menu, the entry price and the site settings, read in the same round
  trip as the article or the page. Retired by the generation (or LOOKUP_SECONDS).
- `markup:intro:<version>` and `markup:body:<version>`: an article version's sanitised HTML,
  the two under separate keys (a teaser asks for the intro's alone: the body's HTML is never
  read for a reader who may not read it). The version (pk, updated_at, RENDER_VERSION) is in
  the key, so an edit needs nothing retired; a deleted article's entries are deleted with it.

In each process:

- the same `markup:` entries in the "local" cache (a LocMemCache), in front of Redis: measured,
  it takes about a millisecond of CPU off the subscriber's article page. Keyed by the version.
- the renders of {% cached_fragment %} (articles/templatetags/fragments.py): the site's
  chrome, and an article's meta tags, full text and "Read next". Keyed by everything each block is given,
  and shown with nothing else, so nothing retires them: a changed value is a new key.
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
from articles.models import Article, Attachment, Person, SiteSettings, Topic
from articles.signals import content_bulk_updated
from articles.templatetags.fragments import forget_renders
from billing.models import Plan
from billing.signals import plans_bulk_updated

# Bump when markup.render's output or the shape of a cached value changes, so no entry made
# by the old code is served by the new.
RENDER_VERSION = 9  # 6: articles carry their meter; 7: headings carry ids, reading time;
# 8: typographic quotes and dashes; 9: articles carry their attachments' list
MARKUP_SECONDS = 60 * 60 * 24 * 7  # an old version's entries simply age out
LOOKUP_SECONDS = 60 * 10

_GENERATION = f"content-generation:v{RENDER_VERSION}"
_SITE_WIDE = f"site-wide:v{RENDER_VERSION}"


# The content generation


@receiver([post_save, post_delete], sender=Article)
@receiver([post_save, post_delete], sender=Attachment)  # listed on the page, cached with it
@receiver([post_save, post_delete], sender=Topic)
@receiver([post_save, post_delete], sender=Person)
@receiver([post_save, post_delete], sender=Plan)
@receiver(post_delete, sender=SiteSettings)
@receiver(content_bulk_updated)  # QuerySet.update() of any of those but Plan
@receiver(plans_bulk_updated)
def _content_changed(sender, **kwargs):
    content_changed()
    # Again once the change is committed: a request that read the old rows in between (and
    # stored what it built from them under the new generation) must not outlive it.
    transaction.on_commit(content_changed)


@receiver(post_save, sender=SiteSettings)
def _site_settings_saved(sender, created, **kwargs):
    # Only an edit changes what readers saw. The one row is created by SiteSettings.load() on
    # a fresh site, while the lookups are being built from it: retiring them then would only
    # make the next request build them again.
    if not created:
        _content_changed(sender)


def content_changed() -> None:
    """A new generation: every page, article and lookup stored under the old one reads as a miss."""
    cache.set(_GENERATION, str(time.time_ns()), None)


def _first_generation() -> str:
    cache.add(_GENERATION, str(time.time_ns()), None)  # the first of racing workers wins
    return cache.get(_GENERATION) or "unstored"


def _read(key: str, request) -> tuple[str, object]:
    """(the generation, the value under key if stored in it), in one round trip with the lookups.

    The site-wide lookups come along and are kept on the request, with the generation, for
    site_wide() to use without asking again.
    """
    found = cache.get_many([_GENERATION, key, _SITE_WIDE])
    generation = found.get(_GENERATION) or _first_generation()
    request._site_wide = (generation, _if_current(found.get(_SITE_WIDE), generation))
    return generation, _if_current(found.get(key), generation)


def _if_current(stored, generation: str):
    stored_generation, value = stored or (None, None)
    return value if stored_generation == generation else None


def _store(key: str, generation: str, value, seconds: int) -> None:
    cache.set(key, (generation, value), seconds)


# Live articles


def live_article(request, slug: str, load) -> tuple[Article, list[Article]]:
    """The live article with its topic and people, and the articles to read next, cached per
    slug and content generation.

    `load()` queries it (raising Http404 if it is not live). The stored copy never holds a
    body: `readable_body` stays with this request only. "Read next" is stored with it, so it
    is retired with it: any article saved, published or deleted is a new generation.
    """
    key = f"article:{hashlib.sha256(slug.encode()).hexdigest()}"
    generation, stored = _read(key, request)
    if stored is None:
        article = load()
        body = article.__dict__.pop("readable_body")
        read_next = Article.objects.read_next(article)
        _store(key, generation, (article, read_next), LOOKUP_SECONDS)
        article.readable_body = body  # pickled above without it
        return article, read_next
    return stored


# The site-wide lookups


@dataclass(frozen=True)
class TopicLink:
    """A topic as the menu shows it, its URL worked out once when the menu is cached."""

    name: str
    url: str


def site_wide(request=None) -> dict:
    """The topics menu, the entry price and the site settings: one entry, read once a request."""
    generation, lookups = getattr(request, "_site_wide", (None, None))
    if generation is None:
        found = cache.get_many([_GENERATION, _SITE_WIDE])
        generation = found.get(_GENERATION) or _first_generation()
        lookups = _if_current(found.get(_SITE_WIDE), generation)
    if lookups is None:
        lookups = {
            "topics": [
                TopicLink(t.name, t.get_absolute_url()) for t in Topic.objects.only("name", "slug")
            ],
            "entry_plan": Plan.objects.from_price(),
            "site_settings": SiteSettings.load(),
        }
        _store(_SITE_WIDE, generation, lookups, LOOKUP_SECONDS)
    if request is not None:
        request._site_wide = (generation, lookups)
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


# Pages shared by anonymous readers


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
        generation, page = _read(key, request)
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


# Rendered Markdown


def _version(article: Article) -> str:
    return f"v{RENDER_VERSION}:{article.pk}:{article.updated_at.timestamp():.6f}"


def article_html(article: Article, *, with_body: bool) -> tuple[SafeString, SafeString | None]:
    """The sanitised HTML of the article's intro and, when with_body, of its body.

    Cached per article version, the two under separate keys and fetched in one round trip;
    a teaser asks for the intro's key alone. On a miss the Markdown is rendered; the body's
    is the `readable_body` the reader's own query brought, or read now (the caller has decided).
    """
    version = _version(article)
    intro_key = f"markup:intro:{version}"
    sources = {intro_key: lambda: article.intro}
    if with_body:
        sources[f"markup:body:{version}"] = lambda: _body_of(article)
    local = caches["local"]  # this process's copy saves the round trip on the pages read most
    html = local.get_many(sources)
    if len(html) < len(sources):
        html.update(cache.get_many([key for key in sources if key not in html]))
        missing = {}
        for key, text in sources.items():  # the intro first: the body's heading ids avoid its own
            if key not in html:
                taken = markup.heading_ids(html[intro_key]) if key != intro_key else frozenset()
                missing[key] = html[key] = str(markup.render(text(), taken_ids=taken))
        if missing:
            cache.set_many(missing, MARKUP_SECONDS)
        local.set_many(html, MARKUP_SECONDS)
    _, *body_key = sources
    # Stored as plain strings; markup.render sanitised them before they were stored.
    return mark_safe(html[intro_key]), (mark_safe(html[body_key[0]]) if body_key else None)


def _body_of(article: Article) -> str:
    if "readable_body" in article.__dict__:
        return article.readable_body
    return Article.objects.filter(pk=article.pk).values_list("body", flat=True).get()


@receiver(post_delete, sender=Article)
def _article_deleted(instance, **kwargs):
    # An edit needs nothing deleted (the version changes); a deleted article's text goes now.
    version = _version(instance)
    cache.delete_many([f"markup:intro:{version}", f"markup:body:{version}"])


def clear_local() -> None:
    """Forget this process's renders (tests, where ids and clocks repeat)."""
    caches["local"].clear()
    forget_renders()
