from django.conf import settings
from django.shortcuts import render

from billing.models import Plan


def pricing(request):
    return render(request, "billing/pricing.html", {"plans": Plan.objects.active(), "trial_days": settings.TRIAL_DAYS})
