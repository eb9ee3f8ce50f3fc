import math
import os
import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import JSONObject
from django.db.models.signals import post_delete
from django.dispatch import receiver
from django.urls import reverse
from django.utils import timezone

from accounts.entitlements import Meter, Visibility
from articles import attachments
from articles.signals import content_bulk_updated


class ContentQuerySet(models.QuerySet):
    """For what the reading pages show: a bulk update announces itself, as save() does."""

    def update(self, **fields):
        # bulk_update() runs through here too, one batch at a time
        rows = super().update(**fields)
        content_bulk_updated.send(sender=self.model)
        return rows


class Topic(models.Model):
    name = models.CharField(max_length=80, unique=True)
    slug = models.SlugField(max_length=80, unique=True)
    description = models.CharField(max_length=300, blank=True)

    objects = ContentQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("articles:topic", args=[self.slug])


class Person(models.Model):
    """An author or reviewer, as shown in bylines. Not necessarily a member."""

    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=120, unique=True)
    role = models.CharField(
        "role line", max_length=120, blank=True, help_text='e.g. "Content Writer and Editor"'
    )
    bio = models.TextField(blank=True)

    objects = ContentQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "people"

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("articles:person", args=[self.slug])


# A steady adult reading pace for practical prose; the figure shown is rounded up, never below 1.
WORDS_PER_MINUTE = 230
_WORD = re.compile(r"[^\W_]+(?:['\u2019.-][^\W_]+)*")


def reading_minutes(*texts: str) -> int:
    """Minutes to read the given Markdown, counting its words (markup characters are not words)."""
    words = sum(len(_WORD.findall(text)) for text in texts)
    return max(1, math.ceil(words / WORDS_PER_MINUTE))


class Status(models.TextChoices):
    DRAFT = "draft", "Draft"
    SCHEDULED = "scheduled", "Scheduled"
    PUBLISHED = "published", "Published"


class ArticleQuerySet(ContentQuerySet):
    def published(self, now=None):
        """Live for readers: published, or scheduled with its moment passed.

        A scheduled article goes live at publish_at by the clock, without waiting
        for any job to flip its status.
        """
        return self.exclude(status=Status.DRAFT).filter(publish_at__lte=now or timezone.now())

    def with_attachment_list(self):
        """Each article with `attachment_list`: its attachments' ids, titles, kinds and sizes, in
        the article's own query (a JSON array from a subquery), so the article page lists them
        without a query of its own. Never a file's bytes nor its stored name."""
        rows = (
            Attachment.objects.filter(article=models.OuterRef("pk"))
            .order_by()
            .values("article")
            .annotate(
                rows=_JSONRows(
                    JSONObject(
                        id="id", title="title", kind="kind", size="size", position="position"
                    )
                )
            )
            .values("rows")
        )
        return self.annotate(attachment_list=models.Subquery(rows, output_field=models.JSONField()))

    def for_listing(self):
        """What cards and listings show: never the premium body."""
        return self.select_related("topic", "author").defer("body")

    def read_next(self, article: "Article", count: int = 3) -> list["Article"]:
        """Up to `count` live articles to read after this one: its topic's newest, then the newest.

        One query: the candidates are the topic's newest and the site's newest (each a short read
        of the listing index, stopping at `count`), and only those few are ordered by "same topic
        first". Ordering every live article that way would sort them all.
        """
        live = self.published().exclude(pk=article.pk)
        candidates = models.Q(pk__in=live.filter(topic_id=article.topic_id).values("pk")[:count])
        candidates |= models.Q(pk__in=live.values("pk")[:count])
        same_topic_first = models.Case(
            models.When(topic_id=article.topic_id, then=0),
            default=1,
            output_field=models.IntegerField(),
        )
        # only what a card shows: these ride along in the article's cache entry on every page
        card_fields = ["title", "slug", "summary", "visibility", "publish_at", "reading_minutes"]
        return list(
            self.for_listing()
            .only(*card_fields, "topic__name", "topic__slug", "author__name", "author__slug")
            .filter(candidates)
            .order_by(same_topic_first, "-publish_at")[:count]
        )


class _JSONRows(models.Aggregate):
    """The aggregated values as one JSON array (PostgreSQL's jsonb_agg, SQLite's json_group_array)."""

    function = "JSONB_AGG"
    output_field = models.JSONField()

    def as_sqlite(self, compiler, connection, **extra):
        return super().as_sql(compiler, connection, function="JSON_GROUP_ARRAY", **extra)


@dataclass(frozen=True)
class ListedAttachment:
    """An attachment as the article page lists it: public facts only."""

    id: int
    title: str
    kind: str
    size: int


