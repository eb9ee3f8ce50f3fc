"""Fills an empty site with the demo publication. Safe to run again: it updates in place."""

from datetime import timedelta

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from accounts.entitlements import for_user
from accounts.models import Newsletter, NewsletterSubscription, User
from accounts.services import membership_for, trial_set, trial_start
from articles import attachments, demo_data
from articles.models import Article, Attachment, Person, SiteSettings, Status, Topic
from billing.models import Interval, Plan

DEMO_PASSWORD = "masthead-demo"
DEMO_LOGINS = [
    ("admin@example.com", "staff: the admin at /admin/ and every article"),
    ("reader@example.com", "a member in the free trial"),
    ("lapsed@example.com", "a member whose trial is over"),
    (
        "ending@example.com",
        "a member whose trial ends 2 minutes after seeding: watch the worker mail them",
    ),
]
# With trials off (TRIAL_DAYS=0) the three are free members, reading on the meter if it is on.
DEMO_LOGINS_WITHOUT_TRIALS = [
    DEMO_LOGINS[0],
    *[(email, "a free member (no trial: TRIAL_DAYS is 0)") for email, _ in DEMO_LOGINS[1:]],
]
PLANS = [("Monthly", 1200, Interval.MONTH), ("Annual", 9900, Interval.YEAR)]
NEWSLETTERS = [
    {
        "slug": "weekly",
        "name": "The Weekly Guide",
        "description": "One practical guide for people who lead people, and what to try on Monday.",
        "cadence": "Every Tuesday morning",
        "is_default": True,
    },
    {
        "slug": "product-news",
        "name": "Product news",
        "description": "New features and changes to your membership, a few times a year.",
        "cadence": "Now and then",
        "is_default": False,
    },
]
# The landing page's words, figures and ad. Every organisation named here is invented.
SITE_SETTINGS = {
    "headline": "Lead with confidence. Learn from managers who have done it.",
    "subheadline": "Practical, expert-reviewed guides for managers and team leaders: "
    "a new article every week, and the whole archive from your first day.",
    "trusted_by": "\n".join(
        [
            "Kestrel Freightworks",
            "Ollander Bank",
            "Brightmoor Health",
            "Quillon Press",
            "Saltmarsh Energy",
            "Larkspur Hotels",
            "Verdigris Labs",
            "Hollowell Council",
            "Tallow & Finch",
            "Pennywhistle Games",
        ]
    ),
    "members_count": 48200,
    "countries_count": 63,
    "ad_snippet": "<p><strong>The Team Leader's Toolkit</strong>: a one-day workshop from Larkspur Learning, "
    'in six cities this spring. <a href="https://example.com/workshops">Book a place</a></p>',
}


class Command(BaseCommand):
    help = "Create or update the demo articles, plans and logins."

    @transaction.atomic
    def handle(self, *args, **options):
        topics = {
            t["slug"]: Topic.objects.update_or_create(slug=t["slug"], defaults=t)[0]
            for t in demo_data.TOPICS
        }
        people = {
            p["slug"]: Person.objects.update_or_create(slug=p["slug"], defaults=p)[0]
            for p in demo_data.PEOPLE
        }
        now = timezone.now()
        for item in demo_data.ARTICLES:
            fields = {
                k: v
                for k, v in item.items()
                if k not in {"slug", "topic", "author", "reviewer", "days_ago"}
            }
            Article.objects.update_or_create(
                slug=item["slug"],
                defaults={
                    **fields,
                    "topic": topics[item["topic"]],
                    "author": people[item["author"]],
                    "reviewer": people[item["reviewer"]] if item["reviewer"] else None,
                    "status": Status.PUBLISHED,
                    "publish_at": now - timedelta(days=item["days_ago"]),
                },
            )
        self._worksheet()
        for name, amount, interval in PLANS:
            Plan.objects.update_or_create(
                name=name,
                defaults={
                    "amount": amount,
                    "currency": "gbp",
                    "interval": interval,
                    "active": True,
                },
            )
        SiteSettings.objects.update_or_create(pk=SiteSettings.SINGLETON_PK, defaults=SITE_SETTINGS)
        for fields in NEWSLETTERS:
            Newsletter.objects.update_or_create(slug=fields["slug"], defaults=fields)
        members = self._demo_members(now)
        weekly = Newsletter.objects.get(slug="weekly")
        for member in members:  # every demo member reads the weekly guide
            NewsletterSubscription.objects.get_or_create(user=member, newsletter=weekly)
        self.stdout.write(
            self.style.SUCCESS(f"Demo site ready: {Article.objects.count()} articles.")
        )
        self.stdout.write(f"Demo logins (password: {DEMO_PASSWORD}):")
        for email, what in DEMO_LOGINS if settings.TRIAL_DAYS else DEMO_LOGINS_WITHOUT_TRIALS:
            self.stdout.write(f"  {email:<22} {what}")

    def _worksheet(self):
        """The premium one-to-ones guide's worksheet: made once, kept on later runs."""
        sheet = demo_data.WORKSHEET
        article = Article.objects.get(slug=sheet["article"])
        if not article.attachments.filter(title=sheet["title"]).exists():
            pdf = ContentFile(demo_data.worksheet_pdf(sheet["lines"]), name=sheet["filename"])
            attachment = Attachment(article=article, title=sheet["title"], file=pdf)
            attachments.validate_upload(attachment.file)  # the admin's checks pass it too
            attachment.save()

    def _demo_members(self, now):
        admin = self._member("admin@example.com", is_staff=True, is_superuser=True)
        reader = self._member("reader@example.com")
        lapsed = self._member("lapsed@example.com")
        ending = self._member("ending@example.com")
        if not settings.TRIAL_DAYS:
            # Trials are off (a site that meters instead): no trial to seed, so the three are
            # verified members without one, each reading on the meter (METERED_FREE_ARTICLES).
            return admin, reader, lapsed, ending
        if not trial_start(user=reader) and not for_user(reader, now).is_trialing:
            # `make run` weeks after the first one: the demo reader is still meant to be in trial
            trial_set(
                user_id=reader.pk, started_at=now, ends_at=now + timedelta(days=settings.TRIAL_DAYS)
            )
        lapsed_ends = membership_for(user_id=lapsed.pk).trial_ends_at
        if trial_start(user=lapsed) or lapsed_ends is None or lapsed_ends > now:
            # a trial that began nine days ago and ended two days ago (also when the site ran
            # with trials off before, so the member has none yet)
            trial_set(
                user_id=lapsed.pk,
                started_at=now - timedelta(days=9),
                ends_at=now - timedelta(days=2),
            )
        trial_start(user=ending)
        # ends a couple of minutes from now on every `make run`, so the trial-expiry job
        # (every minute) ends it and the worker's trial-ended mail shows in the console
        trial_set(
            user_id=ending.pk,
            started_at=now - timedelta(days=settings.TRIAL_DAYS) + timedelta(minutes=2),
            ends_at=now + timedelta(minutes=2),
        )
        return admin, reader, lapsed, ending

    def _member(self, email, **flags):
        user, created = User.objects.get_or_create(email=email, defaults=flags)
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save()
        EmailAddress.objects.update_or_create(
            user=user, email=email, defaults={"verified": True, "primary": True}
        )
        return user
