from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class AddIndexWithoutLocking(AddIndexConcurrently):
    """CREATE INDEX CONCURRENTLY on PostgreSQL: the webhook ledger keeps taking events (and claims)
    while the index is built on a table of every event Stripe ever sent. A plain index elsewhere
    (SQLite in development)."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        return migrations.AddIndex.database_forwards(
            self, app_label, schema_editor, from_state, to_state
        )

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            return super().database_backwards(app_label, schema_editor, from_state, to_state)
        return migrations.AddIndex.database_backwards(
            self, app_label, schema_editor, from_state, to_state
        )


class Migration(migrations.Migration):
    atomic = False  # CONCURRENTLY cannot run inside a transaction

    dependencies = [
        ("billing", "0006_subscription_latest_invoice"),
    ]

    operations = [
        AddIndexWithoutLocking(
            model_name="webhookevent",
            index=models.Index(fields=["-received_at"], name="webhook_received_idx"),
        ),
        AddIndexWithoutLocking(
            model_name="webhookevent",
            index=models.Index(fields=["-processed_at"], name="webhook_processed_idx"),
        ),
        AddIndexWithoutLocking(
            model_name="webhookevent",
            index=models.Index(
                condition=models.Q(("processed_at__isnull", True)),
                fields=["received_at"],
                name="webhook_waiting_idx",
            ),
        ),
    ]
