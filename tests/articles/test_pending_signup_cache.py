"""A browser's unconfirmed sign-up (accounts/signup.py) shows on its article page, which is
therefore never shared; every other signed-out reader still gets the one public page."""

import pytest
from django.test import Client

from tests.accounts.steps import sign_up
from tests.articles.test_caching import normalised

pytestmark = pytest.mark.usefixtures("production_caching")

ARTICLE = "/articles/premium-article/"


def test_a_pending_sign_up_gets_a_private_page_and_other_visitors_the_shared_one(articles, plans):
    before = Client().get(ARTICLE)  # warms the shared copy
    signed_up = Client()
    sign_up(signed_up, "newcomer@example.com", next_url=ARTICLE)

    theirs = signed_up.get(ARTICLE)
    first, second = Client().get(ARTICLE), Client().get(ARTICLE)

    assert "Check your inbox" in theirs.content.decode()
    assert "public" not in theirs["Cache-Control"] and "private" in theirs["Cache-Control"]
    for visitor in (first, second):
        assert "public" in visitor["Cache-Control"] and "s-maxage=60" in visitor["Cache-Control"]
        assert not visitor.cookies
        assert "Check your inbox" not in visitor.content.decode()
    assert first.content == second.content == before.content
    assert normalised(first) == normalised(before)
