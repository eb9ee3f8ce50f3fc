from django.contrib import admin, messages
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from articles.models import Article, Person, SiteSettings, Status, Topic


@admin.register(Topic)
class TopicAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    search_fields = ["name"]


@admin.register(Person)
class PersonAdmin(admin.ModelAdmin):
    list_display = ["name", "role"]
    prepopulated_fields = {"slug": ["name"]}
    search_fields = ["name", "role"]


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    list_display = [
        "title",
        "status",
        "visibility",
        "topic",
        "author",
        "publish_at",
        "featured",
        "preview_link",
    ]
    list_filter = ["status", "visibility", "topic", "author", "featured"]
    search_fields = ["title", "summary", "intro"]
    prepopulated_fields = {"slug": ["title"]}
    list_select_related = ["topic", "author"]
    autocomplete_fields = ["topic", "author", "reviewer"]
    date_hierarchy = "publish_at"
    actions = ["publish", "unpublish"]
    readonly_fields = ["updated_at", "preview_link"]
    fieldsets = [
        (None, {"fields": ["title", "slug", "topic", "author", "reviewer", "summary"]}),
        ("Text (Markdown)", {"fields": ["intro", "body"]}),
        (
            "Publishing",
            {
                "fields": [
                    "visibility",
                    "status",
                    "publish_at",
                    "featured",
                    "updated_at",
                    "preview_link",
                ]
            },
        ),
        ("Search engines", {"fields": ["seo_description"]}),
    ]

    def get_queryset(self, request):
        # the change list never needs the long body
        return super().get_queryset(request).defer("body")

    @admin.display(description="Preview")
    def preview_link(self, article):
        if not article.pk:
            return "—"
        return format_html(
            '<a href="{}" target="_blank" rel="noopener">View on site</a>',
            article.get_absolute_url(),
        )

    @admin.action(description="Publish now")
    def publish(self, request, queryset):
        now = timezone.now()
        count = 0
        for article in queryset.exclude(status=Status.PUBLISHED):
            article.status = Status.PUBLISHED
            if article.publish_at is None or article.publish_at > now:
                article.publish_at = now
            article.save(update_fields=["status", "publish_at", "updated_at"])
            count += 1
        self.message_user(request, f"Published {count} article(s).", messages.SUCCESS)

    @admin.action(description="Unpublish (back to draft)")
    def unpublish(self, request, queryset):
        count = queryset.exclude(status=Status.DRAFT).update(
            status=Status.DRAFT, updated_at=timezone.now()
        )
        self.message_user(request, f"Unpublished {count} article(s).", messages.SUCCESS)


@admin.register(SiteSettings)
class SiteSettingsAdmin(admin.ModelAdmin):
    """One row: the list page goes straight to it, and it can be neither added twice nor deleted."""

    fieldsets = [
        ("Landing page", {"fields": ["headline", "subheadline"]}),
        ("Social proof", {"fields": ["trusted_by", "members_count", "countries_count"]}),
        ("Ad slot", {"fields": ["ad_snippet"]}),
    ]

    def changelist_view(self, request, extra_context=None):
        settings_row = SiteSettings.load()
        return redirect(reverse("admin:articles_sitesettings_change", args=[settings_row.pk]))

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
