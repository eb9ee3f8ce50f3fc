"""`manage.py stripe_sync_plans`: Stripe's Prices follow the plans staff define, found by lookup key."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from articles import caching
from billing.models import Interval, Plan


def sync(*args):
    out = StringIO()
    call_command("stripe_sync_plans", *args, stdout=out)
    return out.getvalue()


def active_prices(stripe_client):
    return stripe_client.v1.prices.list(params={"active": True, "limit": 100}).data


def test_each_plan_gets_a_price_with_its_lookup_key_amount_and_interval(plans, stripe_client):
    sync()

    prices = {p.lookup_key: p for p in active_prices(stripe_client)}
    assert set(prices) == {"monthly-month", "annual-year"}
    assert (prices["monthly-month"].unit_amount, prices["monthly-month"].recurring.interval) == (
        1200,
        "month",
    )
    assert (prices["annual-year"].unit_amount, prices["annual-year"].currency) == (9900, "gbp")
    for plan in Plan.objects.all():
        assert plan.stripe_price_id == prices[plan.lookup_key].id
        assert plan.stripe_product_id == prices[plan.lookup_key].product


def test_running_it_again_changes_nothing(plans, stripe_client):
    sync()
    before = sorted(p.id for p in active_prices(stripe_client))

    output = sync()

    assert "monthly-month: up to date" in output
    assert sorted(p.id for p in active_prices(stripe_client)) == before
    assert len(stripe_client.v1.products.list(params={"limit": 100}).data) == 2


def test_a_changed_amount_makes_a_new_price_that_takes_the_lookup_key_and_archives_the_old(
    plans, stripe_client
):
    sync()
    monthly = Plan.objects.get(lookup_key="monthly-month")
    old_price, product = monthly.stripe_price_id, monthly.stripe_product_id
    monthly.amount = 1500
    monthly.save()

    sync()

    monthly.refresh_from_db()
    assert monthly.stripe_price_id != old_price and monthly.stripe_product_id == product
    new = stripe_client.v1.prices.retrieve(monthly.stripe_price_id)
    assert (new.unit_amount, new.lookup_key, new.active) == (1500, "monthly-month", True)
    old = stripe_client.v1.prices.retrieve(old_price)
    assert (old.active, old.lookup_key) == (False, None)


def test_a_deactivated_plan_archives_its_price(plans, stripe_client):
    sync()
    Plan.objects.filter(lookup_key="annual-year").update(active=False)

    sync()

    assert [p.lookup_key for p in active_prices(stripe_client)] == ["monthly-month"]


def test_import_makes_plans_from_stripes_prices(db, stripe_client):
    stripe_client.v1.prices.create(
        params={
            "product_data": {"name": "Supporter"},
            "unit_amount": 2500,
            "currency": "gbp",
            "recurring": {"interval": "month"},
            "lookup_key": "supporter",
            "nickname": "Supporter monthly",
        }
    )

    sync("--import")
    sync("--import")

    plan = Plan.objects.get()
    assert (plan.lookup_key, plan.name, plan.amount, plan.interval) == (
        "supporter",
        "Supporter monthly",
        2500,
        Interval.MONTH,
    )
    assert plan.stripe_price_id.startswith("price_")


def test_a_price_changed_at_stripe_and_imported_shows_on_the_next_request(
    client, plans, stripe_client
):
    sync()
    assert "From £12.00 per month" in client.get("/").content.decode()
    monthly = Plan.objects.get(lookup_key="monthly-month")
    stripe_client.v1.prices.create(
        params={
            "product": monthly.stripe_product_id,
            "unit_amount": 1500,
            "currency": "gbp",
            "recurring": {"interval": "month"},
            "lookup_key": "monthly-month",
            "transfer_lookup_key": True,
        }
    )
    stripe_client.v1.prices.update(monthly.stripe_price_id, params={"active": False})

    sync("--import")

    assert "From £15.00 per month" in client.get("/").content.decode()


def test_the_ids_it_records_in_bulk_reach_the_entry_plan_the_reading_pages_keep(
    plans, stripe_client
):
    assert caching.entry_plan().stripe_price_id == ""  # kept in the cache, as every page reads it

    sync()  # records Stripe's ids with Plan.objects.filter(...).update(): no post_save

    recorded = Plan.objects.get(lookup_key="monthly-month").stripe_price_id
    assert recorded.startswith("price_")
    assert caching.entry_plan().stripe_price_id == recorded


def test_stripe_unreachable_is_a_clear_command_error(plans, closed_port_base):
    with pytest.raises(CommandError, match="Stripe refused or could not be reached"):
        sync()
    assert not Plan.objects.exclude(stripe_price_id="").exists()
