"""RSS feeds: the whole site and each topic.

An item carries the title, link, summary and the public intro, for every article whatever
its visibility: a feed reader is anonymous, and the body is never even loaded here. A paywalled
item says so in a category ("Premium", "Members"), so a feed reader warns before the click.
"""

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.shortcuts import get_object_or_404
from django.utils.html import format_html

from articles import markup
from articles.models import Article, Topic, Visibility

FEED_SIZE = 30
# the badges the site's cards show, as the items' categories
PAYWALL_CATEGORIES = {Visibility.PREMIUM: "Premium", Visibility.MEMBERS: "Members"}


def absolute(path: str) -> str:
    return settings.SITE_URL + path


class LatestArticlesFeed(Feed):
    description_template = None

    def title(self):
        return settings.SITE_NAME

    def link(self):
        return absolute("/")

    def description(self):
        return f"The latest articles from {settings.SITE_NAME}."

    def items(self):
        return Article.objects.published().for_listing()[:FEED_SIZE]

    def item_title(self, article):
        return article.title

    def item_link(self, article):
        return absolute(article.get_absolute_url())

    def item_description(self, article):
        return format_html("<p>{}</p>{}", article.summary, markup.render(article.intro))

    def item_pubdate(self, article):
        return article.publish_at

    def item_updateddate(self, article):
        return article.updated_at

    def item_author_name(self, article):
        return article.author.name

    def item_categories(self, article):
        badge = PAYWALL_CATEGORIES.get(article.visibility)
        return [article.topic.name, badge] if badge else [article.topic.name]


class TopicFeed(LatestArticlesFeed):
    def get_object(self, request, slug):
        return get_object_or_404(Topic, slug=slug)

    def title(self, topic):
        return f"{topic.name} · {settings.SITE_NAME}"

    def link(self, topic):
        return absolute(topic.get_absolute_url())

    def description(self, topic):
        return topic.description or f"The latest {topic.name} articles from {settings.SITE_NAME}."

    def items(self, topic):
        return Article.objects.published().for_listing().filter(topic=topic)[:FEED_SIZE]
