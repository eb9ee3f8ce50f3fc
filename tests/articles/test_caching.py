"""Caching that cannot leak (articles/caching.py, articles/http_cache.py): what one reader warmed
is never what another reader gets, edits and the clock take effect on the next request, and a
crawler gets byte for byte the anonymous page.

Every test here runs with the locmem cache and with a real Redis (`production_caching`).
"""

import logging
import re
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest
import time_machine
from django.contrib.auth.models import AnonymousUser
from django.http import HttpResponse
from django.test import Client
from django.utils import timezone

from accounts.services import trial_set
from articles import caching
from articles.models import Article, SiteSettings, Status, Topic, Visibility
from billing.models import Interval, Plan, Subscription, SubscriptionStatus
from billing.services import membership_sync
from tests.articles.conftest import count_queries, warm_site_wide_lookups
from tests.conftest import SECRET_SENTENCES

pytestmark = pytest.mark.usefixtures("production_caching")

PREMIUM = "/articles/premium-article/"
PAGES = [PREMIUM, "/", "/topics/leadership/", "/people/ada-byline/"]
PREMIUM_SECRET = SECRET_SENTENCES[Visibility.PREMIUM]


def signed_in(member) -> Client:
    client = Client()
    client.force_login(member)
    return client


def assert_teaser(response):
    html = response.content.decode()
    assert response.status_code == 200
    assert "The opening of premium-article" in html
    assert PREMIUM_SECRET not in html
    assert "The body of premium-article" not in html
    assert 'class="paywall"' in html


def assert_full(response):
    html = response.content.decode()
    assert response.status_code == 200
    assert PREMIUM_SECRET in html
    assert 'class="paywall"' not in html


# ---- one reader's warm caches, another reader's page ------------------------------------


@pytest.mark.parametrize("warmer", ["subscriber", "in_trial", "staff"])
def test_caches_warmed_by_a_paying_reader_give_an_anonymous_reader_the_teaser(
    readers, articles, plans, warmer
):
    reader = signed_in(readers[warmer])
    for url in PAGES:
        assert reader.get(url).status_code == 200
    assert_full(reader.get(PREMIUM))

    anonymous = Client()
    assert_teaser(anonymous.get(PREMIUM))
    assert_teaser(anonymous.get(PREMIUM))  # the second, from the anonymous page cache
    assert_teaser(Client().get(PREMIUM))


def test_caches_warmed_by_an_anonymous_reader_give_a_subscriber_the_full_article(
    readers, articles, plans
):
    subscriber = readers["subscriber"]
    anonymous = Client()
    for url in PAGES:
        assert anonymous.get(url).status_code == 200
    assert_teaser(anonymous.get(PREMIUM))

    assert_full(signed_in(subscriber).get(PREMIUM))
    assert_full(signed_in(readers["in_trial"]).get(PREMIUM))
    assert_teaser(signed_in(readers["trial_over"]).get(PREMIUM))


def test_a_lapsed_member_warmed_after_a_subscriber_still_gets_the_teaser(readers, articles, plans):
    subscriber = readers["subscriber"]
    assert_full(signed_in(subscriber).get(PREMIUM))

    response = signed_in(readers["trial_over"]).get(PREMIUM)

    assert_teaser(response)
    assert "Your free trial has ended" in response.content.decode()


def test_the_ad_slot_shows_only_to_readers_without_premium_whoever_warmed_the_article(
    readers, articles, plans
):
    settings_row = SiteSettings.load()
    settings_row.ad_snippet = "<p>Buy the Widget Quarterly</p>"
    settings_row.save()
    public = "/articles/public-article/"
    member, payer = signed_in(readers["trial_over"]), signed_in(readers["subscriber"])

    for first, second in [(member, payer), (payer, member)]:
        caching.clear_local()
        first.get(public)
        second.get(public)
        assert "Buy the Widget Quarterly" in member.get(public).content.decode()
        assert "Buy the Widget Quarterly" not in payer.get(public).content.decode()
    assert "The body of public-article" in member.get(public).content.decode()


