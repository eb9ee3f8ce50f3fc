"""Template tags for what every page of the site shows: the topics menu and the offer."""

from django import template
from django.conf import settings
from django.utils import timezone

from articles import caching

register = template.Library()


@register.simple_tag(takes_context=True)
def nav_topics(context):
    return caching.topics_menu(context.get("request"))


@register.simple_tag(takes_context=True)
def site_offer(context) -> dict:
    """The offer as the paywall states it: the entry price from active plans, and the trial length."""
    return {
        "from_plan": caching.entry_plan(context.get("request")),
        "trial_days": settings.TRIAL_DAYS,
        # the sign-up page promises "no card needed" only when the trial really needs none
        "card_up_front": settings.TRIAL_MODE == "card",
    }


@register.filter
def time_datetime(value) -> str:
    """A datetime as a <time datetime> value: ISO 8601 in the current time zone, to the second
    (`2026-11-29T10:00:00+00:00`). Django's `date:'c'` keeps six-digit microseconds, and HTML
    allows at most three fractional digits of a second."""
    if not value:
        return ""
    return timezone.localtime(value).replace(microsecond=0).isoformat()
