"""{% cached_fragment "name" key=value ... %}...{% endcached_fragment %}: a render kept in this
process, which can show only what it is given.

    {% load fragments %}
    {% cached_fragment "site-nav" signed_in=user.is_authenticated TRIAL_DAYS=TRIAL_DAYS %}
      ...
    {% endcached_fragment %}

The block is rendered with a context that holds the values passed to the tag and nothing else:
no request, user, csrf_token, messages or perms, and none of the context processors' values
unless they are passed. So a {% csrf_token %} inside renders empty, and a reader's name, their
trial's days left or a banner cannot appear unless it is passed; and whatever is passed is part
of the key, so a value that differs between readers can only ever give each of them their own
entry.

The key is a canonical encoding of the fragment's name, every value passed and what else
changes a render (autoescaping, the language, the time zone). Values may be str, int, float,
bool, None, Decimal, dates, times and datetimes, lists, tuples and dicts of them, frozen
dataclasses, and model instances, encoded by their label, pk, every attribute they have loaded
(fields and annotations) and, recursively, the related objects they hold (select_related,
prefetch_related). So when anything the block can see changes, e.g. an author's new name on the
article's cached author, the key changes by itself: nothing has to be told to drop an entry.
Anything else (a request, a lazy object such as request.user, a queryset, a form) raises
TypeError: pass the plain values the block needs.

The encoding itself is the key of a dict in this process's memory, which hashes it and compares
it for equality: two different encodings never share an entry, not even by a collision of
digests. (Measured on the subscriber's article page, making the keys of all seven fragments took
about 290 us a page with a SHA-256 digest of a pickle of the encoding, 130 to 170 us like this.)
Each process keeps at most KEPT_RENDERS renders, dropping the oldest; a deploy starts new
processes, so a render of an old template is never served.

Two more guards: a {% block %} inside is refused (a child template would fill it, and the key
cannot know which), and a render that queried the database (a relation that was not loaded
with its value) is shown but not kept, since what it read is not in the key. What the block
shows must follow from its values alone: no {% now %}, nor a tag that reads the clock or a cache.
"""

import dataclasses
import datetime
import functools
import logging
import re
import threading
from contextlib import ExitStack
from decimal import Decimal

from django import template
from django.db import connections
from django.db.models import Model, QuerySet
from django.dispatch import receiver
from django.template.base import token_kwargs
from django.template.loader_tags import BlockNode
from django.utils import timezone, translation
from django.utils.autoreload import file_changed
from django.utils.functional import LazyObject, Promise
from django.utils.safestring import SafeData

register = template.Library()
log = logging.getLogger(__name__)

# A page's chrome has a few variants, an article two to four per version: this keeps the
# articles read in the last while. A long read's entry (its HTML in the key and the render)
# is up to about 100 kB, so at most tens of MB a process.
KEPT_RENDERS = 500
_kept: dict[tuple, str] = {}
_keeping = threading.Lock()


@register.tag
def cached_fragment(parser, token):
    tag, *bits = token.split_contents()
    if not bits or not re.fullmatch(r"""(["'])[\w-]+\1""", bits[0]):
        raise template.TemplateSyntaxError(
            f'{tag} needs a quoted name of letters, digits and dashes: {{% {tag} "site-nav" ... %}}'
        )
    name, rest = bits[0][1:-1], bits[1:]
    values = token_kwargs(rest, parser, support_legacy=False)  # consumes what it parses
    if rest:
        raise template.TemplateSyntaxError(
            f"{tag} {name!r} takes only name=value pairs after its name, not {rest[0]!r}"
        )
    nodelist = parser.parse((f"end{tag}",))
    parser.delete_first_token()
    if nodelist.get_nodes_by_type(BlockNode):
        raise template.TemplateSyntaxError(
            f"{tag} {name!r} contains a {{% block %}}: a child template would fill it, and the "
            "kept render would not know which. Put the fragment inside the block instead."
        )
    return CachedFragmentNode(name, values, nodelist)


class CachedFragmentNode(template.Node):
    def __init__(self, name, values, nodelist):
        self.name = name
        self.values = values
        self.nodelist = nodelist

    def render(self, context):
        values = {name: value.resolve(context) for name, value in self.values.items()}
        key = fragment_key(self.name, values, render_settings=_render_settings(context))
        html = _kept.get(key)
        if html is None:
            html, queries = self.render_alone(values, context)
            if queries:
                log.warning(
                    "cached_fragment %r read the database while rendering (%s), so it is not "
                    "kept: pass what it shows already loaded (e.g. select_related).",
                    self.name,
                    queries[0],
                )
            else:
                _keep(key, html)
        return html

    def render_alone(self, values: dict, context) -> tuple[str, list[str]]:
        """The block rendered with only `values`, and the SQL of any query it made."""
        alone = template.Context(
            values, autoescape=context.autoescape, use_l10n=context.use_l10n, use_tz=context.use_tz
        )
        queries = []

        def note(execute, sql, params, many, query_context):
            queries.append(sql)
            return execute(sql, params, many, query_context)

        with ExitStack() as stack:
            for connection in connections.all():
                stack.enter_context(connection.execute_wrapper(note))
            with alone.bind_template(context.template):  # {% include %} needs its engine
                html = self.nodelist.render(alone)
        return html, queries


def fragment_key(name: str, values: dict, *, render_settings: tuple = ()) -> tuple:
    """The key of a fragment's render: its name and the canonical encoding of all it can see."""
    return (name, render_settings, _canonical(values, set()))


