"""A GIN index for full-text search, on PostgreSQL only.

Built on the very expression articles/search.py queries with (title A, summary B, intro C,
body D, english), so the planner can use it. An expression index rather than a stored
tsvector column keeps the model the same on SQLite, where there is no full-text search
and this migration does nothing; the index is not in the model's state, so no later
migration on SQLite tries to rebuild it.
"""

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector
from django.db import migrations

INDEX_NAME = "article_search_idx"


def search_index():
    vector = (
        SearchVector("title", weight="A", config="english")
        + SearchVector("summary", weight="B", config="english")
        + SearchVector("intro", weight="C", config="english")
        + SearchVector("body", weight="D", config="english")
    )
    return GinIndex(vector, name=INDEX_NAME)


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.add_index(apps.get_model("articles", "Article"), search_index())


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.remove_index(apps.get_model("articles", "Article"), search_index())


class Migration(migrations.Migration):
    dependencies = [("articles", "0002_sitesettings")]

    operations = [migrations.RunPython(create_index, drop_index)]
