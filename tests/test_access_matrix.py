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
from tests.conftest import SECRET_SENTENCES

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
}


def may_read(reader_name: str, visibility: str) -> bool:
    return visibility in READS[reader_name]


def test_the_matrix_names_every_reader_in_the_cast(readers):
    assert set(READS) == set(readers)


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
