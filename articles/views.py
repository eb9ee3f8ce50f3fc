from django.conf import settings
from django.shortcuts import get_object_or_404, render

from articles import markup
from articles.models import Article, Person, Topic
from billing.models import Plan

LATEST_COUNT = 12
FEATURED_COUNT = 3


def home(request):
    live = Article.objects.published().for_listing()
    featured = list(live.filter(featured=True)[:FEATURED_COUNT])
    latest = live.exclude(pk__in=[a.pk for a in featured])[:LATEST_COUNT]
    return render(request, "articles/home.html", {"featured": featured, "latest": latest, **_offer()})


def topic(request, slug):
    topic = get_object_or_404(Topic, slug=slug)
    articles = Article.objects.published().for_listing().filter(topic=topic)
    return render(request, "articles/topic.html", {"topic": topic, "articles": articles})


def person(request, slug):
    person = get_object_or_404(Person, slug=slug)
    articles = Article.objects.published().for_listing().filter(author=person)
    return render(request, "articles/person.html", {"person": person, "articles": articles})


def article_detail(request, slug):
    article = _get_article_for_reader(request, slug)
    decision = request.access.decide(article)
    context = {
        "article": article,
        "decision": decision,
        "intro_html": markup.render(article.intro),
        "is_preview": not article.is_live(),
    }
    if decision.full:
        # Only now, with the decision made, is the premium body read from the database.
        body = Article.objects.filter(pk=article.pk).values_list("body", flat=True).get()
        context["body_html"] = markup.render(body)
    else:
        context.update(_offer())
    return render(request, "articles/article_detail.html", context)


def _get_article_for_reader(request, slug) -> Article:
    """The article without its body; drafts and scheduled articles only for staff (a preview)."""
    articles = Article.objects.select_related("topic", "author", "reviewer").defer("body")
    if not request.user.is_staff:
        articles = articles.published()
    return get_object_or_404(articles, slug=slug)


def _offer() -> dict:
    """The paywall's offer: the entry price from active plans, and the trial length."""
    return {"from_plan": Plan.objects.from_price(), "trial_days": settings.TRIAL_DAYS}
