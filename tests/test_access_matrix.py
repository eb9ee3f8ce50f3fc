"""Who reads what: every kind of reader against every visibility, judged on the raw HTML."""

import pytest

from articles.models import Visibility
from tests.conftest import SECRET_SENTENCES

# reader -> the visibilities they read in full
MATRIX = {
    "anonymous": {Visibility.PUBLIC},
    "unverified": {Visibility.PUBLIC},
    "in_trial": {Visibility.PUBLIC, Visibility.MEMBERS, Visibility.PREMIUM},
    "trial_over": {Visibility.PUBLIC, Visibility.MEMBERS},
    "staff": {Visibility.PUBLIC, Visibility.MEMBERS, Visibility.PREMIUM},
}


@pytest.mark.parametrize("reader_name", MATRIX)
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
    if visibility in MATRIX[reader_name]:
        assert SECRET_SENTENCES[visibility] in html
        assert 'class="paywall"' not in html
    else:
        assert SECRET_SENTENCES[visibility] not in html
        assert f"The body of {visibility}-article" not in html
        assert 'class="paywall"' in html
