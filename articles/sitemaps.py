"""/sitemap.xml: the home and pricing pages, published articles, topics and people, with absolute
URLs from SITE_URL."""

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.sitemaps import Sitemap
from django.urls import reverse

from articles.models import Article, Person, Topic


class SiteURLSitemap(Sitemap):
    """Locations on SITE_URL's host and scheme, whatever Host the request came with."""

    def get_urls(self, page=1, site=None, protocol=None):
        site_url = urlsplit(settings.SITE_URL)
        return super().get_urls(page=page, site=_Domain(site_url.netloc), protocol=site_url.scheme)


class _Domain:
    def __init__(self, domain):
        self.domain = domain


class PageSitemap(SiteURLSitemap):
    """The pages a new reader starts from: the home page and the plans."""

    changefreq = "daily"

    def items(self):
        return ["home", "billing:pricing"]

    def location(self, name):
        return reverse(name)


class ArticleSitemap(SiteURLSitemap):
    changefreq = "weekly"

    def items(self):
        # only what the location needs; the body is never read here
        return Article.objects.published().only("slug", "updated_at").order_by("-publish_at")

    def lastmod(self, article):
        return article.updated_at


class TopicSitemap(SiteURLSitemap):
    changefreq = "daily"

    def items(self):
        return Topic.objects.all()


class PersonSitemap(SiteURLSitemap):
    changefreq = "monthly"

    def items(self):
        return Person.objects.all()


SITEMAPS = {
    "pages": PageSitemap,
    "articles": ArticleSitemap,
    "topics": TopicSitemap,
    "people": PersonSitemap,
}
