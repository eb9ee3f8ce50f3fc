from allauth.account.forms import SignupForm as AllauthSignupForm
from django import forms

from accounts import signup
from accounts.models import Newsletter


class SignupForm(AllauthSignupForm):
    """allauth's sign-up (settings.ACCOUNT_FORMS): one password, its rules told only when broken.

    The page offers a show/hide control instead of a second field (static/js/password-toggle.js),
    and the validators' messages name the rule a password fails; listing all four up front
    is a wall of text before the reader has typed anything.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["password1"].help_text = ""
        self.fields["password1"].widget.attrs["autocomplete"] = "new-password"

    def try_save(self, request):
        user, response = super().try_save(request)
        # remembered whether or not the address was taken, so the browser sees the same either way
        signup.remember(
            request,
            email=self.cleaned_data["email"],
            user_id=user.pk if user else None,
            next_url=request.POST.get("next", ""),
        )
        return user, response


class NewsletterPreferencesForm(forms.Form):
    """The newsletters a member chooses; account mail (verification, trial, billing) is not a choice."""

    newsletters = forms.ModelMultipleChoiceField(
        queryset=Newsletter.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Send me",
    )


class NewsletterSignupForm(forms.Form):
    """An email address, and the newsletter it is for (the site's default ones when none is named)."""

    email = forms.EmailField(label="Your email address", max_length=254)
    newsletter = forms.SlugField(required=False, widget=forms.HiddenInput)
