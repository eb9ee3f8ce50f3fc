# Complimentary grants move to the accounts app (they are the members app's, not Stripe's), and
# every member's Membership learns what billing knows: their current subscription and grants.

from django.db import migrations

LIVE_STATUSES = {"incomplete", "trialing", "active", "past_due", "unpaid", "paused"}


def copy_to_memberships(apps, schema_editor):
    from django.utils import timezone

    Old = apps.get_model("billing", "ComplimentaryAccess")
    New = apps.get_model("accounts", "ComplimentaryAccess")
    Subscription = apps.get_model("billing", "Subscription")
    Membership = apps.get_model("accounts", "Membership")
    New.objects.bulk_create(
        New(
            id=grant.id,
            user_id=grant.user_id,
            starts_at=grant.starts_at,
            until=grant.until,
            reason=grant.reason,
            granted_by_id=grant.granted_by_id,
            ended_at=grant.ended_at,
        )
        for grant in Old.objects.all()
    )
    if New.objects.exists() and schema_editor.connection.vendor == "postgresql":
        # the copied ids were given explicitly: move the sequence past them
        table = New._meta.db_table
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))"
            )

    # The current subscription: a live one first, then the latest (SubscriptionQuerySet.current_first()).
    current = {}
    for sub in Subscription.objects.order_by("user_id", "-started_at", "-pk"):
        best = current.get(sub.user_id)
        if best is None or (sub.status in LIVE_STATUSES and best.status not in LIVE_STATUSES):
            current[sub.user_id] = sub
    for user_id, sub in current.items():
        Membership.objects.filter(pk=user_id).update(
            subscription_status=sub.status,
            subscription_ends_at=sub.current_period_end if sub.cancel_at_period_end else None,
            payment_failed_at=sub.first_failed_payment_at,
        )

    # The grants in force, or the next, as one period (accounts.services.complimentary_refresh).
    now = timezone.now()
    periods = {}
    for grant in New.objects.filter(until__gt=now).order_by("user_id", "starts_at", "until"):
        start, end, closed = periods.get(grant.user_id, (None, None, False))
        if start is None:
            periods[grant.user_id] = (grant.starts_at, grant.until, False)
        elif not closed and grant.starts_at <= end:
            periods[grant.user_id] = (start, max(end, grant.until), False)
        else:
            periods[grant.user_id] = (start, end, True)
    for user_id, (start, end, _) in periods.items():
        Membership.objects.filter(pk=user_id).update(
            complimentary_from=start, complimentary_until=end
        )


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0002_stripe_mirror"),
        ("accounts", "0005_membership"),
    ]

    operations = [
        migrations.RunPython(copy_to_memberships, migrations.RunPython.noop),
        migrations.DeleteModel(name="ComplimentaryAccess"),
    ]
