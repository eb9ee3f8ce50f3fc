from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Members"

    def ready(self):
        from accounts import receivers  # noqa: F401  (connects allauth's signals)
        from accounts.groups import ensure_staff_groups

        # after every app's permissions exist, so the group gets them all
        post_migrate.connect(ensure_staff_groups, dispatch_uid="accounts.ensure_staff_groups")
