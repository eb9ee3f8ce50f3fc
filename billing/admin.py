from django.contrib import admin

from billing.models import Plan


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = ["name", "display_price", "interval", "active"]
    list_filter = ["active", "interval"]
