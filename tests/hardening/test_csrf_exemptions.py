"""Only the Stripe webhook is exempt from CSRF protection: a walk of the whole URLconf."""

from django.urls import URLPattern, URLResolver, get_resolver
from django.views.decorators.csrf import csrf_exempt

# Stripe signs its webhook calls; it cannot send our CSRF token.
ALLOWED_EXEMPT = {"/billing/stripe/webhook/"}


def walk(patterns, prefix=""):
    for entry in patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from walk(entry.url_patterns, route)
        elif isinstance(entry, URLPattern):
            yield "/" + route, entry.callback


def is_csrf_exempt(view) -> bool:
    # csrf_exempt marks the function; class-based views carry it on view_class.dispatch too
    return getattr(view, "csrf_exempt", False) or getattr(
        getattr(view, "view_class", None), "csrf_exempt", False
    )


def test_the_walk_sees_the_whole_site_and_would_spot_an_exemption():
    routes = {route for route, _ in walk(get_resolver().url_patterns)}

    assert {"/search/", "/admin/", "/accounts/login/", "/accounts/signup/", "/feed/"} <= routes
    assert is_csrf_exempt(csrf_exempt(lambda request: None))


def test_no_view_but_the_stripe_webhook_is_exempt_from_csrf():
    exempt = {route for route, view in walk(get_resolver().url_patterns) if is_csrf_exempt(view)}

    assert exempt <= ALLOWED_EXEMPT, f"views exempt from CSRF: {sorted(exempt - ALLOWED_EXEMPT)}"