def forget_renders() -> None:
    """Drop every kept render (tests; runserver, when a template is edited)."""
    _kept.clear()


@receiver(file_changed)
def _template_edited(sender, file_path, **kwargs):
    forget_renders()


def _keep(key: tuple, html: str) -> None:
    with _keeping:
        if len(_kept) >= KEPT_RENDERS:
            del _kept[next(iter(_kept))]  # the oldest: dicts keep their insertion order
        _kept[key] = html


def _render_settings(context) -> tuple:
    """What else changes a render: autoescaping, the active language and time zone.

    Read once per page (the render context's root lives as long as the page's render): the
    language and time zone take microseconds to ask for, and a page has several fragments.
    """
    root = context.render_context.dicts[0]
    if _render_settings not in root:
        root[_render_settings] = (
            translation.get_language(),
            timezone.get_current_timezone_name(),
            context.use_l10n,
            context.use_tz,
        )
    return (context.autoescape, *root[_render_settings])


# Types that go into the encoding as they are: no two of them are ever equal to each other.
# bool and float are not among them (True == 1 == 1.0), nor are subclasses of str (a string
# marked safe equals the same text unmarked, and renders differently): _canonical tags those.
# Every tuple in the encoding is one that _canonical made, whose first item says what it stands
# for, so no two different values can encode alike.
_AS_THEY_ARE = frozenset({str, int, type(None)})
# Django's bookkeeping on an instance; prefetched rows are encoded with the related objects.
_NOT_SHOWN = frozenset({"_state", "_django_version", "_prefetched_objects_cache"})


def _canonical(value, path: set[int]):
    """value as plain, hashable data, equal only for values that render alike; else TypeError."""
    kind = type(value)  # never isinstance: a lazy object claims its wrapped value's class
    if kind in _AS_THEY_ARE:
        return value
    return _encoder_for(kind)(value, path)


@functools.cache
def _encoder_for(kind: type):
    """How values of this type are encoded, worked out once per type (the pages' hot path)."""
    if issubclass(kind, (LazyObject, Promise)):
        return _refuser(
            f"cannot key a lazy {kind.__name__} (e.g. request.user): "
            "pass the plain values the block shows"
        )
    if issubclass(kind, str):
        tag = "html" if issubclass(kind, SafeData) else "str"
        return lambda value, path: (tag, str.__str__(value))
    if issubclass(kind, bool):
        return lambda value, path: ("bool", str(value))
    if issubclass(kind, int):  # an IntEnum, an IntegerChoices member
        return lambda value, path: ("int", int(value))
    if issubclass(kind, (float, Decimal, datetime.date)):  # a datetime is a date too
        tag = kind.__name__
        return lambda value, path: (tag, repr(value))  # e.g. datetime(..., tzinfo=...)
    if issubclass(kind, datetime.time):
        return lambda value, path: ("time", repr(value))
    if issubclass(kind, (list, tuple)):
        tag = "list" if issubclass(kind, list) else "tuple"
        return lambda value, path: (tag, tuple([_canonical(item, path) for item in value]))
    if issubclass(kind, dict):
        return _canonical_dict
    if issubclass(kind, Model):
        return _canonical_instance
    if dataclasses.is_dataclass(kind):
        if not kind.__dataclass_params__.frozen:
            return _refuser(
                f"cannot key {kind.__qualname__}: only a frozen dataclass, whose fields cannot "
                "change after it is keyed"
            )
        label = f"{kind.__module__}.{kind.__qualname__}"
        names = tuple(field.name for field in dataclasses.fields(kind))
        return lambda value, path: (
            label,
            tuple([_canonical(getattr(value, name), path) for name in names]),
        )
    if issubclass(kind, QuerySet):
        return _refuser(
            "cannot key a queryset, whose rows are read only when it is shown: pass list(queryset)"
        )
    return _refuser(
        f"cannot key a {kind.__module__}.{kind.__qualname__}: "
        "pass str, numbers, dates, lists, dicts, frozen dataclasses or model instances"
    )


def _refuser(message: str):
    def refuse(value, path):
        raise TypeError(f"cached_fragment {message}")

    return refuse


def _canonical_dict(value: dict, path: set[int]):
    items = [(_canonical(key, path), _canonical(item, path)) for key, item in value.items()]
    return ("dict", tuple(sorted(items, key=lambda pair: repr(pair[0]))))


def _canonical_instance(instance: Model, path: set[int]):
    """A model instance: label, pk, the attributes it has loaded, the related objects it holds."""
    label, pk = instance._meta.label, _canonical(instance.pk, path)
    if id(instance) in path:  # a related object that points back (one-to-one): already here
        return ("model-again", label, pk)
    path.add(id(instance))
    loaded = vars(instance)
    fields = [
        (name, value if type(value) in _AS_THEY_ARE else _canonical(value, path))
        for name, value in loaded.items()
        if name not in _NOT_SHOWN
    ]
    related = [  # select_related, or a relation read since it was loaded
        (name, _canonical(obj, path)) for name, obj in instance._state.fields_cache.items()
    ]
    prefetched = [  # querysets already fetched: their rows, no query
        (name, _canonical(list(queryset), path))
        for name, queryset in loaded.get("_prefetched_objects_cache", {}).items()
    ]
    path.discard(id(instance))
    return ("model", label, pk, *(tuple(sorted(part)) for part in (fields, related, prefetched)))
