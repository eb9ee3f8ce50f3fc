from decimal import Decimal

from django.db import models


class Interval(models.TextChoices):
    MONTH = "month", "Monthly"
    YEAR = "year", "Yearly"


class PlanQuerySet(models.QuerySet):
    def active(self):
        return self.filter(active=True)

    def from_price(self):
        """The entry price that the paywall advertises ("From £12.00 per month").

        The cheapest active plan of the shortest billing interval: what a reader pays
        to start, not an annual plan's monthly equivalent, which they cannot buy.
        """
        for interval in (Interval.MONTH, Interval.YEAR):
            plan = self.active().filter(interval=interval).order_by("amount").first()
            if plan:
                return plan
        return None


class Plan(models.Model):
    """A price a reader can subscribe at. Amounts are in the currency's minor unit (pence)."""

    name = models.CharField(max_length=80)
    amount = models.PositiveIntegerField(help_text="In minor units: 1200 is £12.00.")
    currency = models.CharField(max_length=3, default="gbp")
    interval = models.CharField(max_length=5, choices=Interval, default=Interval.MONTH)
    active = models.BooleanField(default=True)

    objects = PlanQuerySet.as_manager()

    class Meta:
        ordering = ["amount"]
        constraints = [
            models.CheckConstraint(condition=models.Q(currency__regex=r"^[a-z]{3}$"), name="plan_currency_iso_lower"),
        ]

    def __str__(self):
        return f"{self.name} ({self.display_price} per {self.interval})"

    @property
    def display_price(self) -> str:
        symbol = {"gbp": "£", "usd": "$", "eur": "€"}.get(self.currency)
        value = f"{Decimal(self.amount) / 100:,.2f}"
        return f"{symbol}{value}" if symbol else f"{value} {self.currency.upper()}"
