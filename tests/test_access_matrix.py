"""Who reads what: every kind of reader in the cast against every visibility, judged on the raw HTML.

READS is the one statement of what each reader may read, written by hand from the product's
rules rather than asked of accounts/entitlements.py, so a policy that said yes (or no) to
everyone would fail here. Other tests that need "may this reader read it" (the meta tags,
search snippets, the ad slot) look it up here too. The moments when access changes (a
trial's end, a grace period's end, a cancelled period's end, a grant's end) are tested in
the units they exercise.
"""

import pytest

from articles.models import Visibility
from tests.conftest import METER_N, SECRET_SENTENCES

EVERYTHING = {Visibility.PUBLIC, Visibility.MEMBERS, Visibility.PREMIUM}
# reader (a name in the cast, tests/conftest.py's `readers`) -> the visibilities they read in full
READS = {
    "anonymous": {Visibility.PUBLIC},
    "unverified": {Visibility.PUBLIC},  # signed in, but verifies their address first
    "in_trial": EVERYTHING,
    "trial_over": {Visibility.PUBLIC, Visibility.MEMBERS},
    "subscriber": EVERYTHING,
    "grace": EVERYTHING,  # a payment failed yesterday: reads on through the grace period
    "cancelled": {Visibility.PUBLIC, Visibility.MEMBERS},  # still a member, no longer paying
    "complimentary": EVERYTHING,
    "staff": EVERYTHING,
    # verified, no trial, no subscription: the meter is off here (its default)
    "free": {Visibility.PUBLIC, Visibility.MEMBERS},
    "free_almost": {Visibility.PUBLIC, Visibility.MEMBERS},
    "free_used_up": {Visibility.PUBLIC, Visibility.MEMBERS},
}
# The same readers with the meter on (METERED_FREE_ARTICLES = METER_N), each opening the
# cast's premium article for the first time this month: every free member with a read left
# (a lapsed subscriber too) spends it; the one who used them all gets the teaser.
READS_METERED = {
    **READS,
    "trial_over": EVERYTHING,
    "cancelled": EVERYTHING,
    "free": EVERYTHING,
    "free_almost": EVERYTHING,
    "free_used_up": {Visibility.PUBLIC, Visibility.MEMBERS},
}


def may_read(reader_name: str, visibility: str) -> bool:
    return visibility in READS[reader_name]


def test_the_matrix_names_every_reader_in_the_cast(readers):
    assert set(READS) == set(readers) == set(READS_METERED)


@pytest.mark.parametrize("reader_name", READS)
@pytest.mark.parametrize("visibility", list(Visibility))
def test_each_reader_gets_the_body_only_where_allowed(
    client, readers, articles, plans, reader_name, visibility
):
    reader = readers[reader_name]
    if reader is not None:
        client.force_login(reader)

    response = client.get(f"/articles/{visibility}-article/")

    assert response.status_code == 200
    html = response.content.decode()
    assert f"The opening of {visibility}-article" in html
    if may_read(reader_name, visibility):
        assert SECRET_SENTENCES[visibility] in html
        assert 'class="paywall"' not in html
    else:
        assert SECRET_SENTENCES[visibility] not in html
        assert f"The body of {visibility}-article" not in html
        assert 'class="paywall"' in html


@pytest.mark.parametrize("reader_name", READS_METERED)
@pytest.mark.parametrize("visibility", list(Visibility))
def test_with_the_meter_on_each_reader_gets_the_body_only_where_allowed(
    client, settings, readers, articles, plans, reader_name, visibility
):
    settings.METERED_FREE_ARTICLES = METER_N
    reader = readers[reader_name]
    if reader is not None:
        client.force_login(reader)

    html = client.get(f"/articles/{visibility}-article/").content.decode()

    if visibility in READS_METERED[reader_name]:
        assert SECRET_SENTENCES[visibility] in html
        assert 'class="paywall"' not in html
    else:
        assert SECRET_SENTENCES[visibility] not in html
        assert f"The body of {visibility}-article" not in html
        assert 'class="paywall"' in html
