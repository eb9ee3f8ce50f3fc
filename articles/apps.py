from django.apps import AppConfig


class ArticlesConfig(AppConfig):
    name = "articles"

    def ready(self):
        from articles import caching  # noqa: F401  (connects the receivers that drop stale entries)
        from articles.newsletter_transport import batch_api

        batch_api()  # NEWSLETTER_TRANSPORT=anymail-batch with a backend that cannot stops here
