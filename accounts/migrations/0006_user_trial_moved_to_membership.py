# The trial's fields now live on the Membership (0005 copied them there).

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0005_membership"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="user",
            name="user_trial_ends_after_start",
        ),
        migrations.RemoveIndex(
            model_name="user",
            name="user_trial_due_idx",
        ),
        migrations.RemoveField(
            model_name="user",
            name="trial_ended_at",
        ),
        migrations.RemoveField(
            model_name="user",
            name="trial_ends_at",
        ),
        migrations.RemoveField(
            model_name="user",
            name="trial_started_at",
        ),
    ]
