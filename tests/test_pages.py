"""The pages a reader sees: home, topic, author, article (with its paywall) and their account."""

from datetime import UTC, datetime
from html.parser import HTMLParser

from articles.models import Topic, Visibility
from billing.models import Plan
from tests.conftest import SECRET_SENTENCES

VOID_TAGS = {
    "area",
    "base",
    "br",
    "col",
    "embed",
    "hr",
    "img",
    "input",
    "link",
    "meta",
    "source",
    "track",
    "wbr",
}


class _ElementText(HTMLParser):
    def __init__(self, match):
        super().__init__()
        self.match, self.depth, self.parts, self.found = match, 0, [], False

    def handle_starttag(self, tag, attrs):
        if tag in VOID_TAGS:
            return
        if self.depth:
            self.depth += 1
        elif not self.found and self.match(tag, dict(attrs)):
            self.depth, self.found = 1, True

    def handle_endtag(self, tag):
        if self.depth and tag not in VOID_TAGS:
            self.depth -= 1

    def handle_data(self, data):
        if self.depth:
            self.parts.append(data)


def element_text(html: str, *, css_class: str | None = None, **attributes) -> str | None:
    """The text a reader sees inside the first element with that class (or attributes), or None.

    `aria_labelledby="featured-heading"` matches aria-labelledby; whitespace is collapsed.
    """
    wanted = {name.replace("_", "-"): value for name, value in attributes.items()}

    def match(tag, attrs):
        if css_class and css_class not in (attrs.get("class") or "").split():
            return False
        return all(attrs.get(name) == value for name, value in wanted.items())

    parser = _ElementText(match)
    parser.feed(html)
    return " ".join("".join(parser.parts).split()) if parser.found else None


def paywall(html: str) -> str | None:
    return element_text(html, css_class="paywall")


# --- home, topic and author pages ---


def test_home_shows_featured_articles_and_the_latest(client, make_article):
    make_article(
        "the-big-feature", visibility=Visibility.PUBLIC, featured=True, title="The Big Feature"
    )
    make_article("a-fresh-piece", visibility=Visibility.PREMIUM, title="A Fresh Piece")

    html = client.get("/").content.decode()

    featured = element_text(html, aria_labelledby="featured-heading")
    latest = element_text(html, aria_labelledby="latest-heading")
    assert "The Big Feature" in featured
    assert "A Fresh Piece" in latest
    assert "The Big Feature" not in latest  # shown once, in its own row
    for visibility in Visibility:
        assert SECRET_SENTENCES[visibility] not in html


def test_topic_page_lists_its_articles_only(client, make_article, topic, author):
    other = Topic.objects.create(name="Productivity", slug="productivity")
    make_article("leading-well", title="Leading Well")
    make_article("busy-days", title="Busy Days", topic=other)

    response = client.get("/topics/leadership/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "Leadership" in html
    assert "Leading Well" in html
    assert "Busy Days" not in html
    assert client.get("/topics/no-such-topic/").status_code == 404


def test_author_page_shows_the_person_and_lists_their_articles(client, make_article, reviewer):
    make_article("by-ada", title="Written By Ada")
    make_article("by-rex", title="Written By Rex", author=reviewer)

    html = client.get("/people/ada-byline/").content.decode()

    assert "Ada Byline" in html
    assert "Content Writer and Editor" in html
    assert "Written By Ada" in html
    assert "Written By Rex" not in html
    assert client.get("/people/nobody/").status_code == 404


# --- the article page ---


def test_article_page_shows_date_topic_title_byline_role_and_intro(client, make_article, reviewer):
    published = datetime(2025, 6, 14, 8, 0, tzinfo=UTC)
    make_article(
        "on-trust",
        visibility=Visibility.PUBLIC,
        title="On Trust",
        reviewer=reviewer,
        publish_at=published,
    )

    html = client.get("/articles/on-trust/").content.decode()

    header = element_text(html, css_class="article__header")
    assert "14 June 2025" in header
    assert "Leadership" in header
    assert "On Trust" in header
    assert "by Ada Byline, reviewed by Rex Review" in header
    assert "Content Writer and Editor" in header
    assert "The opening of on-trust, which every reader may see." in html


def test_article_without_a_reviewer_names_only_the_author(client, make_article):
    make_article("solo", visibility=Visibility.PUBLIC)

    header = element_text(
        client.get("/articles/solo/").content.decode(), css_class="article__header"
    )

    assert "by Ada Byline" in header
    assert "reviewed by" not in header


def test_anonymous_reader_is_offered_the_free_trial_with_the_from_price(client, articles, plans):
    html = client.get("/articles/premium-article/").content.decode()

    box = paywall(html)
    assert "Start your free trial" in box
    assert "From £12.00 per month · 7-day free trial" in box
    assert "Cancel online anytime" in box
    assert "Subscribe" not in box


def test_member_whose_trial_is_over_is_asked_to_subscribe_without_a_trial_offer(
    client, readers, articles, plans
):
    client.force_login(readers["trial_over"])

    box = paywall(client.get("/articles/premium-article/").content.decode())

    assert "Subscribe" in box
    assert "From £12.00 per month" in box
    assert "free trial" not in box.replace("Your free trial has ended", "")
    assert "Start your free trial" not in box
    assert "Cancel online anytime" in box


def test_the_from_price_is_the_cheapest_active_monthly_plan(client, articles, plans):
    Plan.objects.create(
        name="Cheap but retired", amount=500, currency="gbp", interval="month", active=False
    )
    Plan.objects.create(name="Team", amount=3000, currency="gbp", interval="month")

    box = paywall(client.get("/articles/premium-article/").content.decode())

    assert "From £12.00 per month" in box


def test_the_paywall_still_renders_without_any_active_plan(client, articles):
    html = client.get("/articles/premium-article/").content.decode()

    box = paywall(html)
    assert "Start your free trial" in box
    assert "£" not in box
    assert "From " not in box
    assert SECRET_SENTENCES[Visibility.PREMIUM] not in html


def test_the_trial_length_in_the_offer_follows_the_setting(client, articles, plans, settings):
    settings.TRIAL_DAYS = 14

    box = paywall(client.get("/articles/premium-article/").content.decode())

    assert "From £12.00 per month · 14-day free trial" in box


def test_a_site_without_a_free_trial_never_offers_one(
    client, articles, plans, settings, make_member
):
    settings.TRIAL_DAYS = 0
    pages = [
        "/",
        "/articles/premium-article/",
        "/pricing/",
        "/accounts/signup/",
        "/accounts/login/",
    ]

    for url in pages:
        html = client.get(url).content.decode()
        assert "free trial" not in html.lower(), url
        assert "day free" not in html.lower(), url
    box = paywall(client.get("/articles/premium-article/").content.decode())
    assert "Sign in or subscribe to read this article." in box
    assert "Create your account" in box
    client.force_login(make_member("una@example.com", verified=False))
    assert "free trial" not in client.get("/account/").content.decode().lower()


# --- the account page ---


def test_home_offers_the_free_trial_to_a_visitor(client, articles, plans):
    html = client.get("/").content.decode()

    assert "From £12.00 per month · 7-day free trial" in element_text(html, css_class="hero")


def test_home_offers_no_free_trial_to_a_member_whose_trial_is_over(
    client, readers, articles, plans
):
    client.force_login(readers["trial_over"])

    html = client.get("/").content.decode()

    hero = element_text(html, css_class="hero")
    assert "From £12.00 per month" in hero
    assert "Subscribe" in hero
    assert "free trial" not in html.replace("Your free trial has ended", "")
