"""{% current_subscription user as sub %}: the member's subscription, for the account page."""

from django import template

from billing.models import Subscription

register = template.Library()


@register.simple_tag
def current_subscription(user) -> Subscription | None:
    """The subscription that matters now (a live one, else the latest), with its plan."""
    if not user.is_authenticated:
        return None
    return Subscription.objects.filter(user=user).select_related("plan").current_first().first()