class Article(models.Model):
    """An article: a public intro that everyone sees, and a body behind the paywall.

    The body is deferred in every listing and loaded only after the entitlement
    module has said the reader may read it.
    """

    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200, unique=True)
    topic = models.ForeignKey(Topic, on_delete=models.PROTECT, related_name="articles")
    author = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="articles")
    reviewer = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.PROTECT, related_name="reviewed_articles"
    )
    summary = models.CharField(
        max_length=300, help_text="One or two sentences for cards and listings."
    )
    intro = models.TextField(help_text="Markdown. The public opening that every reader sees.")
    body = models.TextField(
        blank=True, help_text="Markdown. The rest, shown only to readers with access."
    )
    visibility = models.CharField(max_length=10, choices=Visibility, default=Visibility.PREMIUM)
    meter = models.CharField(
        max_length=10,
        choices=Meter,
        default=Meter.COUNTED,
        help_text="For a premium article, while free members read a few a month "
        "(METERED_FREE_ARTICLES): whether opening it uses one of their reads.",
    )
    status = models.CharField(max_length=10, choices=Status, default=Status.DRAFT)
    publish_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When it goes live. Set automatically when published without one.",
    )
    updated_at = models.DateTimeField(auto_now=True)
    featured = models.BooleanField(
        default=False, help_text="Shown in the home page's featured row."
    )
    seo_description = models.CharField(
        max_length=160,
        blank=True,
        help_text="For search engines; written from the public part only.",
    )
    # Worked out from intro and body on every save, so that cards and a teaser can show it
    # without reading the body (deferred everywhere, and never loaded for a reader who may
    # not read it).
    reading_minutes = models.PositiveSmallIntegerField(
        "reading time (minutes)", default=1, editable=False
    )

    objects = ArticleQuerySet.as_manager()

    class Meta:
        ordering = ["-publish_at"]
        indexes = [
            models.Index(fields=["status", "-publish_at"], name="article_live_idx"),
            # Listings ask for "not a draft, newest first": this lets PostgreSQL read the newest
            # live rows in order and stop at the page's end, instead of sorting every article.
            models.Index(
                fields=["-publish_at"],
                name="article_listing_idx",
                condition=~models.Q(status=Status.DRAFT),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status=Status.DRAFT) | models.Q(publish_at__isnull=False),
                name="article_live_has_publish_at",
            ),
        ]

    def __str__(self):
        return self.title

    def save(self, *args, **kwargs):
        if self.status != Status.DRAFT and self.publish_at is None:
            self.publish_at = timezone.now()
        fields = kwargs.get("update_fields")
        if "body" not in self.get_deferred_fields() and (
            fields is None or {"intro", "body"} & set(fields)
        ):
            self.reading_minutes = reading_minutes(self.intro, self.body)
            if fields is not None:
                kwargs["update_fields"] = {*fields, "reading_minutes"}
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("articles:detail", args=[self.slug])

    def clean(self):
        # save() would fill a missing moment with "now", publishing at once what the editor
        # meant to hold back: a scheduled article must say when it goes live.
        if self.status == Status.SCHEDULED and self.publish_at is None:
            raise ValidationError(
                {"publish_at": "A scheduled article needs the date and time it goes live."}
            )

    def listed_attachments(self) -> list[ListedAttachment]:
        """The attachments as loaded by with_attachment_list(), in their order."""
        rows = sorted(self.attachment_list or (), key=lambda row: (row["position"], row["id"]))
        return [ListedAttachment(row["id"], row["title"], row["kind"], row["size"]) for row in rows]

    def is_live(self, now=None) -> bool:
        return (
            self.status != Status.DRAFT
            and self.publish_at is not None
            and self.publish_at <= (now or timezone.now())
        )


