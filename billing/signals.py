"""What the billing app announces besides Django's own model signals."""

from django.dispatch import Signal

# Sent after plans were changed by QuerySet.update() (stripe_setup records Stripe's ids
# that way), which sends no post_save; sender is Plan. Whatever keeps a copy of a plan (the
# articles app caches the entry price) listens, so billing never needs to know who does.
plans_bulk_updated = Signal()
