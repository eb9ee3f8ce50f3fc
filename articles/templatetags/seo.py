"""{% article_meta article %}: canonical link, description, Open Graph / Twitter tags, JSON-LD.
{% page_meta path title description %}: the same head for a page that is not an article."""

from django import template

from articles import seo

register = template.Library()


@register.inclusion_tag("articles/_article_meta.html", takes_context=True)
def article_meta(context, article):
    return {
        "article": article,
        "canonical": seo.absolute(article.get_absolute_url()),
        "description": seo.description(article),
        "image": seo.logo_url(),
        "json_ld": seo.json_for_script(seo.article_json_ld(article)),
        "SITE_NAME": context.get("SITE_NAME"),
    }


@register.inclusion_tag("articles/_page_meta.html", takes_context=True)
def page_meta(context, path, title, description):
    """The head a link preview and a search engine read for a site page (home, pricing): its
    canonical URL on SITE_URL, a description, and Open Graph / Twitter tags."""
    site_name = context.get("SITE_NAME")
    return {
        "canonical": seo.absolute(path),
        "title": title or site_name,
        "description": description or f"The latest articles from {site_name}.",
        "image": seo.logo_url(),
        "SITE_NAME": site_name,
    }
