"""The shared cast: one reader of each kind, staff to run the site, and one article of each visibility.

Each premium and members-only body carries a sentence found nowhere else, so a test can
say from the raw HTML alone whether the paywalled part reached the reader. Which reader
reads which visibility is written down once, by hand, in tests/test_access_matrix.py.

Every member is made through the services that own each change (`trial_set`,
`complimentary_grant`, a `Subscription` reported by billing's `membership_sync`) and handed
back re-read with their Membership, as the authentication backends load a signed-in member.
Timestamps count from the clock when the fixture runs, so a test that freezes time first
gets a cast made at its frozen moment.
"""

from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth.models import Group
from django.test import override_settings
from django.utils import timezone

from accounts.groups import CONTENT_EDITORS
from accounts.models import User
from accounts.services import complimentary_grant, meter_read_record, trial_set
from articles.models import Article, Person, SiteSettings, Status, Topic, Visibility
from billing.models import Interval, Plan, Subscription, SubscriptionStatus
from billing.services import membership_sync
from config.celery import app as celery_app

PASSWORD = "correct-horse-battery-staple"
SECRET_SENTENCES = {
    Visibility.PUBLIC: "The public body mentions the tidy logbook of the lighthouse keeper.",
    Visibility.MEMBERS: "Only members learn that the orchard ledger balances on Tuesdays.",
    Visibility.PREMIUM: "Premium readers discover the copper kettle hidden behind the atlas.",
}
AD_SENTENCE = "Workshops from the fictional Larkspur Learning."
# The cast's free members read on a meter of this many premium articles a month, when a test
# turns it on (settings.METERED_FREE_ARTICLES = METER_N); it is off by default, as in production.
METER_N = 3
# Ids of articles the cast's free members read this month (none of them a cast article's).
READ_BEFORE = [900_001, 900_002, 900_003]


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Tests check which password is accepted, not the hasher's deliberate slowness (~0.2 s a hash)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path_factory):
    """Uploads (articles' attachments) go to a folder of the test's own, not the checkout's var/
    (nor the test's tmp_path, which is the test's to fill)."""
    settings.MEDIA_ROOT = tmp_path_factory.mktemp("media")
    return settings.MEDIA_ROOT


@pytest.fixture(autouse=True)
def empty_cache():
    """allauth's rate limits count in the cache: without this, sign-ups in one test use up the next's."""
    from django.core.cache import cache

    from articles import caching

    cache.clear()
    caching.clear_local()  # renders kept in this process (ids and frozen clocks repeat)


@pytest.fixture
def fresh_cache(settings):
    """A cache of the test's own, so allauth's rate-limit counts start at zero and no other
    test (or test process) shares them."""
    settings.CACHES = {
        **settings.CACHES,
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "rate-limits",
        },
    }
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def eager_tasks():
    """Run queued tasks at once, in this process. For unit tests of single tasks only (the
    real worker is in tests/integration/worker/)."""
    celery_app.conf.update(task_always_eager=True, task_eager_propagates=True)
    yield
    celery_app.conf.update(task_always_eager=False, task_eager_propagates=False)


# ---- members -------------------------------------------------------------------------


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
def make_subscription(db):
    """make_subscription(member, status, **fields): billing's copy of one Stripe subscription,
    reported to the member's Membership as billing's sync reports it; returns the member re-read.

    By default it started 40 days ago and its period ends in 20 days; `fields` are the
    Subscription's own (plan, cancel_at_period_end, first_failed_payment_at, ...).
    """

    def make(member, status, **fields):
        now = timezone.now()
        values = {
            "stripe_subscription_id": f"sub_{member.pk}",
            "started_at": now - timedelta(days=40),
            "current_period_end": now + timedelta(days=20),
            "synced_at": now,
        }
        values.update(fields)
        Subscription.objects.create(user=member, status=status, **values)
        membership_sync(user_id=member.pk)
        return User.objects.select_related("membership").get(pk=member.pk)

    return make


@pytest.fixture
def readers(make_member, make_subscription):
    """Every kind of reader, by name; None is the anonymous reader.

    The paying ones had their trial first, as members do: a subscriber, one whose payment
    failed yesterday (in the grace period), one whose subscription ended yesterday, and one
    given complimentary access for a month. And three free members (verified, no trial,
    no subscription) who have read 0, METER_N - 1 and METER_N premium articles on the meter
    this month (other articles than the cast's).
    """
    now = timezone.now()
    complimentary = make_member("cora@example.com", trial="over")
    complimentary_grant(
        user=complimentary, until=now + timedelta(days=30), reason="Press pass", granted_by=None
    )
    return {
        "anonymous": None,
        "unverified": make_member("una@example.com", verified=False),
        "in_trial": make_member("tina@example.com", trial="active"),
        "trial_over": make_member("oscar@example.com", trial="over"),
        "subscriber": make_subscription(
            make_member("sue@example.com", trial="over"), SubscriptionStatus.ACTIVE
        ),
        "grace": make_subscription(
            make_member("gail@example.com", trial="over"),
            SubscriptionStatus.PAST_DUE,
            first_failed_payment_at=now - timedelta(days=1),
        ),
        "cancelled": make_subscription(
            make_member("carl@example.com", trial="over"),
            SubscriptionStatus.CANCELED,
            ended_at=now - timedelta(days=1),
        ),
        "complimentary": User.objects.select_related("membership").get(pk=complimentary.pk),
        "staff": make_member("stella@example.com", staff=True),
        "free": make_member("fran@example.com"),
        "free_almost": _with_meter_reads(make_member("fay@example.com"), METER_N - 1),
        "free_used_up": _with_meter_reads(make_member("flo@example.com"), METER_N),
    }


def _with_meter_reads(member, count):
    """The member, having read `count` premium articles this month on the meter."""
    with override_settings(METERED_FREE_ARTICLES=METER_N):
        for article_id in READ_BEFORE[:count]:
            meter_read_record(user_id=member.pk, article_id=article_id, now=timezone.now())
    return member


@pytest.fixture
def superuser(make_member):
    """The site's owner: staff with every permission."""
    boss = make_member("boss@example.com", staff=True)
    boss.is_superuser = True
    boss.save()
    return boss


@pytest.fixture
def editor(make_member):
    """Eddie: staff, in the Content editors group, nothing else."""
    eddie = make_member("eddie@example.com", staff=True)
    eddie.groups.add(Group.objects.get(name=CONTENT_EDITORS))
    return eddie


# ---- the publication -----------------------------------------------------------------


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


@pytest.fixture
def site_settings(db):
    """The landing page's offer and proof, with invented organisations, and an ad."""
    return SiteSettings.objects.create(
        headline="Become the manager your team deserves",
        subheadline="Short, practical guides, reviewed by people who have run teams.",
        trusted_by="Kestrel Freightworks\nOllander Bank\n\nQuillon Press\n",
        members_count=48200,
        countries_count=63,
        ad_snippet=f'<p><strong>{AD_SENTENCE}</strong> <a href="https://example.com/w">Book</a></p>',
    )


@pytest.fixture
def client_for(db):
    """client_for(reader): a fresh client, signed in as reader (None: anonymous)."""
    from django.test import Client

    def make(reader):
        client = Client()
        if reader is not None:
            client.force_login(reader)
        return client

    return make
