from django import forms

from accounts.models import Newsletter


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
