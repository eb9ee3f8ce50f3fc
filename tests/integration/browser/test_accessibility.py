"""axe-core finds no serious or critical violation on the pages a reader decides on, at desktop
and phone widths, in the light and the dark colour scheme (the reader's system setting)."""

import pytest

from tests.integration.browser.conftest import PASSWORD, axe_violations
from tests.integration.browser.helpers import sign_in

PAGES = {
    "home": ("anonymous", "/"),
    "article-teaser": ("anonymous", "/articles/premium-article/"),
    "article-full": ("in_trial", "/articles/premium-article/"),
    "pricing": ("anonymous", "/pricing/"),
    "sign-up": ("anonymous", "/accounts/signup/"),
    "account": ("in_trial", "/account/"),
    "newsletter-sign-up": ("anonymous", "/newsletter/subscribe/"),
}


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", [1280, 360])
@pytest.mark.parametrize("name", PAGES)
def test_no_serious_accessibility_violations(
    page, demo_site, make_member, screenshot, name, width, scheme
):
    reader, url = PAGES[name]
    page.emulate_media(color_scheme=scheme)
    if reader == "in_trial":
        member = make_member("tina@example.com", trial="active", password=PASSWORD)
        sign_in(page, member.email)
    page.set_viewport_size({"width": width, "height": 800})

    response = page.goto(url)

    assert response.status == 200
    screenshot(page, f"{name}-{width}-{scheme}")
    assert axe_violations(page) == []
    # nothing scrolls sideways at a phone's width
    assert page.evaluate("document.documentElement.scrollWidth") <= width
