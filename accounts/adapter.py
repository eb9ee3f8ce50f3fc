"""allauth, told about Masthead: its account mail speaks as the brand, a new member is
greeted once, and an unconfirmed sign-up leads back to the article it started from.

settings.ACCOUNT_ADAPTER names this class. allauth renders every account mail through
`send_mail` (verification, password reset, email change notices, login codes, two-factor
notices, "account already exists"), from templates/account/email/ and templates/mfa/email/:
a subject, a plain-text body and an HTML body on the member mails' layout (emails/base.html).
"""

from types import SimpleNamespace

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.models import EmailAddress
from allauth.core import context as allauth_context
from django.conf import settings
from django.contrib import messages
from django.shortcuts import resolve_url
from django.utils.http import urlencode

from accounts import signup

WELCOME_TEMPLATE = "account/messages/email_confirmed.txt"
SIGNED_IN_TEMPLATE = "account/messages/logged_in.txt"
SENT_TEMPLATE = "account/messages/email_confirmation_sent.txt"


class AccountAdapter(DefaultAccountAdapter):
    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        site = settings.SITE_URL
        request = allauth_context.request
        # allauth builds links from the request's host; ours come from SITE_URL, as the member
        # mails' do, so a forged Host header cannot put its own host in a password-reset link.
        origin = request.build_absolute_uri("/").rstrip("/") if request else None
        context = {
            key: site + value[len(origin) :]
            if origin and isinstance(value, str) and value.startswith(origin + "/")
            else value
            for key, value in context.items()
        }
        super().send_mail(
            template_prefix,
            email,
            {
                **context,
                # allauth's own templates say "Hello from {{ current_site.name }}", the Site
                # row (the host name by default): ours never use it, and it reads as the brand
                "current_site": SimpleNamespace(name=settings.SITE_NAME, domain=settings.SITE_NAME),
                "site_name": settings.SITE_NAME,
                "site_url": site,
                "account_url": f"{site}/account/",
                "subject_template": f"{template_prefix}_subject.txt",
            },
        )

    def get_email_verification_redirect_url(self, email_address) -> str:
        """Where a confirmed link lands when allauth did not sign the reader in.

        That is when the link is opened in another browser than the one that signed up, or
        after ACCOUNT_LOGIN_TIMEOUT: sign in, then back to the article they signed up from.
        """
        url = resolve_url(super().get_email_verification_redirect_url(email_address))
        request = allauth_context.request
        next_url = signup.next_url(request) if request else ""
        if next_url and not request.user.is_authenticated:
            return f"{url}?{urlencode({'next': next_url})}"
        return url

    def respond_email_verification_sent(self, request, user):
        # A member who signs in before confirming (allauth has just mailed them a fresh link)
        # gets the same "check your inbox" as after signing up. A sign-up is remembered by
        # its form already, also when it made no account (user None here).
        if user is not None:
            signup.remember(
                request,
                email=user.email,
                user_id=user.pk,
                next_url=request.POST.get("next", ""),
            )
        return super().respond_email_verification_sent(request, user)

    def add_message(
        self,
        request,
        level,
        message_template=None,
        message_context=None,
        extra_tags="",
        message=None,
    ):
        if message_template == SENT_TEMPLATE and (message_context or {}).get("signup"):
            return  # the "check your inbox" page and the paywall say where the link went
        if message_template == SIGNED_IN_TEMPLATE and getattr(request, "_member_welcomed", False):
            return  # "Welcome", just said, is greeting enough: no second "signed in as" under it
        if message_template == WELCOME_TEMPLATE:
            welcome = _welcome(email=(message_context or {}).get("email"))
            if welcome:
                request._member_welcomed = True
                messages.add_message(request, messages.SUCCESS, welcome)
                return
        super().add_message(request, level, message_template, message_context, extra_tags, message)


def _welcome(*, email: str | None) -> str | None:
    """The greeting for a member who just confirmed the address they signed up with.

    None for an address confirmed later (an email change), which keeps allauth's plain
    "confirmed": only a member who has never signed in is new, since mandatory verification
    lets nobody sign in before confirming.
    """
    address = (
        EmailAddress.objects.filter(email__iexact=email or "", verified=True)
        .select_related("user__membership")
        .first()
    )
    if address is None or address.user.last_login is not None:
        return None
    membership = address.user.membership
    if settings.TRIAL_DAYS and membership.trial_started_at is not None:
        return f"Welcome — your {settings.TRIAL_DAYS}-day trial has started."
    return f"Welcome to {settings.SITE_NAME} — your address is confirmed."