def test_the_site_header_kept_for_signed_in_readers_never_reaches_a_signed_out_one(
    readers, articles, plans
):
    member = signed_in(readers["in_trial"])
    member_html = member.get("/topics/leadership/").content.decode()
    assert "Your account" in member_html and "Log out" in member_html

    visitor_html = Client().get("/topics/leadership/").content.decode()

    assert "Your account" not in visitor_html and "Log out" not in visitor_html
    assert "Start free trial" in visitor_html
    assert 'href="/topics/leadership/" aria-current="page"' in visitor_html
    assert "Start free trial" not in member.get(PREMIUM).content.decode()


# ---- the anonymous page cache and the CDN's headers ------------------------------------


@pytest.mark.parametrize("url", PAGES)
def test_anonymous_pages_set_no_cookie_and_may_be_kept_by_a_cdn_for_a_minute(articles, plans, url):
    for _ in range(2):  # rendered, then (for the article) served from the page cache
        response = Client().get(url)

        assert response.status_code == 200
        assert not response.cookies
        assert "Set-Cookie" not in str(response.serialize_headers())
        directives = {d.strip() for d in response["Cache-Control"].split(",")}
        assert directives == {"public", "max-age=60", "s-maxage=60"}
        assert "Cookie" in response["Vary"]


@pytest.mark.parametrize("url", PAGES)
@pytest.mark.parametrize("reader_name", ["in_trial", "trial_over", "staff"])
def test_a_signed_in_readers_pages_are_private(readers, articles, plans, url, reader_name):
    response = signed_in(readers[reader_name]).get(url)

    assert response.status_code == 200
    directives = {d.strip() for d in response["Cache-Control"].split(",")}
    assert {"private", "no-cache"} <= directives
    assert "public" not in directives
    assert "Cookie" in response["Vary"]


def test_a_page_cache_hit_answers_with_the_views_own_status_headers_and_content(rf):
    renders = []

    @caching.shared_for_anonymous
    def view(request):
        renders.append(request)
        return HttpResponse(
            "<feed/>",
            content_type="application/atom+xml; charset=utf-8",
            headers={"Content-Language": "en-GB", "X-Robots-Tag": "noarchive"},
        )

    def anonymous_get():
        request = rf.get("/any-page/")
        request.user = AnonymousUser()
        return view(request)

    rendered, stored = anonymous_get(), anonymous_get()

    assert len(renders) == 1  # the second came from the page cache
    assert stored.status_code == rendered.status_code == 200
    assert stored.content == rendered.content == b"<feed/>"
    assert dict(stored.items()) == dict(rendered.items())
    assert stored["Content-Type"] == "application/atom+xml; charset=utf-8"
    assert stored["X-Robots-Tag"] == "noarchive"


def test_a_response_that_sets_a_cookie_is_never_stored_for_other_readers(rf):
    renders = []

    @caching.shared_for_anonymous
    def view(request):
        renders.append(request)
        response = HttpResponse(f"render {len(renders)}")
        response.set_cookie("seen", "yes")
        return response

    for _ in range(2):
        request = rf.get("/any-page/")
        request.user = AnonymousUser()
        response = view(request)

    assert len(renders) == 2 and response.content == b"render 2"
    assert response.cookies["seen"].value == "yes"


@pytest.mark.parametrize("url", PAGES)
def test_an_anonymous_page_from_the_page_cache_has_the_headers_of_a_fresh_render(
    articles, plans, url
):
    rendered = Client().get(url)
    stored = Client().get(url)

    assert stored.content == rendered.content
    assert dict(stored.headers) == dict(rendered.headers)


def test_an_anonymous_reader_with_a_session_is_neither_shared_nor_served_a_shared_page(
    articles, plans
):
    Client().get(PREMIUM)  # the shared anonymous copy now exists
    with_session = Client()
    session = with_session.session
    session["signup_next"] = "/articles/premium-article/"
    session.save()

    response = with_session.get(PREMIUM)

    assert_teaser(response)
    assert "private" in response["Cache-Control"]


