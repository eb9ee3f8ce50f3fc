import math
import re

from django.db import migrations, models

# A copy of articles.models.reading_minutes as it was when written: a migration must not
# change with later code.
_WORD = re.compile(r"[^\W_]+(?:['\u2019.-][^\W_]+)*")


def reading_minutes(*texts: str) -> int:
    words = sum(len(_WORD.findall(text)) for text in texts)
    return max(1, math.ceil(words / 230))


def count_reading_minutes(apps, schema_editor):
    # The historical model has no save() of ours: the same sum, done here, row by row in chunks
    # (a body can be long; iterator() keeps only a chunk of them in memory).
    Article = apps.get_model("articles", "Article")
    changed = []
    for article in Article.objects.only("pk", "intro", "body").iterator(chunk_size=500):
        article.reading_minutes = reading_minutes(article.intro, article.body)
        changed.append(article)
        if len(changed) == 500:
            Article.objects.bulk_update(changed, ["reading_minutes"])
            changed = []
    Article.objects.bulk_update(changed, ["reading_minutes"])


class Migration(migrations.Migration):
    dependencies = [("articles", "0007_article_meter")]

    operations = [
        migrations.AddField(
            model_name="article",
            name="reading_minutes",
            field=models.PositiveSmallIntegerField(
                default=1, editable=False, verbose_name="reading time (minutes)"
            ),
        ),
        migrations.RunPython(count_reading_minutes, migrations.RunPython.noop, elidable=True),
    ]
