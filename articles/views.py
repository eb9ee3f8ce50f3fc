from django.conf import settings
from django.core.files.storage import default_storage
from django.core.paginator import Paginator
from django.db.models import Case, TextField, Value, When
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_safe

from accounts.entitlements import Decision, Meter, State
from accounts.services import meter_read_record
from articles import caching
from articles.http_cache import public_when_anonymous
from articles.models import Article, Attachment, Person, Topic, Visibility

LATEST_COUNT = 12
FEATURED_COUNT = 3
PAGE_SIZE = (
    24  # topic and author pages: a page's cost stays the same however many articles there are
)


@public_when_anonymous
@caching.shared_for_anonymous
def home(request):
    live = Article.objects.published().for_listing()
    featured = list(live.filter(featured=True)[:FEATURED_COUNT])
    latest = live.exclude(pk__in=[a.pk for a in featured])[:LATEST_COUNT]
    context = {
        "featured": featured,
        "latest": latest,
        "site": caching.site_settings(request),
        **_offer(request),
    }
    return render(request, "articles/home.html", context)


@public_when_anonymous
@caching.shared_for_anonymous
def topic(request, slug):
    topic = get_object_or_404(Topic, slug=slug)
    articles = _page(request, Article.objects.published().for_listing().filter(topic=topic))
    return render(request, "articles/topic.html", {"topic": topic, "articles": articles})


@public_when_anonymous
@caching.shared_for_anonymous
def person(request, slug):
    person = get_object_or_404(Person, slug=slug)
    articles = _page(request, Article.objects.published().for_listing().filter(author=person))
    return render(request, "articles/person.html", {"person": person, "articles": articles})


@public_when_anonymous
@caching.shared_for_anonymous
def article_detail(request, slug):
    article, read_next = _get_article_for_reader(request, slug)
    decision, meter_left = _decide_spending(request, article)
    intro_html, body_html = caching.article_html(article, with_body=decision.full)
    context = {
        "article": article,
        "attachments": article.listed_attachments(),  # loaded with the article: titles, sizes
        "decision": decision,
        "intro_html": intro_html,
        "body_html": body_html,
        "read_next": read_next,
        "is_preview": not article.is_live(),
        "site": caching.site_settings(request),  # the paywall's social proof and the ad slot
        "meter_left": meter_left,  # a metered member's free reads left this month, or None
    }
    if not decision.full:
        context.update(_offer(request))
    if not request.access.has_premium:
        # the ad slot is for readers who do not pay; subscribers and trial members never see it
        context["ad_html"] = context["site"].ad_html()
    return render(request, "articles/article_detail.html", context)


def _decide_spending(request, article) -> tuple[Decision, int | None]:
    """The policy's answer for this page, a first read on the meter recorded before the body loads.

    Also how many free reads the member has left this month, where the meter let them read
    (None for everyone else). The record is the database's word: if another tab took the
    last read a moment ago, the answer becomes the teaser.
    """
    access = request.access
    # Only a reader's GET spends a read: a HEAD (a link checker, a preview fetcher) gets the
    # answer a first read would, without the body and without the read.
    decision = access.decide(article, spend=request.method == "GET")
    used = len(access.meter_reads)
    if decision.spends_read:
        used = meter_read_record(user_id=request.user.pk, article_id=article.pk, now=timezone.now())
        if used is None:
            return Decision(full=False, reason=State.ALLOWANCE_USED), None
        decision = Decision(full=True)
    on_meter = decision.full and article.visibility == Visibility.PREMIUM and access.is_metered
    if on_meter:
        # The reader's query selected no premium body (the meter is decided per article, and
        # after it); caching.article_html reads it now that the read is the reader's.
        article.__dict__.pop("readable_body", None)
    if on_meter and article.meter == Meter.COUNTED:
        return decision, max(0, access.meter_allowance - used)
    return decision, None


def _get_article_for_reader(request, slug) -> tuple[Article, list[Article]]:
    """The article, its body only if this reader may read it, and the articles to read next;
    drafts and scheduled ones only for staff.

    The entitlement module decides first, for each visibility; the one query then selects the
    body (as `readable_body`) only for the visibilities it allowed, and an empty string for any
    other, so a teaser's body never leaves the database, and a reader with access needs no
    second query. A live article usually comes from the cache instead, without any body.
    """
    if request.user.is_staff:
        article = get_object_or_404(_articles_for(request), slug=slug)  # previews: never cached
        return article, Article.objects.read_next(article)
    return caching.live_article(
        request, slug, lambda: get_object_or_404(_articles_for(request).published(), slug=slug)
    )


def _articles_for(request):
    readable = [v for v in Visibility if request.access.decide(Article(visibility=v)).full]
    articles = (
        Article.objects.select_related("topic", "author", "reviewer")
        .with_attachment_list()  # the list on the page, in the one query; cached with it
        .defer("body")
        .annotate(
            readable_body=Case(
                When(visibility__in=readable, then="body"),
                default=Value(""),
                output_field=TextField(),
            )
        )
    )
    return articles


@require_safe
def download(request, slug, attachment_id):
    """An attachment's bytes, for a reader who may read its article; asked again on every request.

    The policy decides as it does for the article's body, without spending a read: a metered
    member downloads what they may read already (an exempt article, or one read this month), and
    is sent to the article, whose page spends the read, for one they have not opened. Anyone
    else gets the reason and the way in, with 403, and never a byte. The file is streamed from
    storage with no public URL of its own, as an attachment the browser must not sniff or render,
    and no cache may keep it.
    """
    attachment = _attachment_for(request, slug, attachment_id)
    decision = request.access.decide(attachment.article)
    if not decision.full:
        context = {
            "article": attachment.article,
            "attachment": attachment,
            "decision": decision,
            # a metered member with a read left: the article's page spends it, not this one
            "spends_read": request.access.decide(attachment.article, spend=True).spends_read,
        }
        response = render(request, "articles/download_refused.html", context, status=403)
    else:
        try:
            file = default_storage.open(attachment.file.name, "rb")
        except FileNotFoundError:
            raise Http404("This file is missing.") from None
        response = FileResponse(
            file,
            as_attachment=True,
            filename=attachment.filename,
            content_type=attachment.content_type,
        )
        response["X-Content-Type-Options"] = "nosniff"
    patch_cache_control(response, private=True, no_store=True)
    return response


def _attachment_for(request, slug, attachment_id):
    """The attachment, if it belongs to the article at slug: a live one, or any for staff."""
    articles = Article.objects.all() if request.user.is_staff else Article.objects.published()
    attachments = Attachment.objects.select_related("article").only(
        "file",
        "filename",
        "kind",
        "title",
        "article__slug",
        "article__title",
        "article__visibility",
        "article__meter",
    )
    return get_object_or_404(
        attachments, pk=attachment_id, article__slug=slug, article__in=articles
    )


def _page(request, articles):
    """One page of a listing, newest first; a missing or nonsense ?page= gives the first or last."""
    return Paginator(articles, PAGE_SIZE).get_page(request.GET.get("page"))


def _offer(request) -> dict:
    """The paywall's offer: the entry price from active plans, and the trial length."""
    return {
        "from_plan": caching.entry_plan(request),
        "trial_days": settings.TRIAL_DAYS,
        "meter_allowance": settings.METERED_FREE_ARTICLES,  # the registration wall's offer
    }
