from datetime import datetime, time

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef
from django.utils import timezone

from accounts import entitlements
from accounts.models import TrialClaim, User
from accounts.services import trial_extend
from allauth.account.models import EmailAddress


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


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["-date_joined"]
    search_fields = ["email", "name"]
    list_display = [
        "email",
        "verified",
        "trial_started_at",
        "trial_ends_at",
        "access_state",
        "is_staff",
    ]
    list_filter = ["is_staff", "is_active", "trial_ends_at"]
    readonly_fields = ["date_joined", "last_login", "trial_ended_at", "access_state"]
    action_form = ExtendTrialForm
    actions = ["extend_trial", "grant_complimentary_access"]
    fieldsets = [
        (None, {"fields": ["email", "name", "password"]}),
        (
            "Membership",
            {"fields": ["trial_started_at", "trial_ends_at", "trial_ended_at", "access_state"]},
        ),
        (
            "Permissions",
            {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]},
        ),
        ("Dates", {"fields": ["date_joined", "last_login"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})]

    def get_queryset(self, request):
        verified = EmailAddress.objects.filter(user=OuterRef("pk"), verified=True)
        return super().get_queryset(request).annotate(is_verified=Exists(verified))

    def get_changelist_instance(self, request):
        changelist = super().get_changelist_instance(request)
        entitlements.load_access(
            changelist.result_list
        )  # the Access column: one query for the page
        return changelist

    @admin.display(boolean=True, description="Verified", ordering="is_verified")
    def verified(self, user):
        return user.is_verified

    @admin.display(description="Access")
    def access_state(self, user):
        return entitlements.for_user(
            user, verified=getattr(user, "is_verified", None)
        ).state.replace("_", " ")

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
            trial_extend(user=user, days=days)
        self.message_user(
            request, f"Extended {queryset.count()} trial(s) by {days} day(s).", messages.SUCCESS
        )

    @admin.action(description="Grant complimentary access until a date")
    def grant_complimentary_access(self, request, queryset):
        from billing.services import complimentary_grant

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
            complimentary_grant(
                user=user, until=until, reason="Granted in the admin", granted_by=request.user
            )
        self.message_user(
            request,
            f"Granted complimentary access to {queryset.count()} member(s) until {day:%-d %B %Y}.",
            messages.SUCCESS,
        )


@admin.register(TrialClaim)
class TrialClaimAdmin(admin.ModelAdmin):
    list_display = ["claimed_at", "user"]
    readonly_fields = ["email_digest", "user", "claimed_at"]

    def has_add_permission(self, request):
        return False
