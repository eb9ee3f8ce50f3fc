# No Stripe call inside a transaction (issue 13): a ticket counter to order copies by when their
# fetch began, a digest of what was copied (reconcile skips unchanged subscriptions), a click
# window for checkout's idempotency keys, and a lease for webhook events instead of a row lock.
# Existing copies get ticket 0 (any new fetch is newer) and an empty digest (reconciled once).

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0004_subscription_cancel_at"),
    ]

    operations = [
        migrations.CreateModel(
            name="SyncTicket",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
            ],
        ),
        migrations.AddField(
            model_name="customer",
            name="checkout_window_at",
            field=models.DateTimeField(
                blank=True,
                editable=False,
                help_text="When the member's current window of Subscribe clicks opened: the clicks in it share one Stripe idempotency key per plan, so a double click makes one session.",
                null=True,
            ),
        ),
        migrations.AddField(
            model_name="subscription",
            name="stripe_digest",
            field=models.CharField(
                db_default="",
                blank=True,
                editable=False,
                help_text="sha256 of Stripe's object as copied, so the reconcile job skips unchanged ones.",
                max_length=64,
            ),
        ),
        migrations.AddField(
            model_name="subscription",
            name="sync_ticket",
            field=models.BigIntegerField(
                db_default=0,
                default=0,
                editable=False,
                help_text="The SyncTicket taken before fetching the copy held here: a copy fetched under a lower ticket never overwrites it.",
            ),
        ),
        migrations.AddField(
            model_name="webhookevent",
            name="claimed_until",
            field=models.DateTimeField(
                blank=True, help_text="Being processed until then (a lease, not a lock).", null=True
            ),
        ),
    ]
