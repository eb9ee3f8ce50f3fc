from datetime import datetime, time

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.contrib.admin.widgets import AdminSplitDateTime
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.core.exceptions import ValidationError
from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts import entitlements, services
from accounts.models import (
    ComplimentaryAccess,
    MeterRead,
    Newsletter,
    Suppression,
    TrialClaim,
    User,
    meter_month,
)

EXTEND_DAYS = forms.IntegerField(min_value=1, max_value=365)


class ExtendTrialForm(ActionForm):
    # A CharField, checked by the action itself: the admin validates this form before running
    # any action, and an invalid number there would only say "No action selected".
    days = forms.CharField(
        required=False,
        widget=forms.NumberInput(attrs={"min": 1, "max": 365}),
        help_text="Days, for “Extend trial”.",
    )
    until = forms.CharField(
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Date, for “Grant complimentary access”.",
    )


class MemberChangeForm(UserChangeForm):
    """The member, and their trial as staff may set it by hand (saved through accounts.services)."""

    trial_started_at = forms.SplitDateTimeField(
        required=False, widget=AdminSplitDateTime, label="Trial started at"
    )
    trial_ends_at = forms.SplitDateTimeField(
        required=False, widget=AdminSplitDateTime, label="Trial ends at"
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        membership = services.membership_for(user_id=self.instance.pk)
        self.fields["trial_started_at"].initial = membership.trial_started_at
        self.fields["trial_ends_at"].initial = membership.trial_ends_at

    def clean(self):
        cleaned = super().clean()
        if (cleaned.get("trial_started_at") is None) != (cleaned.get("trial_ends_at") is None):
            raise ValidationError("A trial needs both its start and its end (or neither).")
        return cleaned


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    form = MemberChangeForm
    ordering = ["-date_joined"]
    search_fields = ["email", "name"]
    list_display = [
        "email",
        "verified",
        "trial_started_at",
        "trial_ends_at",
        "access_state",
        "meter_reads_this_month",
        "is_staff",
    ]
    list_filter = ["is_staff", "is_active", "membership__trial_ends_at"]
    list_select_related = ["membership"]  # the Access column: no query per row
    readonly_fields = [
        "date_joined",
        "last_login",
        "trial_ended_at",
        "access_state",
        "meter_reads_this_month",
    ]
    action_form = ExtendTrialForm
    actions = ["extend_trial", "grant_complimentary_access"]
    fieldsets = [
        (None, {"fields": ["email", "name", "password"]}),
        (
            "Membership",
            {
                "fields": [
                    "trial_started_at",
                    "trial_ends_at",
                    "trial_ended_at",
                    "access_state",
                    "meter_reads_this_month",
                ]
            },
        ),
        (
            "Permissions",
            {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]},
        ),
        ("Dates", {"fields": ["date_joined", "last_login"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})]

    def get_queryset(self, request):
        # The month's reads as a subquery per row shown (the (member, month) index answers
        # it): no join and grouping over every member for a page of a hundred.
        reads = (
            MeterRead.objects.filter(user=OuterRef("pk"), month=meter_month(timezone.now()))
            .order_by()
            .values("user")
            .annotate(n=Count("pk"))
            .values("n")
        )
        return (
            super()
            .get_queryset(request)
            .select_related("membership")
            .annotate(meter_reads_used=Coalesce(Subquery(reads, output_field=IntegerField()), 0))
        )

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change:
            data = form.cleaned_data
            services.trial_set(
                user_id=obj.pk, started_at=data["trial_started_at"], ends_at=data["trial_ends_at"]
            )

    @admin.display(boolean=True, description="Verified", ordering="membership__email_verified_at")
    def verified(self, user):
        return self._membership(user).email_verified_at is not None

    @admin.display(description="Trial started at", ordering="membership__trial_started_at")
    def trial_started_at(self, user):
        return self._membership(user).trial_started_at

    @admin.display(description="Trial ends at", ordering="membership__trial_ends_at")
    def trial_ends_at(self, user):
        return self._membership(user).trial_ends_at

    @admin.display(description="Trial end processed at")
    def trial_ended_at(self, user):
        return self._membership(user).trial_ended_at

    @admin.display(description="Access")
    def access_state(self, user):
        return entitlements.for_user(user).state.replace("_", " ")

    @admin.display(description="Free reads this month", ordering="meter_reads_used")
    def meter_reads_this_month(self, user):
        """Premium articles read on the meter this calendar month (METERED_FREE_ARTICLES)."""
        used = getattr(user, "meter_reads_used", None)
        if used is None:  # the add form's blank member
            return "-"
        allowance = settings.METERED_FREE_ARTICLES
        return f"{used} of {allowance}" if allowance else str(used)

    @staticmethod
    def _membership(user):
        return getattr(user, "membership", None) or services.membership_for(user_id=user.pk)

    @admin.action(description="Extend trial by N days")
    def extend_trial(self, request, queryset):
        try:
            days = EXTEND_DAYS.clean(request.POST.get("days"))
        except ValidationError:
            self.message_user(
                request, "Enter a number of days from 1 to 365 to extend trials by.", messages.ERROR
            )
            return
        for user in queryset:
            services.trial_extend(user=user, days=days)
        self.message_user(
            request, f"Extended {queryset.count()} trial(s) by {days} day(s).", messages.SUCCESS
        )

    @admin.action(description="Grant complimentary access until a date")
    def grant_complimentary_access(self, request, queryset):
        try:
            day = forms.DateField().clean(request.POST.get("until"))
        except ValidationError:
            day = None
        # Through the end of the chosen day, in the site's time zone.
        until = timezone.make_aware(datetime.combine(day, time.max)) if day else None
        if until is None or until <= timezone.now():
            self.message_user(
                request,
                "Choose a date in the future to grant complimentary access until.",
                messages.ERROR,
            )
            return
        for user in queryset:
            services.complimentary_grant(
                user=user, until=until, reason="Granted in the admin", granted_by=request.user
            )
        self.message_user(
            request,
            f"Granted complimentary access to {queryset.count()} member(s) until {day:%-d %B %Y}.",
            messages.SUCCESS,
        )


@admin.register(ComplimentaryAccess)
class ComplimentaryAccessAdmin(admin.ModelAdmin):
    """Granting is adding a row: the member, from and until when, and why. It outranks any subscription.

    Every change goes on to the member's Membership (accounts.services), which is what access reads.
    """

    list_display = ["user", "starts_at", "until", "reason", "granted_by", "ended_at"]
    search_fields = ["user__email", "reason"]
    raw_id_fields = ["user"]
    actions = ["end_now"]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.granted_by = request.user
        super().save_model(request, obj, form, change)
        services.complimentary_refresh(user_id=obj.user_id)
        if change and "user" in form.changed_data and form.initial.get("user"):
            services.complimentary_refresh(
                user_id=form.initial["user"]
            )  # moved from another member

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        services.complimentary_refresh(user_id=obj.user_id)

    def delete_queryset(self, request, queryset):
        user_ids = set(queryset.values_list("user_id", flat=True))
        super().delete_queryset(request, queryset)
        for user_id in user_ids:
            services.complimentary_refresh(user_id=user_id)

    @admin.action(description="End complimentary access now")
    def end_now(self, request, queryset):
        ended = services.complimentary_end_now(
            grant_ids=list(queryset.values_list("pk", flat=True))
        )
        self.message_user(request, f"Ended {ended} grant(s).", messages.SUCCESS)


@admin.register(TrialClaim)
class TrialClaimAdmin(admin.ModelAdmin):
    list_display = ["claimed_at", "user"]
    readonly_fields = ["email_digest", "user", "claimed_at"]

    def has_add_permission(self, request):
        return False


@admin.register(Newsletter)
class NewsletterAdmin(admin.ModelAdmin):
    """The lists members choose on their account page; an article is sent to one from its own admin page."""

    list_display = ["name", "slug", "cadence", "is_default", "subscriber_count"]
    prepopulated_fields = {"slug": ["name"]}
    fields = ["name", "slug", "description", "sender_name", "cadence", "is_default"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(subscriber_count=Count("subscriptions"))

    @admin.display(description="Subscribers", ordering="subscriber_count")
    def subscriber_count(self, newsletter):
        return newsletter.subscriber_count


@admin.register(Suppression)
class SuppressionAdmin(admin.ModelAdmin):
    """Addresses that get no newsletter: bounces and complaints reported by the mail provider,
    unsubscribes from everything, and any staff add by hand. Account mail still reaches them."""

    list_display = ["email", "reason", "detail", "created_at"]
    list_filter = ["reason"]
    search_fields = ["email"]
    readonly_fields = ["created_at"]
