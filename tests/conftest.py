"""The shared cast: one reader of each kind, and one article of each visibility.

Each premium and members-only body carries a sentence found nowhere else, so a test can
say from the raw HTML alone whether the paywalled part reached the reader.
"""

from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from django.utils import timezone

from accounts.models import User
from accounts.services import trial_set
from articles.models import Article, Person, Status, Topic, Visibility
from billing.models import Interval, Plan

PASSWORD = "correct-horse-battery-staple"
SECRET_SENTENCES = {
    Visibility.PUBLIC: "The public body mentions the lighthouse keeper's tidy logbook.",
    Visibility.MEMBERS: "Only members learn that the orchard ledger balances on Tuesdays.",
    Visibility.PREMIUM: "Premium readers discover the copper kettle hidden behind the atlas.",
}


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Tests check which password is accepted, not the hasher's deliberate slowness (~0.2 s a hash)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def empty_cache():
    """allauth's rate limits count in the cache: without this, sign-ups in one test use up the next's."""
    from django.core.cache import cache

    from articles import caching

    cache.clear()
    caching.clear_local()  # renders kept in this process (ids and frozen clocks repeat)


@pytest.fixture
def make_member(db):
    """make_member("alice@example.com", verified=True, trial="active" | "over" | None, staff=False)."""

    def make(email, *, verified=True, trial=None, staff=False, password=PASSWORD):
        user = User.objects.create_user(email, password, is_staff=staff)
        EmailAddress.objects.create(user=user, email=email, verified=verified, primary=True)
        now = timezone.now()
        if trial == "active":
            trial_set(
                user_id=user.pk, started_at=now - timedelta(days=1), ends_at=now + timedelta(days=6)
            )
        elif trial == "over":
            trial_set(
                user_id=user.pk, started_at=now - timedelta(days=9), ends_at=now - timedelta(days=2)
            )
        return User.objects.select_related("membership").get(pk=user.pk)

    return make


@pytest.fixture
def readers(make_member):
    """Every kind of reader, by name; None is the anonymous reader."""
    return {
        "anonymous": None,
        "unverified": make_member("una@example.com", verified=False),
        "in_trial": make_member("tina@example.com", trial="active"),
        "trial_over": make_member("oscar@example.com", trial="over"),
        "staff": make_member("stella@example.com", staff=True),
    }


@pytest.fixture
def topic(db):
    return Topic.objects.create(name="Leadership", slug="leadership")


@pytest.fixture
def author(db):
    return Person.objects.create(
        name="Ada Byline", slug="ada-byline", role="Content Writer and Editor"
    )


@pytest.fixture
def reviewer(db):
    return Person.objects.create(name="Rex Review", slug="rex-review", role="Executive Coach")


@pytest.fixture
def make_article(topic, author):
    def make(
        slug, *, visibility=Visibility.PREMIUM, status=Status.PUBLISHED, publish_at=None, **fields
    ):
        defaults = {
            "title": slug.replace("-", " ").title(),
            "summary": f"What {slug} is about.",
            "intro": f"The opening of {slug}, which every reader may see.",
            "body": f"The body of {slug}.\n\n{SECRET_SENTENCES[visibility]}",
            "topic": topic,
            "author": author,
        }
        defaults.update(fields)
        return Article.objects.create(
            slug=slug,
            visibility=visibility,
            status=status,
            publish_at=publish_at or timezone.now() - timedelta(hours=1),
            **defaults,
        )

    return make


@pytest.fixture
def articles(make_article):
    """One published article of each visibility."""
    return {v: make_article(f"{v}-article", visibility=v) for v in Visibility}


@pytest.fixture
def plans(db):
    return [
        Plan.objects.create(name="Monthly", amount=1200, currency="gbp", interval=Interval.MONTH),
        Plan.objects.create(name="Annual", amount=9900, currency="gbp", interval=Interval.YEAR),
    ]
