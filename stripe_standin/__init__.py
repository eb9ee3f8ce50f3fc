"""A local stand-in for the parts of Stripe that Masthead uses.

Run it with ``python -m stripe_standin`` (see __main__.py) and point the
stripe SDK's API base at it. It answers the /v1 endpoints Masthead calls,
serves a hosted checkout page and customer portal, signs and delivers
webhooks, and offers a /_standin/ control API for tests. Standard library
plus the ``stripe`` package only: no Django, except in site.py, the launcher
``make run`` uses. A development tool, not an installed app: the site never
imports it. See README.md.
"""

from .server import create_server

__all__ = ["create_server"]
