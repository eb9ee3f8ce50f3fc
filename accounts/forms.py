from django import forms

from accounts.models import User


class EmailPreferencesForm(forms.ModelForm):
    """The member's choice of optional mail; account mail is not a choice (see User)."""

    class Meta:
        model = User
        fields = ["wants_product_emails"]
        labels = {"wants_product_emails": "Send me the weekly newsletter and news about the site"}
        help_texts = {"wants_product_emails": ""}
