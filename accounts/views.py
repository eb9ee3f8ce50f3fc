from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.forms import EmailPreferencesForm


@login_required
def account(request):
    context = {
        "access": request.access,
        "preferences_form": EmailPreferencesForm(instance=request.user),
    }
    return render(request, "accounts/account.html", context)


@require_POST
@login_required
def email_preferences(request):
    form = EmailPreferencesForm(request.POST, instance=request.user)
    if form.is_valid():  # a lone checkbox: any POST is valid, an absent box means "no"
        form.save()
        messages.success(request, "Your email preferences are saved.")
    return redirect("accounts:account")
