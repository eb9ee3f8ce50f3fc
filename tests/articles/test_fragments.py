"""{% cached_fragment %}: a render kept in the process that can show only what it is given."""

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages.storage.fallback import FallbackStorage
from django.middleware.csrf import get_token
from django.template import Context, Engine, RequestContext, TemplateSyntaxError
from django.utils.functional import SimpleLazyObject
from django.utils.safestring import mark_safe

from articles.models import Article, Person
from articles.templatetags import fragments
from articles.templatetags.fragments import fragment_key

ENGINE = Engine(
    libraries={"fragments": "articles.templatetags.fragments"},
    context_processors=[
        "django.template.context_processors.request",
        "django.template.context_processors.csrf",
        "django.contrib.auth.context_processors.auth",
        "django.contrib.messages.context_processors.messages",
        "config.context_processors.site",
    ],
)


def render(source: str, context=None, request=None) -> str:
    template = ENGINE.from_string("{% load fragments %}" + source)
    if request is None:
        return template.render(Context(context or {}))
    return template.render(RequestContext(request, context or {}))


@pytest.fixture
def member_request(rf, make_member):
    """A signed-in member's request, with everything a page's context usually holds."""
    request = rf.get("/articles/premium-article/")
    request.user = make_member("tina@example.com", trial="active")
    request.session = {}
    request._messages = FallbackStorage(request)
    request._messages.add(logging.INFO, "Welcome back, Tina")
    get_token(request)
    return request


def test_the_block_sees_only_the_values_passed_to_it(member_request):
    html = render(
        '{% cached_fragment "probe" shown=shown %}'
        "[{{ shown }}|{{ user.email }}|{{ request.path }}|{% csrf_token %}|{{ csrf_token }}"
        "|{{ SITE_NAME }}|{{ TRIAL_DAYS }}|{{ perms }}|{% for m in messages %}{{ m }}{% endfor %}"
        "|{{ secret }}]{% endcached_fragment %}"
        "{{ user.email }} {{ SITE_NAME }}",
        {"shown": "passed", "secret": "in the page's context"},
        member_request,
    )

    assert html.startswith("[passed|||||||||]")
    assert html.endswith("tina@example.com Masthead")  # outside the block, the page has them


def test_a_per_reader_value_gives_each_reader_their_own_entry():
    block = '{% cached_fragment "trial" days=days %}{{ days }} days left{% endcached_fragment %}'

    assert render(block, {"days": 3}) == "3 days left"
    assert render(block, {"days": 5}) == "5 days left"
    assert render(block, {"days": 3}) == "3 days left"


def test_a_render_is_kept_once_for_each_set_of_values():
    block = '{% cached_fragment "n" n=n %}{{ n }}{% endcached_fragment %}'

    for n in (1, 1, 2, 1):
        render(block, {"n": n})

    assert len(fragments._kept) == 2


def test_values_that_are_equal_in_python_but_render_differently_get_different_entries():
    block = '{% cached_fragment "value" v=v %}{{ v }}{% endcached_fragment %}'

    rendered = [render(block, {"v": v}) for v in (1, True, 1.0, Decimal("1.0"), "1")]
    assert rendered == ["1", "True", "1.0", "1.0", "1"]
    assert render(block, {"v": "<b>"}) == "&lt;b&gt;"
    assert render(block, {"v": mark_safe("<b>")}) == "<b>"
    assert render(block, {"v": "<b>"}) == "&lt;b&gt;"


def test_the_key_is_the_same_for_equal_values_however_they_are_built():
    assert fragment_key("x", {"a": [1, 2], "b": {"y": 1, "z": 2}}) == fragment_key(
        "x", {"b": {"z": 2, "y": 1}, "a": [1, 2]}
    )
    assert fragment_key("x", {"a": [1, 2]}) != fragment_key("x", {"a": (1, 2)})
    assert fragment_key("x", {"a": date(2026, 1, 1)}) != fragment_key("x", {"a": "2026-01-01"})
    assert fragment_key("x", {}) != fragment_key("y", {})


def test_an_authors_new_name_on_the_articles_cached_author_changes_the_key(articles):
    def loaded():
        return Article.objects.select_related("topic", "author").get(slug="premium-article")

    before = fragment_key("article", {"article": loaded()})
    assert fragment_key("article", {"article": loaded()}) == before

    Person.objects.filter(slug="ada-byline").update(name="Ada Newname")

    assert fragment_key("article", {"article": loaded()}) != before


