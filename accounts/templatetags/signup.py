from django import template

from accounts import signup

register = template.Library()


@register.simple_tag(takes_context=True)
def pending_signup(context):
    """{% pending_signup as pending %}: this browser's unconfirmed sign-up (accounts/signup.py)."""
    request = context.get("request")
    return signup.pending(request) if request is not None else None
