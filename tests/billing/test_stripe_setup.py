"""`manage.py stripe_setup`: what going live needs at Stripe, made once and found again on every run
(the plans' Prices, the Customer Portal configuration, the webhook endpoint), and `--check`.

Against the stand-in, a real process; what Stripe holds is read back through its control API."""

import re
from io import StringIO

import pytest
import stripe
from django.core.management import CommandError, call_command

from billing.models import Interval, Plan
from billing.services import HANDLERS
from tests.billing.conftest import control

WEBHOOK_URL = "http://testserver/billing/stripe/webhook/"  # SITE_URL is http://testserver here
SECRET = re.compile(r"whsec_\w+")


def setup(*args):
    """Run it; returns (stdout, stderr). A failure raises CommandError, as its exit code 1."""
    out, err = StringIO(), StringIO()
    call_command("stripe_setup", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def check():
    """`stripe_setup --check`: (exit code, stdout, stderr)."""
    out, err = StringIO(), StringIO()
    try:
        call_command("stripe_setup", "--check", stdout=out, stderr=err)
    except CommandError as error:
        return error.returncode, out.getvalue(), f"{err.getvalue()}{error}"
    return 0, out.getvalue(), err.getvalue()


def stripe_state(standin):
    status, state = control(standin, "/_standin/state", method="GET")
    assert status == 200
    return state


def endpoints(standin):
    return list(stripe_state(standin)["webhook_endpoints"].values())


def configurations(standin):
    return list(stripe_state(standin)["billing_portal_configurations"].values())


def test_run_twice_it_leaves_one_endpoint_for_the_handled_events_and_one_portal_configuration(
    plans, standin
):
    first, _ = setup()
    second, _ = setup()

    (endpoint,) = endpoints(standin)
    assert endpoint["url"] == WEBHOOK_URL and endpoint["url"].endswith("/billing/stripe/webhook/")
    assert sorted(endpoint["enabled_events"]) == sorted(HANDLERS)
    assert (endpoint["status"], endpoint["api_version"]) == ("enabled", stripe.api_version)
    (configuration,) = configurations(standin)
    assert configuration["metadata"] == {"masthead_site": "http://testserver"}
    assert f"Webhook endpoint {endpoint['id']}: created for {WEBHOOK_URL}" in first
    assert f"Portal configuration {configuration['id']}: created" in first
    assert f"Webhook endpoint {endpoint['id']}: up to date" in second
    assert f"Portal configuration {configuration['id']}: up to date" in second
    assert "monthly-month: up to date" in second and second.endswith("Done: 0 change(s).\n")


def test_check_fails_before_changing_nothing_and_passes_after(plans, standin):
    Plan.objects.create(name="Retired", amount=500, interval=Interval.MONTH, active=False)

    code, out, _ = check()

    assert code == 1
    assert "Differs: monthly-month: no Price with this lookup key at Stripe" in out
    assert "Differs: Portal configuration: none made for http://testserver" in out
    assert f"Differs: Webhook endpoint: none posts to {WEBHOOK_URL}" in out
    state = stripe_state(standin)
    assert state["prices"] == state["webhook_endpoints"] == {}
    assert state["billing_portal_configurations"] == {}
    assert not Plan.objects.exclude(stripe_price_id="").exists()

    setup()

    code, out, err = check()
    assert (code, err) == (0, "")
    assert "Differs" not in out and out.endswith("Stripe is set up as stripe_setup would set it.\n")


def test_the_endpoints_signing_secret_is_printed_once_when_it_is_made(plans, standin):
    first, _ = setup()
    second, _ = setup()

    (endpoint,) = endpoints(standin)
    secret = stripe_state(standin)["webhook_endpoint_secrets"][endpoint["id"]]
    assert SECRET.findall(first) == [secret]
    assert "Set STRIPE_WEBHOOK_SECRET to it" in first
    assert SECRET.findall(second) == []


def test_the_portal_cancels_at_period_end_takes_cards_shows_invoices_and_switches_active_plans(
    plans, standin
):
    Plan.objects.create(name="Retired", amount=500, interval=Interval.MONTH, active=False)

    setup()

    features = configurations(standin)[0]["features"]
    assert features["subscription_cancel"] == {
        "cancellation_reason": {"enabled": False, "options": []},
        "enabled": True,
        "mode": "at_period_end",
        "proration_behavior": "none",
    }
    assert features["payment_method_update"]["enabled"]
    assert features["invoice_history"]["enabled"]
    assert not features["customer_update"]["enabled"]
    switch = features["subscription_update"]
    assert (switch["enabled"], switch["proration_behavior"], switch["default_allowed_updates"]) == (
        True,
        "create_prorations",
        ["price"],
    )
    active = Plan.objects.filter(active=True)
    assert sorted((p["product"], p["prices"]) for p in switch["products"]) == sorted(
        (plan.stripe_product_id, [plan.stripe_price_id]) for plan in active
    )


def test_what_was_changed_at_stripe_is_mended_in_place_without_a_new_secret(
    plans, standin, stripe_client
):
    setup()
    (endpoint,), (configuration,) = endpoints(standin), configurations(standin)
    stripe_client.v1.webhook_endpoints.update(
        endpoint["id"], params={"enabled_events": ["*"], "disabled": True}
    )
    stripe_client.v1.billing_portal.configurations.update(
        configuration["id"],
        params={"active": False, "features": {"subscription_cancel": {"mode": "immediately"}}},
    )
    Plan.objects.filter(lookup_key="monthly-month").update(amount=1500)

    code, out, _ = check()
    assert code == 1
    assert f"Differs: Webhook endpoint {endpoint['id']}: differs (sent every event type" in out
    assert "not only those billing handles; disabled)" in out
    assert f"Differs: Portal configuration {configuration['id']}: differs (inactive;" in out
    assert "subscription_cancel.mode is 'immediately'" in out
    assert "Differs: monthly-month: Price price_" in out and "the plan £15.00 per month" in out

    mended, _ = setup()

    assert [e["id"] for e in endpoints(standin)] == [endpoint["id"]]
    assert [c["id"] for c in configurations(standin)] == [configuration["id"]]
    assert SECRET.findall(mended) == []
    assert check()[0] == 0
    (endpoint,), (configuration,) = endpoints(standin), configurations(standin)
    assert endpoint["status"] == "enabled" and sorted(endpoint["enabled_events"]) == sorted(
        HANDLERS
    )
    assert configuration["active"]
    assert configuration["features"]["subscription_cancel"]["mode"] == "at_period_end"


def test_an_endpoint_made_by_hand_at_the_sites_url_is_adopted_not_doubled(
    plans, standin, stripe_client
):
    by_hand = stripe_client.v1.webhook_endpoints.create(
        params={"url": WEBHOOK_URL, "enabled_events": ["*"], "api_version": stripe.api_version}
    )

    out, _ = setup()

    (endpoint,) = endpoints(standin)
    assert endpoint["id"] == by_hand.id
    assert sorted(endpoint["enabled_events"]) == sorted(HANDLERS)
    assert endpoint["metadata"] == {"masthead_site": "http://testserver"}
    assert SECRET.findall(out) == []  # the site already has its secret
    assert check()[0] == 0


def test_an_endpoint_on_another_api_version_is_reported_as_stripe_cannot_change_it(
    plans, standin, stripe_client
):
    stripe_client.v1.webhook_endpoints.create(
        params={"url": WEBHOOK_URL, "enabled_events": sorted(HANDLERS)}
    )

    _, err = setup()

    assert "renders events as API version the account default" in err
    assert "delete it in the Dashboard and run stripe_setup again" in err
    assert len(endpoints(standin)) == 1
    code, _, reported = check()
    assert code == 1 and "the account default" in reported


def test_two_sites_sharing_a_stripe_account_each_keep_their_own(plans, standin, stripe_settings):
    setup()
    stripe_settings.SITE_URL = "https://staging.example.com"
    setup()
    stripe_settings.SITE_URL = "http://testserver"

    assert setup()[0].endswith("Done: 0 change(s).\n")
    assert sorted(e["url"] for e in endpoints(standin)) == [
        WEBHOOK_URL,
        "https://staging.example.com/billing/stripe/webhook/",
    ]
    assert sorted(c["metadata"]["masthead_site"] for c in configurations(standin)) == [
        "http://testserver",
        "https://staging.example.com",
    ]


def test_more_than_ten_plans_sync_and_the_portal_switches_between_ten(plans, standin):
    for n in range(12):
        Plan.objects.create(name=f"Tier {n}", amount=2000 + n, interval=Interval.MONTH)

    _, err = setup()  # the stand-in, as Stripe, refuses more than 10 lookup keys in one call
    again, _ = setup()

    assert not Plan.objects.filter(stripe_price_id="").exists()
    assert len({p.stripe_price_id for p in Plan.objects.all()}) == 14
    switch = configurations(standin)[0]["features"]["subscription_update"]
    assert len(switch["products"]) == 10
    assert "left out of the switch: tier-9-month, tier-10-month, tier-11-month, annual-year" in err
    assert "tier-11-month: up to date" in again


def test_stripe_unreachable_is_a_clear_command_error(plans, closed_port_base):
    with pytest.raises(CommandError, match="Stripe refused or could not be reached"):
        setup()
    with pytest.raises(CommandError, match="Stripe refused or could not be reached"):
        setup("--check")
