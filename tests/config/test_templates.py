"""Every page in the site's own look (templates/, as config/settings.py sets them up): light,
without inline script or style, allauth's pages included; and the site's 404 and 500 pages."""

import re

import pytest
from django.contrib.staticfiles import finders
from django.template.loader import get_template

PAGE_BUDGET = 100 * 1024  # bytes of HTML and CSS before images


ANONYMOUS_PAGES = [
    "/",
    "/articles/premium-article/",
    "/articles/public-article/",
    "/topics/leadership/",
    "/people/ada-byline/",
    "/pricing/",
    "/accounts/signup/",
    "/accounts/login/",
    "/accounts/password/reset/",
]


MEMBER_PAGES = [
    "/",
    "/articles/premium-article/",
    "/account/",
    "/accounts/email/",
    "/accounts/password/change/",
]


def _pages(client, readers):
    for url in ANONYMOUS_PAGES:
        yield url, client.get(url)
    client.force_login(readers["in_trial"])
    for url in MEMBER_PAGES:
        yield url, client.get(url)


def _stylesheet_size() -> int:
    with open(finders.find("css/site.css"), "rb") as css:
        return len(css.read())


def test_every_page_with_its_stylesheet_is_under_100_kb(
    client, site_settings, plans, articles, readers
):
    css = _stylesheet_size()
    for url, response in _pages(client, readers):
        assert response.status_code == 200, url
        assert len(response.content) + css < PAGE_BUDGET, url


def test_no_page_has_inline_script_or_style(client, site_settings, plans, articles, readers):
    for url, response in _pages(client, readers):
        html = response.content.decode()
        # JSON-LD is data for search engines, not code; any other script is a file of our own
        # (an inline one would need a nonce)
        scripts = re.findall(r"<script[^>]*>(?:</script>)?", html)
        assert all(
            'type="application/ld+json"' in tag
            or re.fullmatch(r'<script src="/static/[^"]+"[^>]*></script>', tag)
            for tag in scripts
        ), url
        assert "<style" not in html, url
        assert not re.search(r"\sstyle=", html), url


def test_every_page_uses_the_site_look_and_no_framework_default(
    client, site_settings, plans, articles, readers
):
    for url, response in _pages(client, readers):
        html = response.content.decode()
        assert 'href="/static/css/site.css"' in html, url
        assert 'class="site-header"' in html and 'class="site-footer"' in html, url
        assert "<strong>Menu:</strong>" not in html, url  # allauth's bare layout


def test_stylesheets_and_images_come_from_our_own_static_files(
    client, site_settings, plans, articles, readers
):
    for url, response in _pages(client, readers):
        html = response.content.decode()
        assets = re.findall(r'<link rel="(?:stylesheet|icon)" href="([^"]+)"', html)
        assets += re.findall(r'<img [^>]*src="([^"]+)"', html)
        assert assets, url
        for asset in assets:
            assert asset.startswith("/static/"), (url, asset)
            assert finders.find(asset.removeprefix("/static/")), (url, asset)


@pytest.mark.parametrize(
    ("url", "fields"),
    [
        ("/accounts/signup/", ['name="email"', 'name="password1"']),
        ("/accounts/login/", ['name="login"', 'name="password"']),
        ("/accounts/password/reset/", ['name="email"']),
    ],
)
def test_the_account_forms_render_for_a_visitor(client, db, url, fields):
    response = client.get(url)

    html = response.content.decode()
    assert response.status_code == 200
    assert 'name="csrfmiddlewaretoken"' in html
    for field in fields:
        assert field in html
    assert 'name="username"' not in html  # email is the login


def test_an_unknown_address_gets_the_sites_404_page(client, db):
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    html = response.content.decode()
    assert "We can't find that page" in html
    assert 'class="site-header"' in html


def test_the_500_page_renders_with_no_request_and_no_context():
    # no db fixture here: any query would raise
    html = get_template("500.html").render({})

    assert "Something went wrong on our side" in html
    assert "/static/css/site.css" in html
