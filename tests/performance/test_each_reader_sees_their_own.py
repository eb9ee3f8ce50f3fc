"""Every reading page, for readers whose pages must differ, each warming the caches for the next.

Two members in their trial with different days left, a subscriber whose payment failed (in
grace, with the card banner) and staff read every page in turn, twice, each one first on some
page; each must see only their own name, days and banners, never another's. An anonymous
reader after them gets only the teaser and none of it. Judged on the raw HTML, with the clock
frozen; each test runs with the locmem cache and, in CI, with a real Redis (conftest.py).
"""

import logging
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest
import time_machine
from django.test import Client

from accounts.services import trial_set
from articles.models import Status, Visibility
from tests.conftest import SECRET_SENTENCES

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
PREMIUM = "/articles/premium-article/"
MEMBERS = "/articles/members-article/"
PUBLIC = "/articles/public-article/"
DRAFT = "/articles/draft-article/"
ACCOUNT = "/account/"
READING_PAGES = [
    "/",
    "/topics/leadership/",
    "/people/ada-byline/",
    PREMIUM,
    MEMBERS,
    PUBLIC,
    "/search/?q=opening",
    "/pricing/",
]
TRIAL_BANNER_PAGES = {"/", PREMIUM, MEMBERS, PUBLIC, ACCOUNT}

# What only this reader may see, and where they must see it.
OWN = {
    "tina": {
        "tina@example.com": {ACCOUNT},
        "Free trial: 6 days left": TRIAL_BANNER_PAGES,
    },
    "trudy": {
        "trudy@example.com": {ACCOUNT},
        "Free trial: 2 days left": TRIAL_BANNER_PAGES,
    },
    "gail": {
        "gail@example.com": {ACCOUNT},
        "Your last payment didn't go through.": {*READING_PAGES, ACCOUNT},
        "Update your card": {*READING_PAGES, ACCOUNT},
    },
    "stella": {
        "stella@example.com": {ACCOUNT},
        "Staff: you can read everything.": {ACCOUNT},
        "Preview: this article is draft": {DRAFT},
    },
}


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def cast(readers, make_member, make_article, articles, plans):
    """Every signed-in reader of the test by name, each with their own client."""
    assert readers["grace"].membership.payment_failed_at == NOW - timedelta(days=1)  # made frozen
    trudy = make_member("trudy@example.com")
    trial_set(user_id=trudy.pk, started_at=NOW - timedelta(days=5), ends_at=NOW + timedelta(days=2))
    make_article("draft-article", status=Status.DRAFT)
    members = {
        "tina": readers["in_trial"],
        "trudy": trudy,
        "gail": readers["grace"],
        "stella": readers["staff"],
    }
    clients = {}
    for name, member in members.items():
        clients[name] = Client()
        clients[name].force_login(member)
    return clients


def page(client, url) -> tuple[int, str]:
    response = client.get(url)
    return response.status_code, unescape(response.content.decode())


def test_each_signed_in_reader_sees_only_their_own_on_every_page_whoever_warmed_it(cast, caplog):
    names = list(cast)
    urls = [*READING_PAGES, ACCOUNT, DRAFT]
    with caplog.at_level(logging.WARNING, logger="articles.templatetags.fragments"):
        for _ in range(2):  # the second round reads what the first one kept
            for number, url in enumerate(urls):
                first = number % len(names)  # each reader is the first to warm some pages
                for name in names[first:] + names[:first]:
                    status, html = page(cast[name], url)

                    if url == DRAFT and name != "stella":
                        assert status == 404
                        continue
                    assert status == 200, (name, url)
                    for marker, where in OWN[name].items():
                        assert (marker in html) == (url in where), (name, url, marker)
                    for other in names:
                        if other != name:
                            for marker in OWN[other]:
                                assert marker not in html, (name, url, marker)
                    assert "Your account" in html and "Log out" in html
                    assert "Start free trial" not in html and "Sign in</a>" not in html
                    if url in (PREMIUM, MEMBERS, PUBLIC, DRAFT):
                        assert 'class="paywall"' not in html, (name, url)
    assert "read the database" not in caplog.text  # every fragment on these pages was kept

    for name in names:
        status, html = page(cast[name], PREMIUM)
        assert SECRET_SENTENCES[Visibility.PREMIUM] in html, name


def test_an_anonymous_reader_after_them_gets_only_the_teaser_and_none_of_theirs(cast):
    for name, client in cast.items():
        for url in [*READING_PAGES, ACCOUNT]:
            assert client.get(url).status_code == 200, (name, url)

    for url in READING_PAGES:
        for _ in range(2):  # rendered, then from the anonymous page cache
            status, html = page(Client(), url)

            assert status == 200, url
            for markers in OWN.values():
                for marker in markers:
                    assert marker not in html, (url, marker)
            assert SECRET_SENTENCES[Visibility.PREMIUM] not in html, url
            assert SECRET_SENTENCES[Visibility.MEMBERS] not in html, url
            assert "Your account" not in html and "Log out" not in html
            assert "Start free trial" in html
            if url in (PREMIUM, MEMBERS):
                assert 'class="paywall"' in html
                assert "Preview:" not in html
    assert Client().get(ACCOUNT).status_code == 302  # to sign in
    assert Client().get(DRAFT).status_code == 404