def test_an_article_read_with_its_body_is_keyed_apart_from_one_without(articles):
    teaser = Article.objects.defer("body").get(slug="premium-article")
    full = Article.objects.get(slug="premium-article")

    assert fragment_key("a", {"article": teaser}) != fragment_key("a", {"article": full})


@dataclass(frozen=True)
class Link:
    name: str
    url: str


@dataclass
class MutableLink:
    name: str


def test_frozen_dataclasses_are_keyed_by_their_fields():
    block = '{% cached_fragment "link" link=link %}{{ link.name }}{% endcached_fragment %}'

    assert render(block, {"link": Link("Hiring", "/topics/hiring/")}) == "Hiring"
    assert render(block, {"link": Link("Feedback", "/topics/hiring/")}) == "Feedback"


@pytest.mark.parametrize(
    ("value", "complaint"),
    [
        (SimpleLazyObject(lambda: AnonymousUser()), "lazy"),
        (MutableLink("Hiring"), "frozen"),
        (object(), "cannot key a builtins.object"),
        ({"nested": [object()]}, "cannot key a builtins.object"),
    ],
)
def test_values_it_cannot_key_raise_a_clear_type_error(value, complaint):
    with pytest.raises(TypeError, match=complaint):
        render('{% cached_fragment "x" v=v %}{% endcached_fragment %}', {"v": value})


def test_a_request_a_queryset_or_a_lazy_user_cannot_be_passed(member_request, articles):
    block = '{% cached_fragment "x" v=v %}{% endcached_fragment %}'
    lazy_user = SimpleLazyObject(lambda: member_request.user)

    for value, complaint in [
        (member_request, "WSGIRequest"),
        (Article.objects.all(), "list\\(queryset\\)"),
        (lazy_user, "lazy"),
    ]:
        with pytest.raises(TypeError, match=complaint):
            render(block, {"v": value})


def test_a_block_inside_is_refused():
    with pytest.raises(TemplateSyntaxError, match="block"):
        render('{% cached_fragment "x" %}{% block inner %}{% endblock %}{% endcached_fragment %}')


@pytest.mark.parametrize(
    "tag",
    [
        "{% cached_fragment %}",
        "{% cached_fragment site-nav %}",
        '{% cached_fragment "site nav" %}',
        '{% cached_fragment "x" user.is_authenticated %}',
    ],
)
def test_a_fragment_needs_a_quoted_name_then_name_value_pairs(tag):
    with pytest.raises(TemplateSyntaxError):
        render(tag + "{% endcached_fragment %}")


def test_a_render_that_read_the_database_is_shown_but_not_kept(articles, caplog):
    block = (
        '{% cached_fragment "byline" article=article %}'
        "{{ article.author.name }}{% endcached_fragment %}"
    )
    article = Article.objects.get(slug="premium-article")  # the author is not loaded with it

    with caplog.at_level(logging.WARNING, logger="articles.templatetags.fragments"):
        assert render(block, {"article": article}) == "Ada Byline"
    assert "read the database" in caplog.text

    Person.objects.filter(slug="ada-byline").update(name="Ada Newname")
    assert render(block, {"article": Article.objects.get(pk=article.pk)}) == "Ada Newname"


def test_the_oldest_render_makes_way_when_the_process_keeps_its_most(monkeypatch):
    monkeypatch.setattr(fragments, "KEPT_RENDERS", 3)
    fragments.forget_renders()
    block = '{% cached_fragment "n" n=n %}{{ n }}{% endcached_fragment %}'

    for n in range(5):
        render(block, {"n": n})

    assert len(fragments._kept) == 3
    assert [key[2][1][0][1] for key in fragments._kept] == [2, 3, 4]


def test_values_of_every_kind_it_accepts_can_be_keyed():
    fragment_key(
        "everything",
        {
            "text": "a",
            "html": mark_safe("<b>a</b>"),
            "number": 1,
            "ratio": 0.5,
            "flag": False,
            "nothing": None,
            "money": Decimal("12.00"),
            "day": date(2026, 1, 1),
            "moment": datetime(2026, 1, 1, 12, 0, tzinfo=UTC),
            "list": [1, "a"],
            "tuple": (1, "a"),
            "dict": {"a": 1, 2: "b"},
            "link": Link("Hiring", "/topics/hiring/"),
        },
    )