def test_a_reader_with_a_message_waiting_is_not_served_a_shared_page(articles, plans):
    Client().get(PREMIUM)
    reader = Client()
    reader.cookies["messages"] = "anything"

    response = reader.get(PREMIUM)

    assert "private" in response["Cache-Control"]


@pytest.mark.parametrize(
    "url", ["/", "/topics/leadership/", "/people/ada-byline/", "/articles/premium-article/"]
)
def test_an_anonymous_readers_repeat_visit_makes_no_query(client, articles, plans, url):
    warm_site_wide_lookups(client)  # the first ever request also creates the site settings row
    client.get(url)

    assert count_queries(client, url) == 0


def test_a_subscribers_repeat_visit_costs_one_query_for_the_member_and_their_access(
    client, readers, articles, plans, django_assert_num_queries
):
    client.force_login(readers["subscriber"])
    warm_site_wide_lookups(client)
    assert (
        client.get("/articles/premium-article/").status_code == 200
    )  # the article and its HTML cached

    with django_assert_num_queries(1):  # the session comes from the cache (cached_db)
        response = client.get("/articles/premium-article/")

    assert SECRET_SENTENCES[Visibility.PREMIUM] in response.content.decode()


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


# ---- the clock and edits take effect on the next request -------------------------------


def test_the_trial_ending_takes_effect_on_the_very_next_request(readers, articles, plans):
    member = readers["in_trial"]
    reader = signed_in(member)
    assert_full(reader.get(PREMIUM))
    Client().get(PREMIUM)  # the anonymous copy is warm too

    with time_machine.travel(member.membership.trial_ends_at + timedelta(seconds=1)):
        response = reader.get(PREMIUM)

    assert_teaser(response)
    assert "Your free trial has ended" in response.content.decode()


def test_a_cancelled_subscription_ends_access_on_the_first_request_after_its_period(
    readers, articles, plans
):
    subscriber = readers["subscriber"]
    subscription = subscriber.subscriptions.get()
    Subscription.objects.filter(pk=subscription.pk).update(cancel_at_period_end=True)
    membership_sync(user_id=subscriber.pk)  # as billing's sync does after Stripe's event
    reader = signed_in(subscriber)
    assert_full(reader.get(PREMIUM))

    with time_machine.travel(subscription.current_period_end + timedelta(seconds=1)):
        assert_teaser(reader.get(PREMIUM))


def test_a_failed_payment_ends_access_on_the_first_request_after_the_grace_period(
    readers, articles, plans, settings
):
    subscriber = readers["subscriber"]
    subscription = subscriber.subscriptions.get()
    failed_at = timezone.now()
    Subscription.objects.filter(pk=subscription.pk).update(
        status=SubscriptionStatus.PAST_DUE, first_failed_payment_at=failed_at
    )
    membership_sync(user_id=subscriber.pk)
    reader = signed_in(subscriber)
    assert_full(reader.get(PREMIUM))  # within the grace period

    with time_machine.travel(failed_at + timedelta(days=settings.PAYMENT_GRACE_DAYS, seconds=1)):
        assert_teaser(reader.get(PREMIUM))


def test_an_edit_shows_on_the_next_request_for_every_reader(readers, articles, plans):
    subscriber = readers["subscriber"]
    article = articles[Visibility.PREMIUM]
    reader = signed_in(subscriber)
    assert_full(reader.get(PREMIUM))
    assert_teaser(Client().get(PREMIUM))

    article.intro = "A rewritten opening."
    article.body = "A rewritten body."
    article.save()

    assert "A rewritten opening." in Client().get(PREMIUM).content.decode()
    assert "A rewritten body." not in Client().get(PREMIUM).content.decode()
    html = reader.get(PREMIUM).content.decode()
    assert "A rewritten opening." in html and "A rewritten body." in html
    assert PREMIUM_SECRET not in html


