"""Decode Stripe's form encoding (``a[b]=c``, ``a[0][price]=x``, ``expand[]=y``).

The stripe SDK sends request parameters as ``application/x-www-form-urlencoded``
with nested keys; GET and DELETE send the same encoding in the query string.
``parse_params`` turns that back into plain dicts and lists of strings.
"""

import re
from urllib.parse import parse_qsl

_KEY_PART = re.compile(r"\[([^\[\]]*)\]")


class ParamError(ValueError):
    """A body or query string that cannot be decoded; ``param`` names the key."""

    def __init__(self, message, param):
        super().__init__(message)
        self.param = param


def split_key(key):
    """``"line_items[0][price]"`` -> ``["line_items", "0", "price"]``."""
    head, _, rest = key.partition("[")
    if not rest:
        return [head]
    rest = "[" + rest
    parts = _KEY_PART.findall(rest)
    if "".join(f"[{p}]" for p in parts) != rest:
        raise ParamError(f"Invalid parameter name: {key}", key)
    return [head, *parts]


def parse_params(text):
    """Decode an encoded body or query string into nested dicts and lists.

    Values stay strings: each endpoint converts the fields it knows, the way
    Stripe validates per parameter.
    """
    root = {}
    for key, value in parse_qsl(text or "", keep_blank_values=True):
        parts = split_key(key)
        node = root
        for depth, part in enumerate(parts):
            if not isinstance(node, dict):
                raise ParamError(f"Invalid parameter: {key}", key)
            if part == "":
                # "a[]" appends: give it the next free index.
                part = str(len(node))
            if depth == len(parts) - 1:
                if isinstance(node.get(part), dict):
                    raise ParamError(f"Invalid parameter: {key}", key)
                node[part] = value
            else:
                node = node.setdefault(part, {})
    return _lists_from_indexed_dicts(root)


def _lists_from_indexed_dicts(value, name=""):
    """Dicts keyed "0", "1", ... become lists, in index order.

    Metadata stays a dict: its keys are the caller's own, and may be digits.
    """
    if not isinstance(value, dict):
        return value
    converted = {k: _lists_from_indexed_dicts(v, k) for k, v in value.items()}
    if name != "metadata" and converted and all(k.isdigit() for k in converted):
        return [converted[k] for k in sorted(converted, key=int)]
    return converted
