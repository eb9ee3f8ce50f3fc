"""The meter's reads (accounts.services.meter_read_record, meter_reads_prune): one read per
article per month, never more than METERED_FREE_ARTICLES, under concurrency too. What a
reader sees is in tests/articles/test_meter_pages.py."""

import threading
import time
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.db import connection, transaction
from django.test import Client

from accounts.models import MeterRead
from accounts.services import meter_read_record, meter_reads_prune
from accounts.tasks import meter_reads_prune_task
from articles.models import Visibility
from tests.conftest import METER_N, SECRET_SENTENCES

NOW = datetime(2026, 12, 10, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def meter_on(settings):
    settings.METERED_FREE_ARTICLES = METER_N


def test_each_first_read_takes_the_next_slot_and_a_re_read_takes_none(make_member):
    member = make_member("fran@example.com")

    used = [meter_read_record(user_id=member.pk, article_id=pk, now=NOW) for pk in (1, 2, 1)]

    assert used == [1, 2, 2]
    assert sorted(MeterRead.objects.values_list("article_id", "slot")) == [(1, 1), (2, 2)]


def test_the_n_plus_first_distinct_article_is_refused_and_recorded_nowhere(make_member):
    member = make_member("fran@example.com")
    for pk in range(1, METER_N + 1):
        meter_read_record(user_id=member.pk, article_id=pk, now=NOW)

    assert meter_read_record(user_id=member.pk, article_id=99, now=NOW) is None
    assert meter_read_record(user_id=member.pk, article_id=1, now=NOW) == METER_N  # a re-read
    assert MeterRead.objects.filter(user=member).count() == METER_N


def test_a_new_month_renews_the_allowance(make_member):
    member = make_member("fran@example.com")
    for pk in range(1, METER_N + 1):
        meter_read_record(user_id=member.pk, article_id=pk, now=NOW)

    next_month = datetime(2027, 1, 1, 0, 0, tzinfo=UTC)
    assert meter_read_record(user_id=member.pk, article_id=99, now=next_month) == 1
    assert meter_read_record(user_id=member.pk, article_id=1, now=next_month) == 2


def test_members_have_allowances_of_their_own(make_member):
    first, second = make_member("fran@example.com"), make_member("fay@example.com")
    for pk in range(1, METER_N + 1):
        meter_read_record(user_id=first.pk, article_id=pk, now=NOW)

    assert meter_read_record(user_id=second.pk, article_id=1, now=NOW) == 1


def test_pruning_keeps_this_month_and_the_previous_one(make_member, eager_tasks):
    member = make_member("fran@example.com")
    for when, pk in [(NOW - timedelta(days=70), 1), (NOW - timedelta(days=35), 2), (NOW, 3)]:
        meter_read_record(user_id=member.pk, article_id=pk, now=when)

    assert meter_reads_prune(now=NOW) == 1
    assert sorted(MeterRead.objects.values_list("month", flat=True)) == [
        date(2026, 11, 1),
        date(2026, 12, 1),
    ]
    with time_machine.travel(NOW + timedelta(days=31), tick=False):
        assert meter_reads_prune_task.delay().get() == 1
    assert list(MeterRead.objects.values_list("month", flat=True)) == [date(2026, 12, 1)]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's query plan")
def test_the_months_reads_are_found_through_the_members_index(make_member):
    member = make_member("fran@example.com")
    meter_read_record(user_id=member.pk, article_id=1, now=NOW)
    reads = MeterRead.objects.filter(user=member, month=date(2026, 12, 1))

    plan = reads.values("article_id").explain()

    # either unique constraint's index leads with (user, month): the rows of that member only
    assert "meterread_once_a_month" in plan or "meterread_one_per_slot" in plan
    assert f"(user_id = {member.pk}) AND (month = '2026-12-01'::date)" in plan


# ---- concurrency: real requests at once, on PostgreSQL -----------------------------------


def _open_at_once(readers_clients_urls):
    """GET each (client, url) in its own thread, all released together; returns the HTML."""
    ready = threading.Barrier(len(readers_clients_urls))
    pages = {}

    def read(index, client, url):
        try:
            ready.wait()
            pages[index] = client.get(url).content.decode()
        finally:
            connection.close()

    threads = [
        threading.Thread(target=read, args=(i, client, url))
        for i, (client, url) in enumerate(readers_clients_urls)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return [pages.get(i, "") for i in range(len(threads))]


needs_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs PostgreSQL's concurrent transactions"
)


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_first_reads_of_n_plus_one_articles_at_once_grant_exactly_n(make_member, make_article):
    member = make_member("fran@example.com")
    urls = []
    for i in range(METER_N + 1):
        urls.append(make_article(f"premium-{i}").get_absolute_url())
    clients = []
    for _ in urls:  # a tab each, signed in as the same member
        client = Client()
        client.force_login(member)
        clients.append(client)

    pages = _open_at_once(list(zip(clients, urls, strict=True)))

    full = [html for html in pages if SECRET_SENTENCES[Visibility.PREMIUM] in html]
    assert len(full) == METER_N
    assert MeterRead.objects.filter(user=member).count() == METER_N
    assert sorted(MeterRead.objects.values_list("slot", flat=True)) == list(range(1, METER_N + 1))
    refused = [html for html in pages if html not in full]
    assert len(refused) == 1 and "You have read this month&#x27;s free articles" in refused[0]


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_one_article_opened_in_two_tabs_at_once_spends_one_read(make_member, make_article):
    member = make_member("fran@example.com")
    url = make_article("premium-one").get_absolute_url()
    clients = [Client(), Client()]
    for client in clients:
        client.force_login(member)

    pages = _open_at_once([(client, url) for client in clients])

    assert all(SECRET_SENTENCES[Visibility.PREMIUM] in html for html in pages)
    assert MeterRead.objects.filter(user=member).count() == 1


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_read_that_lost_its_slot_to_another_takes_the_next_one_or_is_refused(make_member):
    """Deterministically, the race the tests above leave to timing: A's read holds slot 2,
    uncommitted, while B's read of another article computes slot 2 as well."""
    member = make_member("fran@example.com")
    meter_read_record(user_id=member.pk, article_id=1, now=NOW)  # slot 1
    a_holds_slot, a_may_commit = threading.Event(), threading.Event()
    results = {}

    def tab_a():
        try:
            with transaction.atomic():
                results["a"] = meter_read_record(user_id=member.pk, article_id=2, now=NOW)
                a_holds_slot.set()
                a_may_commit.wait(timeout=30)
        finally:
            connection.close()

    def tab_b():
        try:
            a_holds_slot.wait(timeout=30)
            results["b"] = meter_read_record(user_id=member.pk, article_id=3, now=NOW)
            results["c"] = meter_read_record(user_id=member.pk, article_id=4, now=NOW)
        finally:
            connection.close()

    threads = [threading.Thread(target=tab_a), threading.Thread(target=tab_b)]
    for thread in threads:
        thread.start()
    a_holds_slot.wait(timeout=30)
    _wait_until_a_query_waits_for_a_lock()  # B, on A's uncommitted slot 2
    a_may_commit.set()
    for thread in threads:
        thread.join(timeout=60)

    assert results == {"a": 2, "b": 3, "c": None}
    assert sorted(MeterRead.objects.values_list("article_id", "slot")) == [(1, 1), (2, 2), (3, 3)]


def _wait_until_a_query_waits_for_a_lock():
    with connection.cursor() as cursor:
        for _ in range(300):
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                " AND datname = current_database()"
            )
            if cursor.fetchone()[0]:
                return
            time.sleep(0.01)
    raise AssertionError("the other tab never waited for the slot")
