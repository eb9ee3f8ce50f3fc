"""Search over published articles, and snippets that never give away a premium body.

On PostgreSQL: full-text search, weighted title A, summary B, intro C, body D, ranked with
ts_rank and served by a GIN expression index (migration 0003). On SQLite, the embedded
default: every word of the query must appear in some field, ranked by where it appears.

Matching may use the body, so a premium article can be found by what it says; but a
snippet is cut from the public text (summary and intro) unless the entitlement module says
this reader may read the article, and only then is its body read from the database.
"""

import html
import re
from dataclasses import dataclass

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Case, IntegerField, Q, Value, When
from django.shortcuts import render
from django.utils.html import strip_tags
from django.utils.safestring import SafeString, mark_safe

from articles import markup
from articles.models import Article

MAX_QUERY_LENGTH = 200  # longer queries are cut here: no title needs more, and it bounds the work
MAX_WORDS = 12
SNIPPET_LENGTH = 240
PER_PAGE = 10
SEARCH_CONFIG = "english"

# The index in migration 0003 is built on exactly this expression; keep them in step.
SEARCH_VECTOR = (
    SearchVector("title", weight="A", config=SEARCH_CONFIG)
    + SearchVector("summary", weight="B", config=SEARCH_CONFIG)
    + SearchVector("intro", weight="C", config=SEARCH_CONFIG)
    + SearchVector("body", weight="D", config=SEARCH_CONFIG)
)
SQLITE_WEIGHTS = {"title": 8, "summary": 4, "intro": 2, "body": 1}


def clean_query(raw: str) -> str:
    """The query as we search for it: no NUL or control characters, spaces collapsed, cut short."""
    text = "".join(ch if ch.isprintable() else " " for ch in raw[: MAX_QUERY_LENGTH * 4])
    return " ".join(text.split())[:MAX_QUERY_LENGTH].strip()


def words(query: str) -> list[str]:
    return re.findall(r"\w+", query.lower())[:MAX_WORDS]


def search_articles(query: str):
    """Published articles matching the cleaned query, best first, without their bodies."""
    articles = Article.objects.published().for_listing()
    if connection.vendor == "postgresql":
        search_query = SearchQuery(query, search_type="websearch", config=SEARCH_CONFIG)
        return (
            articles.alias(search=SEARCH_VECTOR)
            .filter(search=search_query)
            .annotate(rank=SearchRank(SEARCH_VECTOR, search_query))
            .order_by("-rank", "-publish_at", "pk")
        )
    terms = words(query)
    if not terms:
        return articles.none()
    for term in terms:
        articles = articles.filter(
            Q(title__icontains=term)
            | Q(summary__icontains=term)
            | Q(intro__icontains=term)
            | Q(body__icontains=term)
        )
    score = Value(0)
    for term in terms:
        for field, weight in SQLITE_WEIGHTS.items():
            score += Case(
                When(**{f"{field}__icontains": term}, then=weight),
                default=0,
                output_field=IntegerField(),
            )
    return articles.annotate(rank=score).order_by("-rank", "-publish_at", "pk")


@dataclass
class Result:
    article: Article
    snippet: SafeString


def results_for_reader(articles, *, query: str, access) -> list[Result]:
    """One page of results with a snippet each, chosen by what this reader may read."""
    articles = list(articles)
    readable = [a.pk for a in articles if access.decide(a).full]
    # Only now, with each decision made, are the bodies of readable articles loaded.
    bodies = (
        dict(Article.objects.filter(pk__in=readable).values_list("pk", "body")) if readable else {}
    )
    terms = words(query)
    results = []
    for article in articles:
        public_text = f"{article.summary} {plain_text(article.intro)}"
        snippet = None
        if article.pk in bodies:
            snippet = snippet_for(plain_text(bodies[article.pk]), terms, require_match=True)
        results.append(Result(article, snippet or snippet_for(public_text, terms)))
    return results


def plain_text(markdown_text: str) -> str:
    return html.unescape(strip_tags(markup.render(markdown_text)))


def snippet_for(text: str, terms: list[str], *, require_match: bool = False) -> SafeString | None:
    """A window of text around the first word that starts like a query word, that word marked.

    Prefix matching stands in for stemming ("leader" finds "leadership"). Returns None when
    require_match and nothing matches.
    """
    text = " ".join(text.split())
    pattern = (
        re.compile(r"\b(" + "|".join(re.escape(t) for t in terms) + r")\w*", re.IGNORECASE)
        if terms
        else None
    )
    match = pattern.search(text) if pattern else None
    if match is None:
        if require_match:
            return None
        start = 0
    else:
        start = max(0, match.start() - SNIPPET_LENGTH // 3)
        if start:
            start = text.find(" ", start) + 1 or start
    window = text[start : start + SNIPPET_LENGTH]
    prefix = "… " if start else ""
    suffix = " …" if start + SNIPPET_LENGTH < len(text) else ""
    marked, last = [], 0
    for found in pattern.finditer(window) if pattern else ():
        marked += [
            html.escape(window[last : found.start()]),
            f"<mark>{html.escape(found.group(0))}</mark>",
        ]
        last = found.end()
    marked.append(html.escape(window[last:]))
    return mark_safe(prefix + "".join(marked) + suffix)


def search(request):
    """/search/?q=: results for any query, however odd; an empty one gets the empty form."""
    query = clean_query(request.GET.get("q", ""))
    page = results = None
    if query:
        page = Paginator(search_articles(query), PER_PAGE).get_page(request.GET.get("page"))
        results = results_for_reader(page.object_list, query=query, access=request.access)
    return render(
        request, "articles/search.html", {"query": query, "page": page, "results": results}
    )
