"""Requiring two-factor authentication of staff before they use the admin."""

from allauth.mfa.utils import is_mfa_enabled
from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse


class StaffMFAMiddleware:
    """With MFA_REQUIRED_FOR_STAFF on, staff without an authenticator are sent to set one up
    before any admin page; everything else (reading, the account pages) stays open to them."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if (
            settings.MFA_REQUIRED_FOR_STAFF
            and request.path.startswith(reverse("admin:index"))
            and request.user.is_authenticated
            and request.user.is_staff
            and not is_mfa_enabled(request.user)
        ):
            messages.warning(request, "Set up two-factor authentication before using the admin.")
            return redirect("mfa_activate_totp")
        return self.get_response(request)
