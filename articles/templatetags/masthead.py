"""Template tags for what every page of the site shows: the topics menu and the offer."""

from django import template
from django.conf import settings

from articles import caching

register = template.Library()


@register.simple_tag
def nav_topics():
    return caching.topics_menu()


@register.simple_tag
def site_offer() -> dict:
    """The offer as the paywall states it: the entry price from active plans, and the trial length."""
    return {"from_plan": caching.entry_plan(), "trial_days": settings.TRIAL_DAYS}
