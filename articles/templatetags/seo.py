"""{% article_meta article %}: canonical link, description, Open Graph / Twitter tags, JSON-LD."""

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
