from django.apps import AppConfig


class ArticlesConfig(AppConfig):
    name = "articles"

    def ready(self):
        from articles import caching  # noqa: F401  (connects the receivers that drop stale entries)