def test_an_unpublished_article_is_gone_for_anonymous_readers_at_once(articles, plans):
    assert_teaser(Client().get(PREMIUM))

    # as the admin's "Unpublish" action does it: one UPDATE, no save() signal
    Article.objects.filter(slug="premium-article").update(
        status=Status.DRAFT, updated_at=timezone.now()
    )

    assert Client().get(PREMIUM).status_code == 404


def test_a_price_changed_in_bulk_shows_on_the_next_request_for_every_reader(
    readers, articles, plans
):
    lapsed = signed_in(readers["trial_over"])
    assert "From £12.00 per month" in lapsed.get(PREMIUM).content.decode()
    assert "From £12.00 per month" in Client().get(PREMIUM).content.decode()

    # as stripe_sync_plans writes to plans: one UPDATE, no save() signal
    Plan.objects.filter(interval=Interval.MONTH).update(amount=1500)

    assert "From £15.00 per month" in lapsed.get(PREMIUM).content.decode()
    assert "From £15.00 per month" in Client().get(PREMIUM).content.decode()


def test_a_topic_renamed_in_bulk_shows_in_the_menu_on_the_next_request(readers, articles, plans):
    member = signed_in(readers["in_trial"])
    assert ">Leadership</a>" in member.get(PREMIUM).content.decode()
    assert ">Leadership</a>" in Client().get("/").content.decode()

    Topic.objects.filter(slug="leadership").update(name="Leading people")

    for html in (member.get(PREMIUM).content.decode(), Client().get("/").content.decode()):
        assert ">Leading people</a>" in html and ">Leadership</a>" not in html


def test_an_authors_new_name_shows_in_the_full_article_on_the_next_request(
    readers, articles, plans
):
    subscriber = readers["subscriber"]
    reader = signed_in(subscriber)
    assert "Ada Byline" in reader.get(PREMIUM).content.decode()

    author = articles[Visibility.PREMIUM].author
    author.name = "Ada Newname"
    author.save()

    html = reader.get(PREMIUM).content.decode()
    assert "Ada Newname" in html and "Ada Byline" not in html
    assert_full(reader.get(PREMIUM))


# ---- every reading page, for readers whose pages must differ ---------------------------
#
# Two members in their trial with different days left, a member whose payment failed (in
# grace, with the card banner) and staff read every page in turn, twice, each one first on some
# page; each must see only their own name, days and banners, never another's. An anonymous
# reader after them gets only the teaser and none of it. Judged on the raw HTML, with the clock
# frozen.


NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


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


@pytest.fixture
def frozen_clock():
    """The clock stands still at NOW for the test and the fixtures that come after this one."""
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def signed_in_members(frozen_clock, readers, make_member, make_article, articles, plans):
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


def status_and_html(client, url) -> tuple[int, str]:
    response = client.get(url)
    return response.status_code, unescape(response.content.decode())


def test_each_signed_in_reader_sees_only_their_own_on_every_page_whoever_warmed_it(
    signed_in_members, caplog
):
    names = list(signed_in_members)
    urls = [*READING_PAGES, ACCOUNT, DRAFT]
    with caplog.at_level(logging.WARNING, logger="articles.templatetags.fragments"):
        for _ in range(2):  # the second round reads what the first one kept
            for number, url in enumerate(urls):
                first = number % len(names)  # each reader is the first to warm some pages
                for name in names[first:] + names[:first]:
                    status, html = status_and_html(signed_in_members[name], url)

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
        status, html = status_and_html(signed_in_members[name], PREMIUM)
        assert SECRET_SENTENCES[Visibility.PREMIUM] in html, name


def test_an_anonymous_reader_after_them_gets_only_the_teaser_and_none_of_theirs(signed_in_members):
    for name, client in signed_in_members.items():
        for url in [*READING_PAGES, ACCOUNT]:
            assert client.get(url).status_code == 200, (name, url)

    for url in READING_PAGES:
        for _ in range(2):  # rendered, then from the anonymous page cache
            status, html = status_and_html(Client(), url)

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
