"""Debian's Chromium driven by Playwright against pytest-django's live server.

Never `playwright install`: the tests launch /usr/bin/chromium. Without it they are skipped
with a plain reason (and `make test` says so before running); CI installs it, so there they run.
axe-core comes from the npm registry (package.json here, `npm ci` in `make test`) and is
injected into each page under test.
"""

import os
import re
from pathlib import Path

import pytest

from articles.models import SiteSettings

# Billing's cast: the Stripe stand-in as a real process, our settings pointed at it, plans
# synced to it, and Stripe's postman (events delivered, signed, when the test says so).
from tests.billing.conftest import (  # noqa: F401  (fixtures, used by name)
    no_stripe_call_inside_a_transaction,  # autouse: the journeys' Stripe calls are held to it too
    standin,
    standin_process,
    stripe_events,
    stripe_plans,
    stripe_settings,
)

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-sync",
]
NO_CHROMIUM = f"Chromium not found at {CHROMIUM}: browser tests skipped (apt-get install chromium)"
AXE_JS = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"
REPO_ROOT = Path(__file__).resolve().parents[3]
SCREENSHOTS = REPO_ROOT / "test-artifacts" / "screenshots"
PASSWORD = "a-long-and-unusual-passphrase-42"


def pytest_collection_modifyitems(config, items):
    if os.path.exists(CHROMIUM):
        return
    skip = pytest.mark.skip(reason=NO_CHROMIUM)
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(skip)


@pytest.fixture(scope="module")
def chromium():
    """One browser per test module.

    Playwright's sync API keeps an event loop running in this thread while it is open, and
    Django refuses ORM calls from a thread with a running loop unless
    DJANGO_ALLOW_ASYNC_UNSAFE is set. The tests here make plain synchronous ORM calls
    between browser steps, which is safe, so the variable is set only while a browser is
    open (module scope: pytest closes it before running another module's tests), and never
    leaks into other tests or the subprocesses they start.
    """
    from playwright.sync_api import sync_playwright

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
            )
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(chromium, live_server):
    """A fresh browser profile (no cookies) at phone-to-desktop width 1280 px."""
    # bypass_csp lets the test inject axe-core; the site's own pages carry no inline script.
    context = chromium.new_context(
        base_url=live_server.url, viewport={"width": 1280, "height": 900}, bypass_csp=True
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture
def demo_site(transactional_db, plans, articles, reviewer):
    """The landing page's settings with invented organisations, and a premium article with a reviewer."""
    premium = articles["premium"]
    premium.reviewer = reviewer
    premium.featured = True
    premium.save()
    return SiteSettings.objects.create(
        headline="Become the manager your team deserves",
        subheadline="Short, practical guides, reviewed by people who have run teams.",
        trusted_by="Kestrel Freightworks\nOllander Bank\nQuillon Press\nLarkspur Hotels",
        members_count=48200,
        countries_count=63,
        ad_snippet='<p><strong>The Team Leader\'s Toolkit</strong>: a workshop. <a href="https://example.com/w">Book</a></p>',
    )


class Screenshots:
    """Saves numbered full-page screenshots under test-artifacts/screenshots/<test>/ (kept after the run)."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.count = 0
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("*.png"):
            old.unlink()

    def __call__(self, page, name: str) -> Path:
        self.count += 1
        path = self.folder / f"{self.count:02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture
def screenshot(request):
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name)
    return Screenshots(SCREENSHOTS / name)


def axe_violations(page, impacts=("serious", "critical")) -> list[dict]:
    """Runs axe-core on the page as it is now; returns the violations of the given impacts."""
    if not AXE_JS.exists():
        raise AssertionError(
            f"axe-core is missing at {AXE_JS}: run `npm ci` in tests/integration/browser (make test does)."
        )
    page.add_script_tag(path=str(AXE_JS))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [n["target"] for n in v["nodes"]][:5],
        }
        for v in result["violations"]
        if v["impact"] in impacts
    ]
