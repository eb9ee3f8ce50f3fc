import logging
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from accounts import views as account_views
from billing import services, stripe_api
from billing.models import Interval, Plan, SubscriptionStatus

log = logging.getLogger(__name__)

OUTAGE_MESSAGE = "We couldn't reach our payment provider. Nothing was charged; please try again."
NOT_READY_MESSAGE = (
    "Subscriptions to this plan are not open yet. Nothing was charged; please try again later."
)


class CheckoutForm(forms.Form):
    # a ModelChoiceField, so any malformed or unknown plan id is a form error, never a 500
    plan = forms.ModelChoiceField(queryset=Plan.objects.active())


def _safe_next(request, value: str | None) -> str:
    """`next` if it is a path on this site (the article the reader came from), else ""."""
    value = (value or "").strip()
    if not value.startswith("/") or not url_has_allowed_host_and_scheme(
        value, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return ""
    return value


def _with_next(url: str, next_url: str) -> str:
    if not next_url:
        return url
    return url + ("&" if "?" in url else "?") + urlencode({"next": next_url})


def pricing(request):
    plans = list(Plan.objects.active())
    monthly = min(
        (p for p in plans if p.interval == Interval.MONTH), key=lambda p: p.amount, default=None
    )
    offers = [{"plan": plan, "saving": plan.saving_against(monthly)} for plan in plans]
    if request.GET.get("checkout") == "cancelled":
        messages.info(request, "Checkout was cancelled. Nothing was charged.")
    # In card mode there is no trial at sign-up: the plans' own trials show instead.
    trial_days = settings.TRIAL_DAYS if settings.TRIAL_MODE == "no_card" else None
    context = {
        "offers": offers,
        "trial_days": trial_days,
        "trial_mode": settings.TRIAL_MODE,
        "next": _safe_next(request, request.GET.get("next")),
    }
    if request.user.is_authenticated:
        # Subscribing during the free trial: the first payment waits for the trial's end.
        context["charged_from"] = services.checkout_trial_end(user=request.user)
    else:
        # A visitor subscribes by creating an account first (Checkout needs a member), then comes
        # back to these plans; a trial needs no plan, so it leads straight back to the article.
        here = _with_next(reverse("billing:pricing"), context["next"])
        context["signup_url"] = _with_next(reverse("account_signup"), here)
        context["trial_url"] = _with_next(reverse("account_signup"), context["next"] or here)
        context["login_url"] = _with_next(reverse("account_login"), here)
    return render(request, "billing/pricing.html", context)


@require_POST
def checkout(request):
    # The article the reader was reading, carried through Checkout so the success page leads back.
    next_url = _safe_next(request, request.POST.get("next"))
    pricing_url = _with_next(reverse("billing:pricing"), next_url)
    if not request.user.is_authenticated:
        # Back to the plans after signing in: this POST cannot be replayed as a GET.
        return redirect_to_login(pricing_url)
    form = CheckoutForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose one of the plans below to subscribe.")
        return redirect(pricing_url)
    plan = form.cleaned_data["plan"]
    success_url = settings.SITE_URL + _with_next(
        reverse("billing:success") + "?session_id={CHECKOUT_SESSION_ID}", next_url
    )
    cancel_url = settings.SITE_URL + _with_next(
        reverse("billing:pricing") + "?checkout=cancelled", next_url
    )
    try:
        url = services.checkout_start(
            user=request.user, plan=plan, success_url=success_url, cancel_url=cancel_url
        )
    except services.AlreadySubscribed:
        messages.info(request, "You already have a subscription. You can change or cancel it here.")
        return redirect("accounts:account")
    except services.PlanNotInStripe:
        log.error("Plan %s has no Stripe price: run manage.py stripe_setup", plan.lookup_key)
        messages.error(request, NOT_READY_MESSAGE)
        return redirect(pricing_url)
    except stripe_api.StripeError:
        log.exception("Stripe failed while starting checkout for member %s", request.user.pk)
        messages.error(request, OUTAGE_MESSAGE)
        return redirect(pricing_url)
    return redirect(url)


@login_required
def success(request):
    session_id = request.GET.get("session_id", "")
    if not session_id.startswith("cs_"):
        raise Http404("No such checkout session.")
    try:
        session = services.checkout_confirm(user=request.user, session_id=session_id)
    except stripe_api.InvalidRequestError:
        raise Http404("No such checkout session.") from None
    except stripe_api.StripeError:
        # The webhook will bring the subscription: say so rather than ask to pay again.
        log.exception("Stripe failed while confirming checkout %s", session_id)
        context = {
            "pending": True,
            "unconfirmed": True,
            "next": _safe_next(request, request.GET.get("next")),
        }
        return render(request, "billing/success.html", context)
    if session is None:
        raise Http404("No such checkout session.")
    subscription = services.checkout_subscription(user=request.user, session=session)
    if subscription is not None and subscription.status == SubscriptionStatus.INCOMPLETE:
        # The first payment waits for the bank (3-D Secure): not subscribed yet, and not
        # "nothing to do" either. Stripe's hosted invoice page finishes it.
        return render(
            request,
            "billing/success.html",
            {"incomplete": True, "subscription": subscription},
        )
    paid = (
        session.get("payment_status") in ("paid", "no_payment_required")
        and session.get("status") == "complete"
    )
    context = {"pending": not paid, "next": _safe_next(request, request.GET.get("next"))}
    return render(request, "billing/success.html", context)


@require_POST
def portal(request):
    if not request.user.is_authenticated:
        return redirect_to_login(reverse("accounts:account"))
    return_url = settings.SITE_URL + reverse("accounts:account")
    try:
        url = services.portal_start(user=request.user, return_url=return_url)
    except stripe_api.StripeError:
        log.exception("Stripe failed while opening the portal for member %s", request.user.pk)
        messages.error(request, OUTAGE_MESSAGE)
        return redirect("accounts:account")
    if url is None:
        messages.info(
            request, "You have no billing details with us yet. Choose a plan to subscribe."
        )
        return redirect("billing:pricing")
    return redirect(url)


RESUMED_MESSAGE = "Your subscription will continue. Thank you for staying."
RESUME_FAILED_MESSAGE = (
    "We couldn't resume your subscription with our payment provider just now, so it still ends "
    "as planned. Nothing was changed; please try again."
)


@require_POST
def resume(request):
    """Resume on the account page: the member's pending cancellation is stopped at Stripe."""
    if not request.user.is_authenticated:
        return redirect_to_login(reverse("accounts:account") + "#resume")
    try:
        subscription = services.subscription_resume(user=request.user)
    except services.NothingToResume as nothing:
        # A second click after the first went through, or a subscription that has ended.
        if nothing.continuing:
            messages.success(request, RESUMED_MESSAGE)
        else:
            messages.info(request, "Your subscription has ended. Choose a plan to subscribe again.")
            return redirect("billing:pricing")
        return redirect(reverse("accounts:account") + "#billing")
    except stripe_api.StripeError:
        log.exception("Stripe failed while resuming for member %s", request.user.pk)
        messages.error(request, RESUME_FAILED_MESSAGE)
        # The account page again, as it was, with the message and the Resume button to retry.
        response = account_views.account(request)
        response.status_code = 502
        return response
    if subscription.ends_at is None:
        messages.success(request, RESUMED_MESSAGE)
    else:
        log.error("Stripe still ends subscription %s after resuming", subscription)
        messages.error(request, RESUME_FAILED_MESSAGE)
    return redirect(reverse("accounts:account") + "#billing")


@csrf_exempt  # Stripe cannot send a CSRF token; the signature check below stands in for it
@require_POST
def webhook(request):
    if not settings.STRIPE_WEBHOOK_SECRET:
        # Going live, before the secret `stripe_setup` printed is set: nothing can be verified.
        # 400, so Stripe keeps the event and retries it (for up to three days).
        log.error("Stripe webhook refused: STRIPE_WEBHOOK_SECRET is not set")
        return HttpResponseBadRequest("Webhook secret not configured.")
    try:
        event = stripe_api.webhook_event_construct(
            payload=request.body, signature=request.headers.get("Stripe-Signature")
        )
    except stripe_api.MalformedEvent as problem:
        # Signed by Stripe (or whoever holds our secret) but not an event: kept for staff to see.
        services.webhook_event_malformed(payload=request.body, problem=str(problem))
        return HttpResponseBadRequest("Not a Stripe event.")
    except (ValueError, stripe_api.SignatureVerificationError):
        return HttpResponseBadRequest("Invalid signature.")
    row = services.webhook_event_record(event=event)
    try:
        services.webhook_event_process(webhook_event=row)
    except services.EventInProgress:
        # Another delivery of it is being applied right now. Not a 2xx: if that one fails,
        # Stripe must still deliver it again.
        return HttpResponse("Being processed; retry.", status=409)
    except Exception:
        # 500 so Stripe delivers it again; the row keeps the error for the admin.
        log.exception("Stripe event %s (%s) failed", event["id"], event["type"])
        return HttpResponse("Processing failed; retry.", status=500)
    # A 2xx for every event, handled or not, new or a duplicate: otherwise Stripe keeps trying.
    return HttpResponse("OK")
