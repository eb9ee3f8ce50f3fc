"""Caching that cannot leak: what one reader warmed is never what another reader gets.

Every test here runs with the locmem cache and, in CI, with a real Redis (conftest.py).
"""

from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.models import AnonymousUser
from django.http import HttpResponse
from django.test import Client
from django.utils import timezone

from articles import caching
from articles.models import Article, SiteSettings, Status, Topic, Visibility
from billing.models import Interval, Plan, Subscription, SubscriptionStatus
from billing.services import membership_sync
from tests.conftest import SECRET_SENTENCES

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
