"""The sign-up this browser made and has not confirmed yet, remembered in its session.

allauth signs nobody in before they confirm their address (verification is mandatory), so
without this a reader who signs up and goes back to the article sees the stranger's paywall
again. The session keeps the address they gave, the account it made (if it made one), and
the page they were reading; the paywall and the "check your inbox" page show the address,
masked, with a Resend button and a way to correct a wrong address.

A sign-up with an address that already has an account makes no account (allauth mails the
owner instead, ACCOUNT_PREVENT_ENUMERATION): it is remembered the same way, so this browser
sees exactly what it would for a new address.

Only a request that carries a session cookie is looked at, and such a page is never shared
by a cache (articles/caching.py): a signed-out reader without one gets the public page.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from allauth.account import app_settings as allauth_settings
from allauth.account.internal.flows.email_verification import (
    consume_email_verification_rate_limit,
    send_verification_email_to_address,
)
from allauth.account.internal.stagekit import pop_login
from allauth.account.models import EmailAddress
from allauth.core import ratelimit
from django.conf import settings
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

SESSION_KEY = "pending_signup"


@dataclass(frozen=True)
class PendingSignup:
    email: str
    user_id: int | None  # None: the address already had an account, and none was made
    next_url: str  # the page the reader signed up from, or ""

    @property
    def masked_email(self) -> str:
        """t…@example.com: enough to spot a typo in the domain, not to read off a screen."""
        local, _, domain = self.email.partition("@")
        return f"{local[:1]}…@{domain}"


def remember(request, *, email: str, user_id: int | None, next_url: str) -> None:
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = ""
    request.session[SESSION_KEY] = {
        "email": email,
        "user_id": user_id,
        "next": next_url,
        "at": timezone.now().isoformat(),
    }


def forget(request) -> None:
    request.session.pop(SESSION_KEY, None)


def next_url(request) -> str:
    """The page the browser's sign-up started from, confirmed or not ("" if none)."""
    return (request.session.get(SESSION_KEY) or {}).get("next", "")


def forget_pending_login(request) -> None:
    """Drop allauth's own record of the login waiting for confirmation (its "stash")."""
    pop_login(request)


def pending(request) -> PendingSignup | None:
    """The browser's unconfirmed sign-up, if it has one that can still be confirmed."""
    if request.user.is_authenticated or settings.SESSION_COOKIE_NAME not in request.COOKIES:
        return None
    data = request.session.get(SESSION_KEY)
    if not data:
        return None
    made_at = datetime.fromisoformat(data["at"])
    expired = timezone.now() - made_at > timedelta(
        days=allauth_settings.EMAIL_CONFIRMATION_EXPIRE_DAYS
    )
    confirmed = (
        data["user_id"] is not None
        and EmailAddress.objects.filter(user_id=data["user_id"], verified=True).exists()
    )
    if expired or confirmed:  # confirmed in another browser, say: nothing left to wait for
        forget(request)
        return None
    return PendingSignup(email=data["email"], user_id=data["user_id"], next_url=data["next"])


def resend(request, signup: PendingSignup) -> bool:
    """Mail the link again, unless sent too recently. Returns whether a mail went.

    Limited by allauth's own limit on verification mail per address ("confirm_email", one
    per ACCOUNT_EMAIL_CONFIRMATION_COOLDOWN) and by ours per browser address
    ("signup_resend" in ACCOUNT_RATE_LIMITS), so the button cannot flood an inbox.
    """
    if not consume_email_verification_rate_limit(request, signup.email, dry_run=True):
        return False
    if not ratelimit.consume(request, action="signup_resend"):
        return False
    if signup.user_id is None:
        # the address has an account already: as at sign-up, its owner hears of it again
        address = EmailAddress(user=None, email=signup.email)
    else:
        address = EmailAddress.objects.filter(
            user_id=signup.user_id, email__iexact=signup.email, verified=False
        ).first()
        if address is None:
            return False  # the account is gone, or its address changed: nothing to resend
    return send_verification_email_to_address(request, address, signup=True)
