"""The staff roles that ship with Masthead, kept in step with the models on every migrate."""

from django.contrib.auth.models import Group, Permission

CONTENT_EDITORS = "Content editors"
# Content editors run the publication: articles (and their attachments), topics, people and the
# newsletter sends. Never members (nor the lists' members) or billing.
CONTENT_EDITOR_MODELS = [
    ("articles", "article"),
    ("articles", "attachment"),  # the files that come with an article, edited on its page
    ("articles", "topic"),
    ("articles", "person"),
    ("articles", "newslettersend"),  # they send articles as newsletters and follow the sends
]


def ensure_staff_groups(**kwargs):
    group, _ = Group.objects.get_or_create(name=CONTENT_EDITORS)
    permissions = Permission.objects.filter(
        content_type__app_label__in={app for app, _ in CONTENT_EDITOR_MODELS},
        content_type__model__in={model for _, model in CONTENT_EDITOR_MODELS},
    )
    group.permissions.set(permissions)
