"""The meter as readers meet it (METERED_FREE_ARTICLES): the banner, the paywall when the
month's reads are used, the registration wall for anonymous readers, caching, the query
budget, and the surfaces that must never spend a read (search, mail). Who reads what with
the meter on is the access matrix's (tests/test_access_matrix.py, READS_METERED); the
reads themselves are tests/accounts/test_meter.py's."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail as outbox
from django.db import connection
from django.test import Client
from django.utils import timezone

from accounts.entitlements import Meter
from accounts.models import MeterRead, Newsletter, NewsletterSubscription
from articles import newsletter
from articles.models import Visibility
from tests.articles.conftest import warm_site_wide_lookups
from tests.articles.test_article_detail import ARTICLE_PAGE_BUDGET
from tests.conftest import METER_N, SECRET_SENTENCES

PREMIUM = SECRET_SENTENCES[Visibility.PREMIUM]
URL = "/articles/premium-article/"


@pytest.fixture(autouse=True)
def meter_on(settings):
    settings.METERED_FREE_ARTICLES = METER_N


def page(reader, url=URL) -> str:
    client = Client()
    client.force_login(reader)
    return client.get(url).content.decode()


def reads(reader) -> int:
    return MeterRead.objects.filter(user=reader).count()


# ---- the banner -----------------------------------------------------------------------


def test_a_first_read_spends_one_and_the_banner_counts_what_is_left(readers, articles, plans):
    html = page(readers["free"])

    assert PREMIUM in html
    assert "2 of 3 free articles left this month." in html
    assert reads(readers["free"]) == 1


def test_re_reading_the_article_that_month_is_full_and_free(readers, articles, plans):
    page(readers["free"])

    html = page(readers["free"])

    assert PREMIUM in html
    assert "2 of 3 free articles left this month." in html
    assert reads(readers["free"]) == 1


def test_the_last_free_read_offers_a_plan(readers, articles, plans):
    html = page(readers["free_almost"])

    assert PREMIUM in html
    assert "This is your last free article this month." in html
    assert 'href="/pricing/?next=/articles/premium-article/">See plans</a>' in html
    assert reads(readers["free_almost"]) == METER_N


def test_the_n_plus_first_distinct_article_is_a_teaser_saying_when_reads_renew(
    readers, articles, plans
):
    html = page(readers["free_used_up"])
    renews = (timezone.localdate().replace(day=1) + timedelta(days=32)).replace(day=1)

    assert PREMIUM not in html and "The body of premium-article" not in html
    assert 'class="paywall"' in html
    assert "You have read this month&#x27;s free articles. Subscribe to keep reading." in html
    assert f"Your 3 free articles renew on {renews:%-d %B}." in html
    assert reads(readers["free_used_up"]) == METER_N


def test_a_new_month_renews_the_allowance(make_member, make_article, plans):
    december, january = (
        datetime(2026, 12, 31, 23, 0, tzinfo=UTC),
        datetime(2027, 1, 1, 0, 1, tzinfo=UTC),
    )
    with time_machine.travel(december, tick=False):
        member = make_member("fran@example.com")
        for i in range(METER_N + 1):
            make_article(f"premium-{i}", publish_at=datetime(2026, 12, 1, tzinfo=UTC))
        in_december = [page(member, f"/articles/premium-{i}/") for i in range(METER_N + 1)]
    with time_machine.travel(january, tick=False):
        in_january = page(member, f"/articles/premium-{METER_N}/")

    assert [PREMIUM in html for html in in_december] == [True] * METER_N + [False]
    assert PREMIUM in in_january
    assert "2 of 3 free articles left this month." in in_january


def test_an_exempt_article_spends_nothing_and_a_hard_paywalled_one_is_never_metered(
    readers, make_article, plans
):
    make_article("exempt", meter=Meter.EXEMPT)
    make_article("hard", meter=Meter.HARD)

    exempt, hard = (
        page(readers["free_used_up"], "/articles/exempt/"),
        page(readers["free"], "/articles/hard/"),
    )

    assert PREMIUM in exempt and "free articles left" not in exempt
    assert PREMIUM not in hard and 'class="paywall"' in hard
    assert "Subscribe to read this article." in hard
    assert reads(readers["free"]) == 0 and reads(readers["free_used_up"]) == METER_N


def test_paying_and_trial_readers_see_no_meter_and_spend_nothing(readers, articles, plans):
    for name in ["in_trial", "subscriber", "grace", "complimentary", "staff"]:
        html = page(readers[name])
        assert PREMIUM in html and "free articles left" not in html, name
        assert reads(readers[name]) == 0, name


def test_with_the_meter_off_free_members_get_the_teaser_and_spend_nothing(
    settings, readers, articles, plans
):
    settings.METERED_FREE_ARTICLES = 0

    html = page(readers["free"])

    assert PREMIUM not in html and "free article" not in html
    assert reads(readers["free"]) == 0


# ---- anonymous readers: the registration wall, shared and cacheable ---------------------


def test_anonymous_readers_are_asked_to_create_a_free_account_beside_the_trial(articles, plans):
    html = Client().get(URL).content.decode()

    assert "Create a free account to read 3 premium articles a month." in html
    assert "Start your free trial" in html
    assert PREMIUM not in html


def test_a_hard_paywalled_article_makes_no_registration_offer(make_article, plans):
    make_article("hard", meter=Meter.HARD)

    assert "Create a free account" not in Client().get("/articles/hard/").content.decode()


@pytest.mark.usefixtures("production_caching")
def test_two_anonymous_visitors_get_the_same_bytes_which_a_cdn_may_keep(articles, plans):
    first = Client(HTTP_USER_AGENT="Mozilla/5.0", REMOTE_ADDR="198.51.100.1").get(URL)
    second = Client(HTTP_USER_AGENT="curl/8", REMOTE_ADDR="203.0.113.9").get(URL)

    assert first.content == second.content
    for response in (first, second):
        directives = {d.strip() for d in response["Cache-Control"].split(",")}
        assert directives == {"public", "max-age=60", "s-maxage=60"}
        assert not response.cookies


@pytest.mark.usefixtures("production_caching")
def test_a_metered_members_page_is_private_and_never_served_to_anyone_else(
    readers, articles, plans
):
    member = Client()
    member.force_login(readers["free"])
    response = member.get(URL)
    anonymous = Client().get(URL).content.decode()

    directives = {d.strip() for d in response["Cache-Control"].split(",")}
    assert {"private", "no-cache"} <= directives and "public" not in directives
    assert PREMIUM in response.content.decode()
    assert PREMIUM not in anonymous and "free articles left" not in anonymous


# ---- what it costs --------------------------------------------------------------------


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="the month's reads come in the member's own query on PostgreSQL (a second one elsewhere)",
)
@pytest.mark.usefixtures("production_caching")
@pytest.mark.parametrize("reader_name", ["free", "free_almost", "free_used_up"])
def test_a_metered_members_article_page_stays_within_the_budget(
    client, readers, articles, plans, reader_name, django_assert_max_num_queries
):
    # The article as others left it in the cache (with what to read next, a query of its own
    # when cold): the budget is what this member's visit adds.
    assert Client().get(URL).status_code == 200
    client.force_login(readers[reader_name])
    warm_site_wide_lookups(client)

    with django_assert_max_num_queries(ARTICLE_PAGE_BUDGET):
        first = client.get(URL)  # the read recorded: one INSERT
    with django_assert_max_num_queries(ARTICLE_PAGE_BUDGET):
        again = client.get(URL)  # a re-read (or the teaser again)

    assert first.status_code == again.status_code == 200
    assert (PREMIUM in again.content.decode()) == (reader_name != "free_used_up")


# ---- surfaces that never spend a read ---------------------------------------------------


def test_search_shows_a_metered_member_public_snippets_and_spends_nothing(readers, articles):
    html = page(readers["free"], "/search/?q=kettle")

    assert "Premium Article" in html
    assert "copper kettle" not in html
    assert reads(readers["free"]) == 0


def test_search_shows_the_body_of_an_article_read_this_month(readers, articles, plans):
    page(readers["free"])

    html = page(readers["free"], "/search/?q=kettle").replace("<mark>", "").replace("</mark>", "")

    assert "copper kettle" in html
    assert reads(readers["free"]) == 1


def test_the_newsletter_mails_metered_members_the_teaser_and_spends_nothing(
    readers, articles, django_capture_on_commit_callbacks, eager_tasks
):
    weekly = Newsletter.objects.create(name="The Weekly Guide", slug="weekly")
    for name in ["free", "free_almost", "subscriber"]:
        NewsletterSubscription.objects.create(user=readers[name], newsletter=weekly)

    with django_capture_on_commit_callbacks(execute=True):
        newsletter.send_create(article=articles[Visibility.PREMIUM], newsletter=weekly)

    bodies = {
        message.to[0]: message.body + "".join(alt[0] for alt in message.alternatives)
        for message in outbox.outbox
    }
    assert PREMIUM in bodies["sue@example.com"]
    assert PREMIUM not in bodies["fran@example.com"]
    assert PREMIUM not in bodies["fay@example.com"]
    assert MeterRead.objects.filter(user=readers["free"]).count() == 0


def test_search_engines_still_get_the_anonymous_teaser_whatever_they_claim(articles, plans):
    anonymous = Client().get(URL).content
    crawler = Client(
        HTTP_USER_AGENT="Googlebot/2.1 (+http://www.google.com/bot.html)",
        HTTP_REFERER="https://www.google.com/",
        HTTP_X_FORWARDED_FOR="66.249.66.1",
    ).get(URL)

    assert crawler.content == anonymous
    assert PREMIUM not in crawler.content.decode()
    assert '"isAccessibleForFree": false' in crawler.content.decode()
    assert not MeterRead.objects.filter(article_id=articles[Visibility.PREMIUM].pk).exists()


def test_a_head_request_spends_no_read(client, readers, articles):
    client.force_login(readers["free"])

    assert client.head(URL).status_code == 200
    assert reads(readers["free"]) == 0
    assert PREMIUM in client.get(URL).content.decode()
    assert reads(readers["free"]) == 1
