from django.contrib import admin, messages
from django.db.models import Count, Min

from billing import services
from billing.models import MALFORMED_EVENT_TYPE, Customer, Plan, Subscription, WebhookEvent


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "display_price",
        "interval",
        "lookup_key",
        "trial_days",
        "active",
        "stripe_price_id",
    ]
    list_filter = ["active", "interval"]
    readonly_fields = ["stripe_price_id", "stripe_product_id"]


class ReadOnlyAdmin(admin.ModelAdmin):
    """Stripe's records: staff look, Stripe (through the webhook) writes."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdmin):
    list_display = [
        "stripe_event_id",
        "type",
        "received_at",
        "processed_at",
        "attempts",
        "last_error",
    ]
    list_filter = ["type", ("processed_at", admin.EmptyFieldListFilter)]
    search_fields = ["stripe_event_id", "type"]
    actions = ["reprocess"]

    def changelist_view(self, request, extra_context=None):
        # What to watch (README, "Going live"): when an event last went through, and what waits.
        # A webhook failing for hours shows here as an old time above a growing count.
        events = WebhookEvent.objects.exclude(type=MALFORMED_EVENT_TYPE)
        last = events.filter(processed_at__isnull=False).order_by("-processed_at").first()
        waiting = events.filter(processed_at__isnull=True).aggregate(
            count=Count("pk"), oldest=Min("received_at")
        )
        extra_context = {
            **(extra_context or {}),
            "last_processed": last.processed_at if last else None,
            "waiting": waiting,
        }
        return super().changelist_view(request, extra_context)

    @admin.action(description="Reprocess (re-fetch from Stripe and apply)")
    def reprocess(self, request, queryset):
        done = failed = 0
        for event in queryset:
            # Marked unprocessed first, so the handler runs again; it re-fetches Stripe's
            # current state, so applying it twice changes nothing and mail keys dedupe.
            WebhookEvent.objects.filter(pk=event.pk).update(processed_at=None)
            try:
                services.webhook_event_process(webhook_event=event)
                done += 1
            except Exception as error:
                failed += 1
                self.message_user(request, f"{event.stripe_event_id}: {error}", messages.ERROR)
        if done:
            self.message_user(request, f"Reprocessed {done} event(s).", messages.SUCCESS)


@admin.register(Subscription)
class SubscriptionAdmin(ReadOnlyAdmin):
    list_display = [
        "stripe_subscription_id",
        "user",
        "plan",
        "status",
        "current_period_end",
        "cancel_at_period_end",
        "cancel_at",
    ]
    list_filter = ["status", "cancel_at_period_end", "plan"]
    search_fields = ["stripe_subscription_id", "user__email"]


@admin.register(Customer)
class CustomerAdmin(ReadOnlyAdmin):
    list_display = ["stripe_customer_id", "user", "created_at"]
    search_fields = ["stripe_customer_id", "user__email"]
