"""The URLconf (config/urls.py): only the Stripe webhook escapes CSRF protection, and the admin
is behind allauth's login, with its rate limits, for staff only."""

from django.urls import URLPattern, URLResolver, get_resolver
from django.views.decorators.csrf import csrf_exempt

from tests.conftest import PASSWORD

ALLOWED_EXEMPT = {
    # Stripe signs its webhook calls; it cannot send our CSRF token.
    "/billing/stripe/webhook/",
    # The email-only newsletter form sits on pages every signed-out reader (and CDN) shares, so it
    # carries no per-visitor token; a forged POST can only mail the address a confirmation link.
    "/newsletter/subscribe/",
    # Mail clients post the one-click unsubscribe (RFC 8058) from the inbox; the signed token in
    # the URL is what proves the link came from our mail.
    "/newsletter/unsubscribe/<str:token>/",
}


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


def test_no_view_is_exempt_from_csrf_but_those_no_browser_form_of_ours_can_post_to():
    exempt = {route for route, view in walk(get_resolver().url_patterns) if is_csrf_exempt(view)}

    assert exempt <= ALLOWED_EXEMPT, f"views exempt from CSRF: {sorted(exempt - ALLOWED_EXEMPT)}"


# ---- the admin's way in -----------------------------------------------------------------


def test_the_admin_login_sends_to_allauths_login(client):
    response = client.get("/admin/login/?next=/admin/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=%2Fadmin%2F"


def test_a_member_who_is_not_staff_is_refused_the_admin(client, readers):
    client.force_login(readers["in_trial"])

    assert client.get("/admin/login/").status_code == 403


def test_a_member_who_is_not_staff_cannot_open_the_admin(client, readers):
    client.force_login(readers["in_trial"])

    response = client.get("/admin/articles/article/")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_guessing_a_staff_password_is_stopped_by_allauths_rate_limit(
    client, superuser, fresh_cache
):
    for _ in range(5):
        wrong = client.post(
            "/accounts/login/", {"login": "boss@example.com", "password": "not-the-password"}
        )
        assert wrong.status_code == 200

    right = client.post("/accounts/login/", {"login": "boss@example.com", "password": PASSWORD})

    assert right.status_code in (200, 429)
    assert "_auth_user_id" not in client.session
    assert client.get("/admin/").status_code == 302
