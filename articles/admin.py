from csp.decorators import csp_update
from django import forms
from django.contrib import admin, messages
from django.db import models
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.defaultfilters import filesizeformat
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from accounts.models import Newsletter
from articles import newsletter
from articles.models import (
    Article,
    Attachment,
    Audience,
    NewsletterSend,
    Person,
    SiteSettings,
    Status,
    Topic,
)
from articles.tasks import newsletter_test_task


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


class AttachmentInline(admin.TabularInline):
    """Files that come with the article: checked by name and content on upload (articles.
    attachments), served only through the article's download link."""

    model = Attachment
    extra = 0
    fields = ["title", "file", "position", "kind", "size_shown", "download_link"]
    readonly_fields = ["kind", "size_shown", "download_link"]
    # A plain file input: the default one links the stored file's own URL, and none exists.
    formfield_overrides = {models.FileField: {"widget": forms.FileInput}}

    @admin.display(description="size")
    def size_shown(self, attachment):
        return filesizeformat(attachment.size) if attachment.pk else "-"

    @admin.display(description="download")
    def download_link(self, attachment):
        if not attachment.pk:
            return "-"
        url = reverse("articles:download", args=[attachment.article.slug, attachment.pk])
        return format_html('<a href="{}">{}</a>', url, attachment.filename)


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
    list_filter = ["status", "visibility", "meter", "topic", "author", "featured"]
    search_fields = ["title", "summary", "intro"]
    prepopulated_fields = {"slug": ["title"]}
    list_select_related = ["topic", "author"]
    autocomplete_fields = ["topic", "author", "reviewer"]
    date_hierarchy = "publish_at"
    actions = ["publish", "unpublish"]
    inlines = [AttachmentInline]
    readonly_fields = ["updated_at", "preview_link"]
    fieldsets = [
        (None, {"fields": ["title", "slug", "topic", "author", "reviewer", "summary"]}),
        ("Text (Markdown)", {"fields": ["intro", "body"]}),
        (
            "Publishing",
            {
                "fields": [
                    "visibility",
                    "meter",
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

    change_form_template = "admin/articles/article/change_form.html"  # adds "Send as newsletter"

    def get_queryset(self, request):
        # the change list never needs the long body
        return super().get_queryset(request).defer("body")

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path(
                "<int:article_id>/newsletter/",
                view(self.newsletter_view),
                name="articles_article_newsletter",
            ),
            path(
                "<int:article_id>/newsletter/<int:newsletter_id>/preview/<str:version>/",
                view(self.newsletter_preview),
                name="articles_article_newsletter_preview",
            ),
            *super().get_urls(),
        ]

    def newsletter_view(self, request, article_id):
        """Send the article to a newsletter: choose the list and audience, preview both versions,
        send a test to yourself, then send now or at the article's publish time."""
        article = get_object_or_404(Article, pk=article_id)
        if not self.has_change_permission(request, article) or not request.user.has_perm(
            "articles.add_newslettersend"
        ):
            raise Http404("No such article.")
        form = SendForm(
            request.POST or None, initial={"when": "at_publish" if not article.is_live() else "now"}
        )
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            if "test" in request.POST:
                newsletter_test_task.delay(article.pk, data["newsletter"].pk, request.user.email)
                self.message_user(
                    request,
                    f"A test of both versions is on its way to {request.user.email}.",
                    messages.SUCCESS,
                )
                return redirect(request.path)
            try:
                send = newsletter.send_create(
                    article=article,
                    newsletter=data["newsletter"],
                    audience=data["audience"],
                    at_publish_time=data["when"] == "at_publish",
                    created_by=request.user,
                    repeat=data["repeat"],
                )
            except newsletter.RepeatSend as refusal:
                form.add_error("repeat", str(refusal))
            except newsletter.CannotSend as refusal:
                form.add_error(None, str(refusal))
            else:
                self.message_user(
                    request,
                    f"Sending to {send.newsletter.name} has been scheduled.",
                    messages.SUCCESS,
                )
                return redirect("admin:articles_newslettersend_change", send.pk)
        chosen = (
            form["newsletter"].value()
            or (form.fields["newsletter"].queryset.first() or Newsletter()).pk
        )
        context = {
            **self.admin_site.each_context(request),
            "title": f"Send “{article.title}” as a newsletter",
            "opts": self.model._meta,
            "original": article,
            "form": form,
            "previews": {
                version: reverse(
                    "admin:articles_article_newsletter_preview", args=[article.pk, chosen, version]
                )
                for version in ("full", "teaser")
            }
            if chosen
            else {},
            "earlier": NewsletterSend.objects.filter(article=article).select_related("newsletter"),
        }
        return TemplateResponse(request, "admin/articles/article/newsletter.html", context)

    @csp_update(
        {"style-src": ["'unsafe-inline'"]}
    )  # mail clients need inline styles: so does the preview
    def newsletter_preview(self, request, article_id, newsletter_id, version):
        """One version of the message as its recipients get it (staff may read the full text)."""
        article = get_object_or_404(Article, pk=article_id)
        if version not in ("full", "teaser") or not self.has_view_permission(request, article):
            raise Http404("No such preview.")
        rendered = newsletter.render_version(
            article, get_object_or_404(Newsletter, pk=newsletter_id), full=version == "full"
        )
        html = rendered.html.replace(newsletter.GREETING_HTML, "Hello Ada,").replace(
            newsletter.UNSUBSCRIBE, "#"
        )
        return HttpResponse(html)

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


class SendForm(forms.Form):
    newsletter = forms.ModelChoiceField(queryset=Newsletter.objects.all(), empty_label=None)
    audience = forms.ChoiceField(
        choices=Audience.choices, widget=forms.RadioSelect, initial=Audience.ALL
    )
    when = forms.ChoiceField(
        choices=[("now", "Now"), ("at_publish", "When the article goes live (its publish time)")],
        widget=forms.RadioSelect,
    )
    repeat = forms.BooleanField(
        required=False,
        label="Yes, send it again to members who already got it from this newsletter",
    )


@admin.register(NewsletterSend)
class NewsletterSendAdmin(admin.ModelAdmin):
    """Each newsletter send and how far it has got; made from an article's "Send as newsletter"."""

    list_display = [
        "article",
        "newsletter",
        "audience",
        "status",
        "send_at",
        "progress",
        "sent",
        "failed",
        "suppressed",
    ]
    list_filter = ["status", "newsletter"]
    list_select_related = ["article", "newsletter"]
    fields = [
        "article",
        "newsletter",
        "audience",
        "status",
        "progress",
        "recipients",
        "sent",
        "failed",
        "suppressed",
        "send_at",
        "started_at",
        "finished_at",
        "created_by",
    ]
    readonly_fields = fields
    actions = ["pause", "resume", "cancel"]
    change_form_template = (
        "admin/articles/newslettersend/change_form.html"  # refreshes while it runs
    )

    def has_add_permission(self, request):
        return False

    def get_urls(self):
        control = self.admin_site.admin_view(self.control_view)
        return [
            path("<int:send_id>/control/", control, name="articles_newslettersend_control"),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # nothing here is edited: the page shows progress, and pause, resume and cancel
        extra_context = {
            **(extra_context or {}),
            "show_save": False,
            "show_save_and_continue": False,
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def control_view(self, request, send_id):
        """The change page's Pause / Resume / Cancel buttons (POST)."""
        send = get_object_or_404(NewsletterSend, pk=send_id)
        action = {
            "pause": newsletter.send_pause,
            "resume": newsletter.send_resume,
            "cancel": newsletter.send_cancel,
        }.get(request.POST.get("action", ""))
        if (
            request.method != "POST"
            or action is None
            or not self.has_change_permission(request, send)
        ):
            raise Http404("No such action.")
        if action(send=send):
            done = {"pause": "paused", "resume": "resumed", "cancel": "cancelled"}[
                request.POST["action"]
            ]
            self.message_user(request, f"The send is {done}.", messages.SUCCESS)
        else:
            self.message_user(request, "The send was not in a state to do that.", messages.WARNING)
        return redirect("admin:articles_newslettersend_change", send.pk)

    def get_queryset(self, request):
        return super().get_queryset(request).defer("article__body")

    @admin.display(description="Progress")
    def progress(self, send):
        total = max(send.recipients, send.done_count)
        return format_html(
            '<progress value="{}" max="{}" aria-label="{} of {} done">{} of {}</progress> {} of {}',
            send.done_count,
            total or 1,
            send.done_count,
            total,
            send.done_count,
            total,
            send.done_count,
            total,
        )

    @admin.action(description="Pause the selected sends")
    def pause(self, request, queryset):
        paused = sum(newsletter.send_pause(send=send) for send in queryset)
        self.message_user(
            request, f"Paused {paused} send(s): what is waiting stays waiting.", messages.SUCCESS
        )

    @admin.action(description="Resume the selected sends")
    def resume(self, request, queryset):
        resumed = sum(newsletter.send_resume(send=send) for send in queryset)
        self.message_user(request, f"Resumed {resumed} send(s).", messages.SUCCESS)

    @admin.action(description="Cancel the selected sends")
    def cancel(self, request, queryset):
        cancelled = sum(newsletter.send_cancel(send=send) for send in queryset)
        self.message_user(
            request, f"Cancelled {cancelled} send(s): nothing more will go.", messages.SUCCESS
        )
