"""A crawler's user agent, a search engine's referer or a forged client address changes
nothing: the page is byte for byte the anonymous reader's (no "first click free")."""

import re

import pytest

from articles.models import Visibility
from tests.conftest import SECRET_SENTENCES

CRAWLER_HEADERS = {
    "Googlebot": {
        "HTTP_USER_AGENT": "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
    },
    "Bingbot": {
        "HTTP_USER_AGENT": "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)"
    },
    "Google referer": {"HTTP_REFERER": "https://www.google.com/search?q=copper+kettle"},
    "forged Googlebot address": {
        "HTTP_X_FORWARDED_FOR": "66.249.66.1",
        "HTTP_X_REAL_IP": "66.249.66.1",
    },
    "all at once": {
        "HTTP_USER_AGENT": "Googlebot/2.1 (+http://www.google.com/bot.html)",
        "HTTP_REFERER": "https://news.google.com/",
        "HTTP_X_FORWARDED_FOR": "66.249.66.1",
        "HTTP_FROM": "googlebot(at)googlebot.com",
    },
}


def normalised(response) -> bytes:
    """The body with only the per-request values (CSP nonce, CSRF token) blanked."""
    body = re.sub(rb'nonce="[^"]*"', b'nonce=""', response.content)
    return re.sub(
        rb'name="csrfmiddlewaretoken" value="[^"]*"', b'name="csrfmiddlewaretoken" value=""', body
    )


@pytest.mark.parametrize("who", CRAWLER_HEADERS)
@pytest.mark.parametrize(
    "url", [f"/articles/{v}-article/" for v in Visibility] + ["/", "/search/?q=kettle", "/feed/"]
)
def test_a_crawler_gets_exactly_the_anonymous_response(client, articles, plans, who, url):
    anonymous = client.get(url)
    crawler = client.get(url, **CRAWLER_HEADERS[who])

    assert crawler.status_code == anonymous.status_code == 200
    assert normalised(crawler) == normalised(anonymous)
    assert SECRET_SENTENCES[Visibility.PREMIUM] not in crawler.content.decode()
