"""Seed the web benchmark's database: 2,000 articles, 100,000 members and one subscriber.

Run by bench/web_bench.py with the benchmark's environment (DATABASE_URL=.../bench_web).
Idempotent: a database that already holds the data is left as it is, so repeated runs
measure the same site. Rows go in with bulk_create in large batches (about a minute on
two cores); members share one unusable password, since nobody logs in as them.

    python bench/seed_web.py            # seed if needed
    python bench/seed_web.py --session  # also print signed-in session keys for the subscriber
                                        # and the metered member (subscriber_session=...)
"""

import os
import random
import sys
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from allauth.account.models import EmailAddress  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402
from django.utils.module_loading import import_string  # noqa: E402

from accounts.models import Membership, User  # noqa: E402
from accounts.services import meter_read_record  # noqa: E402
from articles.models import Article, Person, Status, Topic, Visibility  # noqa: E402
from billing.models import Interval, Plan, Subscription, SubscriptionStatus  # noqa: E402
from billing.services import membership_sync  # noqa: E402

ARTICLES = 2_000
MEMBERS = 100_000
BATCH = 5_000
SUBSCRIBER = "bench-subscriber@example.com"
METERED = "bench-metered@example.com"
PREMIUM_SLUG = "bench-premium-article"
# Only in the premium article's body: the benchmark checks it reaches the subscriber and
# never the anonymous reader, so it measures the pages it claims to.
BODY_MARKER = "The bench marker sentence sits only behind the paywall."
TOPICS = [
    "Leadership",
    "Hiring",
    "Feedback",
    "Meetings",
    "Strategy",
    "Remote work",
    "Coaching",
    "Careers",
]
WORDS = [
    "team",
    "manager",
    "feedback",
    "meeting",
    "goal",
    "plan",
    "people",
    "trust",
    "clear",
    "week",
    "decision",
    "project",
    "review",
    "habit",
    "focus",
    "priority",
    "coach",
    "listen",
    "question",
    "agenda",
    "outcome",
    "growth",
    "career",
    "skill",
    "hire",
    "role",
]


def sentence(rng: random.Random) -> str:
    words = rng.choices(WORDS, k=rng.randint(8, 18))
    return " ".join(words).capitalize() + "."


def paragraph(rng: random.Random, sentences: int) -> str:
    return " ".join(sentence(rng) for _ in range(sentences))


def body_markdown(rng: random.Random) -> str:
    """About 1,200 words with headings, a list and emphasis: a typical long read."""
    parts = []
    for section in range(4):
        parts.append(f"## Part {section + 1}: {sentence(rng)[:-1]}")
        parts.extend(paragraph(rng, 6) for _ in range(3))
        parts.append("\n".join(f"- **{rng.choice(WORDS)}**: {sentence(rng)}" for _ in range(4)))
    return "\n\n".join(parts)


def seed() -> None:
    if Article.objects.count() >= ARTICLES and User.objects.count() >= MEMBERS:
        print("bench data: already seeded", flush=True)
        return
    rng = random.Random(6)
    now = timezone.now()
    with transaction.atomic():
        topics = [
            Topic.objects.get_or_create(
                slug=name.lower().replace(" ", "-"), defaults={"name": name}
            )[0]
            for name in TOPICS
        ]
        people = [
            Person.objects.get_or_create(
                slug=f"author-{n}", defaults={"name": f"Author {n}", "role": "Contributor"}
            )[0]
            for n in range(20)
        ]
        if not Plan.objects.exists():
            Plan.objects.create(name="Monthly", amount=1200, interval=Interval.MONTH)
            Plan.objects.create(name="Annual", amount=9900, interval=Interval.YEAR)

        existing = Article.objects.count()
        articles = []
        for n in range(existing, ARTICLES):
            slug = PREMIUM_SLUG if n == 0 else f"bench-article-{n}"
            visibility = (
                Visibility.PREMIUM
                if n == 0 or n % 10 < 7
                else rng.choice([Visibility.PUBLIC, Visibility.MEMBERS])
            )
            articles.append(
                Article(
                    title=f"Bench article {n}: {sentence(rng)[:60]}",
                    slug=slug,
                    topic=topics[n % len(topics)],
                    author=people[n % len(people)],
                    reviewer=people[(n + 1) % len(people)] if n % 3 == 0 else None,
                    summary=sentence(rng),
                    intro=paragraph(rng, 5) + "\n\n" + paragraph(rng, 4),
                    body=body_markdown(rng) + (f"\n\n{BODY_MARKER}" if n == 0 else ""),
                    visibility=visibility,
                    status=Status.PUBLISHED,
                    # the premium article is the newest, so it also appears on the home page
                    publish_at=now - timedelta(minutes=10 + n * 30),
                    featured=n % 97 == 1,
                )
            )
        Article.objects.bulk_create(articles, batch_size=500)
        print(f"bench data: {len(articles)} articles", flush=True)

        start = User.objects.count()
        for first in range(start, MEMBERS, BATCH):
            numbers = range(first, min(first + BATCH, MEMBERS))
            users = User.objects.bulk_create(
                [
                    User(email=f"member{n}@bench.example", password="!", date_joined=now)
                    for n in numbers
                ]
            )
            EmailAddress.objects.bulk_create(
                [
                    EmailAddress(user=user, email=user.email, verified=True, primary=True)
                    for user in users
                ]
            )
            # bulk_create sends no signals: the rows the members app keeps for each member
            Membership.objects.bulk_create(
                [Membership(user=user, email_verified_at=now) for user in users]
            )
        print(f"bench data: {MEMBERS - start} members", flush=True)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # fresh statistics, so the planner uses the listing index


def subscriber() -> User:
    """The premium reader: a member with an active subscription."""
    user, created = User.objects.get_or_create(email=SUBSCRIBER, defaults={"password": "!"})
    if created:
        EmailAddress.objects.create(user=user, email=SUBSCRIBER, verified=True, primary=True)
    now = timezone.now()
    Subscription.objects.update_or_create(
        stripe_subscription_id="sub_bench",
        defaults={
            "user": user,
            "plan": Plan.objects.order_by("amount").first(),
            "status": SubscriptionStatus.ACTIVE,
            "started_at": now - timedelta(days=10),
            "current_period_end": now + timedelta(days=20),
            "cancel_at_period_end": False,
            "synced_at": now,
        },
    )
    membership_sync(user_id=user.pk)
    return user


def metered_member() -> User:
    """A free member (verified, no trial, no subscription) who read the premium article on the
    meter this month: each of the benchmark's requests is a re-read, in full, writing nothing."""
    user, created = User.objects.get_or_create(email=METERED, defaults={"password": "!"})
    if created:
        EmailAddress.objects.create(user=user, email=METERED, verified=True, primary=True)
    article = Article.objects.get(slug=PREMIUM_SLUG)
    if meter_read_record(user_id=user.pk, article_id=article.pk, now=timezone.now()) is None:
        sys.exit(
            f"{METERED} has used this month's reads on other articles: cannot bench the meter."
        )
    return user


def signed_in_session_key(user: User) -> str:
    """A session as a login leaves it, stored by the configured engine (Redis and the database)."""
    store = import_string(f"{settings.SESSION_ENGINE}.SessionStore")()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    return store.session_key


if __name__ == "__main__":
    seed()
    reader = subscriber()
    free_member = metered_member() if settings.METERED_FREE_ARTICLES else None
    if "--session" in sys.argv:
        print(f"subscriber_session={signed_in_session_key(reader)}", flush=True)
        if free_member:
            print(f"metered_session={signed_in_session_key(free_member)}", flush=True)