class Attachment(models.Model):
    """A file that comes with an article (a worksheet, a template): its title, kind and size are
    public, listed on the article's page; its bytes go only to readers who may read the article,
    through the download view, never from a public URL (the stored name is random)."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="attachments")
    title = models.CharField(
        max_length=120, help_text='What readers see, e.g. "Feedback worksheet".'
    )
    file = models.FileField(
        upload_to=attachments.stored_name,
        max_length=200,
        validators=[attachments.validate_upload],
        help_text="PDF, Word (.docx) or Excel (.xlsx).",
    )
    # Taken from the upload when it is saved: the reader's download name, its kind and size,
    # shown on the article's page without touching the file.
    filename = models.CharField(max_length=200, editable=False)
    kind = models.CharField(max_length=4, choices=attachments.Kind, editable=False)
    size = models.PositiveBigIntegerField(editable=False)
    position = models.PositiveSmallIntegerField(default=0, help_text="Lower comes first.")

    objects = ContentQuerySet.as_manager()

    class Meta:
        ordering = ["position", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=attachments.Kind.values), name="attachment_kind_known"
            ),
        ]

    def __str__(self):
        return self.title

    def save(self, *args, **kwargs):
        replaced = ""
        if not self.file._committed:  # a new upload: what the page shows comes from it
            self.filename = os.path.basename(self.file.name)[:200]
            self.kind = attachments.kind_of_name(self.file.name)
            self.size = self.file.size
            if self.pk:
                replaced = (
                    Attachment.objects.filter(pk=self.pk).values_list("file", flat=True).first()
                )
        super().save(*args, **kwargs)
        if replaced:
            attachments.delete_stored_on_commit(replaced)

    @property
    def content_type(self) -> str:
        return attachments.CONTENT_TYPES[self.kind]


@receiver(post_delete, sender=Attachment)
def _attachment_deleted(instance, **kwargs):
    attachments.delete_stored_on_commit(instance.file.name)


class SiteSettings(models.Model):
    """The landing page's words and figures, and the ad slot: one row, edited by staff in the admin.

    A singleton rather than settings in the environment because editors change the
    offer and the social proof without a deploy. load() always returns the one row.
    """

    SINGLETON_PK = 1

    headline = models.CharField(max_length=140, default="Sharper management, one article at a time")
    subheadline = models.CharField(
        max_length=300,
        blank=True,
        default="Practical guides for managers and team leaders, written by practitioners and reviewed by experts.",
    )
    trusted_by = models.TextField(
        "trusted by", blank=True, help_text="Organisations shown under “Trusted by”, one per line."
    )
    members_count = models.PositiveIntegerField(
        "members", default=0, help_text="Social proof. 0 hides it."
    )
    countries_count = models.PositiveIntegerField(
        "countries", default=0, help_text="Social proof. 0 hides it."
    )
    ad_snippet = models.TextField(
        "ad snippet",
        blank=True,
        help_text="HTML for the ad slot, shown only to readers without premium access. "
        "Sanitised: only links, images, paragraphs and bold text survive.",
    )

    objects = ContentQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "site settings"
        constraints = [
            models.CheckConstraint(condition=models.Q(pk=1), name="site_settings_singleton")
        ]

    def __str__(self):
        return "Site settings"

    def save(self, *args, **kwargs):
        self.pk = self.SINGLETON_PK
        super().save(*args, **kwargs)

    @classmethod
    def load(cls) -> "SiteSettings":
        return cls.objects.get_or_create(pk=cls.SINGLETON_PK)[0]

    def trusted_by_names(self) -> list[str]:
        return [name.strip() for name in self.trusted_by.splitlines() if name.strip()]

    def ad_html(self):
        from articles.markup import clean_ad_snippet

        return clean_ad_snippet(self.ad_snippet)


class Audience(models.TextChoices):
    ALL = "all", "Everyone on the newsletter"
    PAID = "paid", "Only members who pay or were given access"
    FREE = "free", "Only members who do not pay"


class SendStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    PLANNING = "planning", "Listing recipients"
    SENDING = "sending", "Sending"
    PAUSED = "paused", "Paused"
    CANCELLED = "cancelled", "Cancelled"
    DONE = "done", "Sent"


class NewsletterSend(models.Model):
    """An article mailed to a newsletter's members: what, to whom, when, and how far it has got.

    Each recipient is a NewsletterDelivery, recorded once before anything is mailed; the counts
    here are kept by the workers as they go (articles/newsletter.py).
    """

    article = models.ForeignKey(Article, on_delete=models.PROTECT, related_name="newsletter_sends")
    newsletter = models.ForeignKey(
        "accounts.Newsletter", on_delete=models.PROTECT, related_name="sends"
    )
    audience = models.CharField(max_length=10, choices=Audience, default=Audience.ALL)
    status = models.CharField(max_length=10, choices=SendStatus, default=SendStatus.SCHEDULED)
    send_at = models.DateTimeField(help_text="When sending starts.")
    created_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    recipients = models.PositiveIntegerField(default=0)
    sent = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    suppressed = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(
                fields=["send_at"],
                name="newsletter_send_due_idx",
                condition=models.Q(status="scheduled"),
            )
        ]

    def __str__(self):
        return f"{self.article} to {self.newsletter}"

    @property
    def done_count(self) -> int:
        return self.sent + self.failed + self.suppressed

    @property
    def is_running(self) -> bool:
        return self.status in (SendStatus.PLANNING, SendStatus.SENDING)


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Waiting"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    SUPPRESSED = "suppressed", "Suppressed"
    SKIPPED = "skipped", "Skipped (no longer on the list)"


class NewsletterDelivery(models.Model):
    """One recipient of one send, recorded before the message goes, so nobody is mailed twice.

    The unique (send, user) pair makes a re-run of the planning record nobody twice; a worker
    marks the row sent in the transaction that sends it.
    """

    send = models.ForeignKey(NewsletterSend, on_delete=models.CASCADE, related_name="deliveries")
    # No foreign key in the database, as for SentMail: checking one per row would slow the
    # planning of a million recipients. Django still deletes a member's rows with the member.
    user = models.ForeignKey(
        "accounts.User", on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    status = models.CharField(max_length=10, choices=DeliveryStatus, default=DeliveryStatus.PENDING)
    full_text = models.BooleanField(
        null=True, help_text="Whether the recipient got the full article (decided as it went)."
    )
    sent_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)

    class Meta:
        verbose_name_plural = "newsletter deliveries"
        indexes = [
            # "is anything of this send still waiting?" after every batch, and each batch's own
            # waiting rows: read from the rows still waiting only, not the send's million
            models.Index(
                fields=["send", "id"],
                name="delivery_waiting_idx",
                condition=models.Q(status="pending"),
            )
        ]
        constraints = [
            models.UniqueConstraint(fields=["send", "user"], name="newsletter_delivery_unique")
        ]

    def __str__(self):
        return f"{self.send_id}:{self.user_id} {self.status}"
