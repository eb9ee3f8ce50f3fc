from allauth.core import ratelimit
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from accounts import services, signup
from accounts.forms import NewsletterPreferencesForm, NewsletterSignupForm
from accounts.models import Newsletter


@login_required
def account(request):
    chosen = Newsletter.objects.filter(subscriptions__user=request.user)
    context = {
        "access": request.access,
        "preferences_form": NewsletterPreferencesForm(initial={"newsletters": chosen}),
    }
    return render(request, "accounts/account.html", context)


@require_POST
@login_required
def email_preferences(request):
    form = NewsletterPreferencesForm(request.POST)
    if form.is_valid():  # checkboxes of the newsletters that exist: an absent box means "no"
        services.newsletter_preferences_set(
            user=request.user, newsletters=form.cleaned_data["newsletters"]
        )
        messages.success(request, "Your email preferences are saved.")
    else:
        messages.error(request, "Those newsletters could not be saved; please choose again.")
    return redirect("accounts:account")


# The sign-up form sits in the footer and under every article, on pages shared by every signed-out
# reader (and by CDNs), which therefore carry no per-visitor CSRF token. Nothing changes without the
# owner of the address: a forged POST can only mail that address a confirmation link, which anyone
# could ask for by typing the address here; the rate limit bounds how often.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def newsletter_signup(request):
    """/newsletter/subscribe/: an email address, for the free newsletter (double opt-in)."""
    if request.method == "GET":
        form = NewsletterSignupForm(initial={"newsletter": request.GET.get("newsletter", "")})
        return render(request, "accounts/newsletter_signup.html", {"form": form})
    form = NewsletterSignupForm(request.POST)
    if not form.is_valid():
        return render(request, "accounts/newsletter_signup.html", {"form": form}, status=400)
    if not ratelimit.consume(request, action="newsletter_signup"):
        form.add_error(None, "Too many sign-ups from here just now. Please try again in a while.")
        return render(request, "accounts/newsletter_signup.html", {"form": form}, status=429)
    slug = form.cleaned_data["newsletter"]
    newsletters = list(
        Newsletter.objects.filter(slug=slug) if slug else Newsletter.objects.filter(is_default=True)
    )
    if not newsletters:
        form.add_error(None, "There is no such newsletter to subscribe to.")
        return render(request, "accounts/newsletter_signup.html", {"form": form}, status=400)
    services.newsletter_signup(email=form.cleaned_data["email"], newsletters=newsletters)
    # the same answer for every address: it never says whether one belongs to a member
    return render(
        request, "accounts/newsletter_signup_sent.html", {"email": form.cleaned_data["email"]}
    )


@require_http_methods(["GET", "POST"])
def newsletter_confirm(request, token):
    """The link in the confirmation mail: a page with one button (mail scanners follow links; a
    person presses buttons), whose POST subscribes."""
    if request.method == "GET":
        return render(request, "accounts/newsletter_confirm.html", {"token": token})
    try:
        user = services.newsletter_confirm(token=token)
    except services.BadNewsletterLink:
        return render(request, "accounts/newsletter_bad_link.html", status=400)
    newsletters = Newsletter.objects.filter(subscriptions__user=user)
    return render(
        request, "accounts/newsletter_confirmed.html", {"member": user, "newsletters": newsletters}
    )


# Mail clients send the one-click unsubscribe (RFC 8058) as a bare POST from the inbox: it cannot
# carry a CSRF token, and the signed token in the URL is what proves the link came from our mail.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def newsletter_unsubscribe(request, token):
    """GET: a page with one button and a link to every preference; POST: unsubscribed at once."""
    if request.method == "GET":
        return render(request, "accounts/newsletter_unsubscribe.html", {"token": token})
    try:
        _, newsletter = services.newsletter_unsubscribe(token=token)
    except services.BadNewsletterLink:
        return render(request, "accounts/newsletter_bad_link.html", status=400)
    if request.POST.get("List-Unsubscribe") == "One-Click":
        return HttpResponse(f"Unsubscribed from {newsletter.name}.", content_type="text/plain")
    return render(request, "accounts/newsletter_unsubscribed.html", {"newsletter": newsletter})


@require_POST
def signup_resend(request):
    """The Resend button of an unconfirmed sign-up (the paywall, the "check your inbox" page)."""
    pending = signup.pending(request)
    if pending is None:
        messages.info(request, "Your sign-up is no longer pending: sign in, or sign up again.")
        return redirect("account_login")
    if signup.resend(request, pending):
        messages.success(request, f"We sent the link again to {pending.masked_email}.")
    else:
        messages.error(
            request,
            "We sent you a link a moment ago: please give it a few minutes, and look in your "
            "spam folder. You can ask again shortly.",
        )
    return redirect(_back(request, fallback=reverse("account_email_verification_sent")))


@require_POST
def signup_wrong_address(request):
    """ "Wrong address?": drop the unconfirmed sign-up and sign up again with the right one.

    The account the wrong address made is deleted: nobody could ever sign in to it (it is
    unconfirmed), and this browser is the one that made it. An address that already had an
    account made none, and is only forgotten, so the answer is the same for both.
    """
    pending = signup.pending(request)
    next_url = pending.next_url if pending else ""
    if pending is not None:
        if pending.user_id is not None:
            services.signup_abandon(user_id=pending.user_id)
        signup.forget(request)
        signup.forget_pending_login(request)
    messages.info(request, "Sign up again with the address you want us to use.")
    url = reverse("account_signup")
    return redirect(f"{url}?next={next_url}" if next_url else url)


def _back(request, *, fallback: str) -> str:
    """The page the form was posted from, if it is one of ours."""
    url = request.POST.get("next", "")
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return fallback
