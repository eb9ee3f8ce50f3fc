"""How the site's one stylesheet serves a reader beyond the desktop screen: the phone's header,
dark mode, printing an article, and the paywall box's fade (static/css/site.css)."""

import base64

import pytest

LIGHT_ACCENT = (15, 107, 85)  # --accent: the paywall's top border


def pixels(page, clip) -> list[tuple[int, int, int]]:
    """The colours the reader sees in that rectangle of the page, left to right, top to bottom."""
    png = base64.b64encode(page.screenshot(clip=clip)).decode()
    data = page.evaluate(
        """async (src) => {
            const img = new Image();
            img.src = src;
            await img.decode();
            const canvas = document.createElement("canvas");
            canvas.width = img.width;
            canvas.height = img.height;
            const context = canvas.getContext("2d");
            context.drawImage(img, 0, 0);
            return Array.from(context.getImageData(0, 0, img.width, img.height).data);
        }""",
        f"data:image/png;base64,{png}",
    )
    return [tuple(data[i : i + 3]) for i in range(0, len(data), 4)]


def visible(page, selector) -> bool:
    return page.locator(selector).first.is_visible()


def test_a_phone_reader_finds_search_and_pricing_in_the_header(page, demo_site):
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto("/")

    header = page.locator(".site-header")
    for name in ("Search", "Pricing", "Sign in"):
        assert header.get_by_role("link", name=name, exact=True).is_visible(), name
    assert page.evaluate("document.documentElement.scrollWidth") <= 360

    header.get_by_role("link", name="Pricing", exact=True).click()
    assert page.url.endswith("/pricing/")


@pytest.mark.parametrize(
    ("scheme", "paper", "ink"),
    [("light", "rgb(255, 255, 255)", "rgb(22, 32, 42)"), ("dark", "rgb(17, 23, 29)", None)],
)
def test_the_page_follows_the_readers_colour_scheme(
    page, demo_site, screenshot, scheme, paper, ink
):
    page.emulate_media(color_scheme=scheme)
    page.goto("/articles/premium-article/")

    colours = page.evaluate(
        "() => { const s = getComputedStyle(document.body); return [s.backgroundColor, s.color]; }"
    )
    screenshot(page, f"article-{scheme}")
    assert colours[0] == paper
    if ink:
        assert colours[1] == ink
    else:  # light text on the dark page
        assert colours[1] == "rgb(232, 235, 238)"


def test_printing_an_article_prints_the_article_and_its_address_without_chrome_or_ads(
    page, demo_site, screenshot
):
    page.goto("/articles/public-article/")
    assert visible(page, ".ad-slot") and visible(page, ".site-nav")
    assert not visible(page, ".share__address")

    page.emulate_media(media="print")

    screenshot(page, "printed")
    assert visible(page, ".article__title") and visible(page, ".article__body")
    assert "tidy logbook" in page.locator(".article__body").inner_text()
    for chrome in (
        ".site-nav",
        ".topics-nav",
        ".site-footer",
        ".ad-slot",
        ".share__links",
        ".read-next",
        ".article__newsletter",
    ):
        assert not visible(page, chrome), chrome
    address = page.locator(".share__address")
    assert address.is_visible()
    assert address.inner_text().endswith("/articles/public-article/")


def test_the_paywall_fades_the_teaser_and_leaves_its_own_border_whole(page, demo_site, screenshot):
    page.goto("/articles/premium-article/")
    box = page.locator(".paywall").bounding_box()
    screenshot(page, "paywall")

    # the whole top border, between its rounded corners, is the accent green: nothing paints on it
    border = pixels(
        page, {"x": box["x"] + 12, "y": box["y"] + 1, "width": box["width"] - 24, "height": 2}
    )
    assert all(max(abs(a - b) for a, b in zip(p, LIGHT_ACCENT, strict=True)) <= 8 for p in border)
    # and the teaser's last lines fade into the box
    mask = page.evaluate(
        "() => getComputedStyle(document.querySelector('.article__intro')).maskImage"
    )
    assert mask.startswith("linear-gradient")
