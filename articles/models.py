from django.db import models
from django.urls import reverse
from django.utils import timezone


class Topic(models.Model):
    name = models.CharField(max_length=80, unique=True)
    slug = models.SlugField(max_length=80, unique=True)
    description = models.CharField(max_length=300, blank=True)

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
    role = models.CharField("role line", max_length=120, blank=True, help_text='e.g. "Content Writer and Editor"')
    bio = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "people"

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("articles:person", args=[self.slug])


class Visibility(models.TextChoices):
    PUBLIC = "public", "Public: everyone reads it all"
    MEMBERS = "members", "Members: any signed-in, verified member"
    PREMIUM = "premium", "Premium: trial, subscribers and staff"


class Status(models.TextChoices):
    DRAFT = "draft", "Draft"
    SCHEDULED = "scheduled", "Scheduled"
    PUBLISHED = "published", "Published"


class ArticleQuerySet(models.QuerySet):
    def published(self, now=None):
        """Live for readers: published, or scheduled with its moment passed.

        A scheduled article goes live at publish_at by the clock, without waiting
        for any job to flip its status.
        """
        return self.exclude(status=Status.DRAFT).filter(publish_at__lte=now or timezone.now())

    def for_listing(self):
        """What cards and listings show: never the premium body."""
        return self.select_related("topic", "author").defer("body")


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
    summary = models.CharField(max_length=300, help_text="One or two sentences for cards and listings.")
    intro = models.TextField(help_text="Markdown. The public opening that every reader sees.")
    body = models.TextField(blank=True, help_text="Markdown. The rest, shown only to readers with access.")
    visibility = models.CharField(max_length=10, choices=Visibility, default=Visibility.PREMIUM)
    status = models.CharField(max_length=10, choices=Status, default=Status.DRAFT)
    publish_at = models.DateTimeField(
        null=True, blank=True, help_text="When it goes live. Set automatically when published without one."
    )
    updated_at = models.DateTimeField(auto_now=True)
    featured = models.BooleanField(default=False, help_text="Shown in the home page's featured row.")
    seo_description = models.CharField(
        max_length=160, blank=True, help_text="For search engines; written from the public part only."
    )

    objects = ArticleQuerySet.as_manager()

    class Meta:
        ordering = ["-publish_at"]
        indexes = [models.Index(fields=["status", "-publish_at"], name="article_live_idx")]
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
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("articles:detail", args=[self.slug])

    def is_live(self, now=None) -> bool:
        return self.status != Status.DRAFT and self.publish_at is not None and self.publish_at <= (now or timezone.now())
