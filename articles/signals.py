"""What the articles app announces besides Django's own model signals."""

from django.dispatch import Signal

# Sent after articles, topics, people or the site settings were changed by QuerySet.update()
# (the admin's unpublish action, bulk_update()), which sends no post_save; sender is the model.
# articles/caching.py listens, so the models never need to know what is cached.
content_bulk_updated = Signal()
