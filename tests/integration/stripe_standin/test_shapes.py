"""Every object the stand-in serves has the shape of Stripe's published example of its type.

Objects are created through the real stripe SDK and compared, as they came
over the wire, with fixtures3.json from stripe/openapi: the same keys at the
top level and in every nested object the fixture defines, and the same JSON
type wherever both values are non-null. The examples lag behind the API: a key the pinned
version removed (invoice.subscription, gone since 2025-03-31.basil) is one the pinned SDK's
class for that type does not declare, and is left out of the comparison. And every key the
stand-in sends, at any depth, must be one the pinned SDK (16.1.0, API version 2026-10-28)
declares for its class: its resource classes are generated from Stripe's OpenAPI for that version.

The examples are the stand-in's vendored subset (stripe_standin/fixtures.json), held to the
digests recorded from Stripe's published copy (fixtures.sha256), so no test needs that copy.
"""

import hashlib
import importlib
import json
import subprocess
import sys
import typing

import pytest
from stripe._object_classes import OBJECT_CLASSES
from stripe._stripe_object import StripeObject

from .conftest import control, http, plan_switch_portal
from .process import REPO_ROOT

pytestmark = pytest.mark.standin

VENDORED = REPO_ROOT / "stripe_standin" / "fixtures.json"
DIGESTS = REPO_ROOT / "stripe_standin" / "fixtures.sha256"
CHECK_SCRIPT = REPO_ROOT / "scripts" / "check-stripe-fixtures"
FIXTURES = json.loads(VENDORED.read_text())["resources"]
# Keys whose contents are the caller's own, not Stripe's schema.
FREE_FORM = {"metadata"}


def json_type(value):
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    for kind, name in ((str, "string"), (list, "array"), (dict, "object")):
        if isinstance(value, kind):
            return name
    raise AssertionError(f"not a JSON value: {value!r}")


def sdk_class(object_type):
    module, name = OBJECT_CLASSES[object_type]
    return getattr(importlib.import_module(module), name)


def sdk_fields(cls):
    """The fields the pinned SDK declares on a resource class or one of its inner classes."""
    declared = {}
    for klass in reversed(cls.__mro__):
        declared.update(getattr(klass, "__annotations__", {}))
    return {name for name in declared if not name.startswith("_") and name != "OBJECT_NAME"}


def sdk_inner_class(annotation):
    """The StripeObject class an annotation names (through Optional, List, ...), if any."""
    stack = [annotation]
    while stack:
        node = stack.pop()
        if isinstance(node, type) and issubclass(node, StripeObject):
            return node
        stack.extend(typing.get_args(node))
    return None


def assert_sdk_declares(value, cls, where):
    """Every key of ``value``, at every depth, is declared by the SDK class it belongs to.

    A nested object with its own ``object`` type is held to that type's class; a nested hash to
    the inner class its parent's annotation names; a free-form hash (metadata) to nothing.
    """
    if isinstance(value, list):
        for index, item in enumerate(value):
            assert_sdk_declares(item, cls, f"{where}[{index}]")
        return
    if not isinstance(value, dict):
        return
    kind = value.get("object")
    if kind == "list":
        assert_sdk_declares(value["data"], None, f"{where}.data")
        return
    if isinstance(kind, str) and kind in OBJECT_CLASSES:
        cls = sdk_class(kind)
    if cls is None:
        return
    undeclared = sorted(set(value) - sdk_fields(cls))
    assert not undeclared, f"{where}: {undeclared} not in the pinned SDK's {cls.__qualname__}"
    annotations = {}
    for klass in reversed(cls.__mro__):
        annotations.update(getattr(klass, "__annotations__", {}))
    for key, item in value.items():
        if key not in FREE_FORM and item is not None:
            assert_sdk_declares(item, sdk_inner_class(annotations.get(key)), f"{where}.{key}")


def assert_same_shape(actual, expected, where):
    assert isinstance(actual, dict), f"{where}: expected an object, got {actual!r}"
    kind = expected.get("object")
    if isinstance(kind, str) and kind in OBJECT_CLASSES and kind != "list":
        # Stripe's example may still show a field the pinned version removed.
        declared = sdk_fields(sdk_class(kind))
        expected = {key: value for key, value in expected.items() if key in declared}
    extra, missing = sorted(set(actual) - set(expected)), sorted(set(expected) - set(actual))
    assert not extra and not missing, f"{where}: extra keys {extra}, missing keys {missing}"
    for key, expected_value in expected.items():
        value, path = actual[key], f"{where}.{key}"
        if value is None or expected_value is None:
            continue
        assert json_type(value) == json_type(expected_value), (
            f"{path}: {json.dumps(value)[:80]} is not a {json_type(expected_value)}"
        )
        if key in FREE_FORM:
            continue
        if isinstance(expected_value, dict):
            assert_same_shape(value, expected_value, path)
        elif (
            isinstance(expected_value, list)
            and expected_value
            and isinstance(expected_value[0], dict)
        ):
            for index, item in enumerate(value):
                assert_same_shape(item, expected_value[0], f"{path}[{index}]")


def assert_stripe_shape(obj):
    """Compare one wire object with the fixture for its ``object`` type."""
    data = obj.last_response.data if hasattr(obj, "last_response") else obj
    if data["object"] == "event":
        assert_event_shape(data)
    else:
        kind = ("deleted_" if data.get("deleted") else "") + data["object"]
        assert_same_shape(data, FIXTURES[kind], kind)
        assert_sdk_declares(data, None, kind)
    return data


def assert_event_shape(event):
    """An event's envelope matches the event fixture; its payload matches its own type."""
    envelope = {k: v for k, v in event.items() if k != "data"}
    assert_same_shape(
        envelope, {k: v for k, v in FIXTURES["event"].items() if k != "data"}, "event"
    )
    assert_sdk_declares(envelope, sdk_class("event"), "event")
    data = event["data"]
    assert set(data) <= {"object", "previous_attributes"}, sorted(data)
    where = f"{event['type']}.data.object"
    assert_same_shape(data["object"], FIXTURES[data["object"]["object"]], where)
    assert_sdk_declares(data["object"], None, where)
    previous = data.get("previous_attributes", {})
    assert set(previous) <= set(data["object"])
    # The old values have the object's own shape: the same SDK class holds them.
    assert_sdk_declares(
        previous,
        sdk_class(data["object"]["object"]),
        f"{event['type']}.data.previous_attributes",
    )


def canonical_sha256(resource):
    """As fixtures.sha256's header defines it (and scripts/check-stripe-fixtures computes it)."""
    canonical = json.dumps(resource, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def test_the_vendored_fixtures_are_stripes_unchanged():
    recorded = {}
    for line in DIGESTS.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            digest, kind = line.split()
            recorded[kind] = digest
    assert {kind: canonical_sha256(obj) for kind, obj in FIXTURES.items()} == recorded


def check_against(published_resources, tmp_path):
    """Run scripts/check-stripe-fixtures against a published copy holding these resources.

    Isolated and without site-packages (-I -S): the script needs nothing but the standard library.
    """
    published = tmp_path / "fixtures3.json"
    published.write_text(json.dumps({"resources": published_resources}, indent=2))
    command = [sys.executable, "-I", "-S", CHECK_SCRIPT, published]
    return subprocess.run(command, check=False, capture_output=True, text=True, timeout=30)


def test_the_check_script_accepts_a_published_copy_holding_the_vendored_objects(tmp_path):
    published = {**FIXTURES, "account": {"id": "acct_1", "object": "account"}}
    result = check_against(published, tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"all {len(FIXTURES)} resources are Stripe's" in result.stdout


def test_the_check_script_names_each_resource_that_differs_from_the_published_copy(tmp_path):
    published = json.loads(json.dumps(FIXTURES))
    published["price"]["unit_amount"] += 1
    del published["invoice"]
    result = check_against(published, tmp_path)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"invoice: not in {tmp_path / 'fixtures3.json'}",
        f"price: {tmp_path / 'fixtures3.json'} differs from the recorded digest",
    ]


def test_a_customer_has_the_fixture_shape(stripe_client):
    customer = stripe_client.v1.customers.create(params={"email": "ann@example.com", "name": "Ann"})
    data = assert_stripe_shape(customer)
    assert data["id"].startswith("cus_") and data["email"] == "ann@example.com"
    assert_stripe_shape(stripe_client.v1.customers.retrieve(customer.id))


def test_a_product_and_its_prices_have_the_fixture_shapes(stripe_client):
    product = stripe_client.v1.products.create(params={"name": "Masthead Yearly"})
    assert assert_stripe_shape(product)["id"].startswith("prod_")
    recurring = stripe_client.v1.prices.create(
        params={
            "product": product.id,
            "unit_amount": 5000,
            "currency": "usd",
            "recurring": {"interval": "year"},
        }
    )
    one_time = stripe_client.v1.prices.create(
        params={"product": product.id, "unit_amount": 900, "currency": "usd"}
    )
    assert assert_stripe_shape(recurring)["id"].startswith("price_")
    assert assert_stripe_shape(one_time)["recurring"] is None
    for price in stripe_client.v1.prices.list(params={"product": product.id}).last_response.data[
        "data"
    ]:
        assert_stripe_shape(price)


def test_a_checkout_session_has_the_fixture_shape_open_and_complete(
    stripe_client, standin, subscribe
):
    session, _ = subscribe()
    opened = assert_stripe_shape(session)
    assert opened["id"].startswith("cs_test_")
    assert opened["url"] == f"{standin}/checkout/{session.id}"

    completed = stripe_client.v1.checkout.sessions.retrieve(
        session.id, params={"expand": ["subscription"]}
    )
    data = assert_stripe_shape(completed)
    assert data["status"] == "complete"
    assert_stripe_shape(data["subscription"])  # expanded in place of its id


def test_a_portal_session_has_the_fixture_shape(stripe_client, portal_configuration):
    customer = stripe_client.v1.customers.create(params={"email": "ann@example.com"})
    portal = stripe_client.v1.billing_portal.sessions.create(
        params={
            "customer": customer.id,
            "return_url": "http://masthead.test/account/",
            "configuration": portal_configuration().id,
        }
    )
    assert assert_stripe_shape(portal)["id"].startswith("bps_")


def test_a_portal_configuration_has_the_fixture_shape_and_its_products_only_when_expanded(
    stripe_client, monthly_price
):
    configuration = stripe_client.v1.billing_portal.configurations.create(
        params={
            "features": {
                "subscription_update": {
                    "enabled": True,
                    "default_allowed_updates": ["price"],
                    "products": [{"product": monthly_price.product, "prices": [monthly_price.id]}],
                }
            }
        }
    )
    assert assert_stripe_shape(configuration)["id"].startswith("bpc_")
    for listed in stripe_client.v1.billing_portal.configurations.list().last_response.data["data"]:
        assert_stripe_shape(listed)

    # An includable field: Stripe's example leaves it out, and so does every response not asking.
    expanded = stripe_client.v1.billing_portal.configurations.retrieve(
        configuration.id, params={"expand": ["features.subscription_update.products"]}
    ).last_response.data
    products = expanded["features"]["subscription_update"].pop("products")
    assert_same_shape(expanded, FIXTURES["billing_portal.configuration"], "configuration")
    assert products == [
        {
            "adjustable_quantity": {"enabled": False, "maximum": None, "minimum": 0},
            "prices": [monthly_price.id],
            "product": monthly_price.product,
        }
    ]


def test_a_webhook_endpoint_has_the_fixture_shape_and_its_secret_only_when_created(
    stripe_client,
):
    created = stripe_client.v1.webhook_endpoints.create(
        params={"url": "https://masthead.test/hook/", "enabled_events": ["invoice.paid"]}
    ).last_response.data
    assert created.pop("secret").startswith("whsec_")
    assert_same_shape(created, FIXTURES["webhook_endpoint"], "webhook_endpoint")

    retrieved = stripe_client.v1.webhook_endpoints.retrieve(created["id"])
    assert assert_stripe_shape(retrieved)["id"].startswith("we_")
    for listed in stripe_client.v1.webhook_endpoints.list().last_response.data["data"]:
        assert_stripe_shape(listed)


@pytest.mark.parametrize("trial_days", [None, 14])
def test_a_subscription_and_its_invoice_have_the_fixture_shapes(
    stripe_client, subscribe, trial_days
):
    _, paid = subscribe(trial_days=trial_days)
    subscription = stripe_client.v1.subscriptions.retrieve(paid["subscription"])
    data = assert_stripe_shape(subscription)
    assert data["id"].startswith("sub_")
    assert data["items"]["data"][0]["id"].startswith("si_")
    invoice = stripe_client.v1.invoices.retrieve(data["latest_invoice"])
    assert assert_stripe_shape(invoice)["id"].startswith("in_")


def test_every_event_and_its_payload_have_the_fixture_shapes(
    stripe_client, standin, subscribe, portal_configuration
):
    _, paid = subscribe()
    configuration = portal_configuration()
    stripe_client.v1.billing_portal.configurations.update(
        configuration.id, params={"features": {"invoice_history": {"enabled": False}}}
    )
    portal = stripe_client.v1.billing_portal.sessions.create(
        params={
            "customer": stripe_client.v1.subscriptions.retrieve(paid["subscription"]).customer,
            "configuration": configuration.id,
        }
    )
    http(
        portal.url + "/action",
        {"subscription": paid["subscription"], "action": "cancel_at_period_end"},
    )
    advance_url = f"/_standin/subscriptions/{paid['subscription']}/advance"
    control(standin, advance_url, {"action": "fail_renewal"})

    events = stripe_client.v1.events.list(params={"limit": 100})
    assert {e.type for e in events.data} >= {
        "customer.created",
        "product.created",
        "price.created",
        "customer.subscription.created",
        "invoice.paid",
        "checkout.session.completed",
        "billing_portal.session.created",
        "billing_portal.configuration.created",
        "billing_portal.configuration.updated",
        "customer.subscription.updated",
        "invoice.payment_failed",
    }
    for event in events.last_response.data["data"]:
        assert event["id"].startswith("evt_")
        assert_event_shape(event)
    assert_stripe_shape(stripe_client.v1.events.retrieve(events.data[0].id))


def test_lists_have_stripes_list_shape(stripe_client, subscribe):
    subscribe()
    for page in (
        stripe_client.v1.prices.list(),
        stripe_client.v1.subscriptions.list(),
        stripe_client.v1.events.list(),
    ):
        data = page.last_response.data
        assert set(data) == {"object", "data", "has_more", "url"}
        assert data["object"] == "list" and data["data"]


LIFECYCLE_EVENT_TYPES = {
    "test_helpers.test_clock.created",
    "test_helpers.test_clock.advancing",
    "test_helpers.test_clock.ready",
    "test_helpers.test_clock.deleted",
    "customer.created",
    "customer.subscription.created",
    "customer.subscription.trial_will_end",
    "customer.subscription.updated",
    "customer.subscription.deleted",
    "invoice.created",
    "invoice.finalized",
    "invoice.paid",
    "invoice.payment_succeeded",
    "invoice.payment_failed",
    "checkout.session.completed",
    "billing_portal.configuration.created",
    "billing_portal.configuration.updated",
    "billing_portal.session.created",
}


def test_every_event_and_response_of_whole_lifecycles_has_the_shapes(
    stripe_client, standin, subscribe, portal_configuration, webhook_receiver
):
    """Trials that end, renewals, failures retried to the end, cancellations, on a test clock and
    on the account's clock: every event sent (as listed and as posted), every response seen."""
    responses = []
    control(standin, "/_standin/settings/billing", {"after_retries": "unpaid"})
    clock = stripe_client.v1.test_helpers.test_clocks.create(params={"frozen_time": 1_798_761_600})
    responses.append(clock)
    subscribe(trial_days=2, test_clock=clock.id, email="short@example.com")
    subscribe(card="4000000000000341", trial_days=14, test_clock=clock.id, email="fail@example.com")
    _, cancelling = subscribe(email="cancel@example.com")
    _, recovering = subscribe(email="recover@example.com")
    stripe_client.v1.subscriptions.update(
        cancelling["subscription"], params={"cancel_at_period_end": True}
    )
    advance_url = f"/_standin/subscriptions/{recovering['subscription']}/advance"
    control(standin, advance_url, {"action": "fail_renewal"})
    control(standin, advance_url, {"action": "pay_failed_invoice"})
    configuration = portal_configuration()
    stripe_client.v1.billing_portal.configurations.update(
        configuration.id, params={"features": {"invoice_history": {"enabled": False}}}
    )
    # A switch to an annual plan in the portal: a proration invoice of two lines.
    monthly = stripe_client.v1.subscriptions.retrieve(recovering["subscription"])
    annual = stripe_client.v1.prices.create(
        params={
            "product_data": {"name": "Masthead Annual"},
            "unit_amount": 5000,
            "currency": "usd",
            "recurring": {"interval": "year"},
        }
    )
    switch_portal = plan_switch_portal(stripe_client, monthly.customer, [annual])
    http(
        switch_portal.url + "/action",
        {"subscription": monthly.id, "action": "switch", "price": annual.id},
    )
    responses.append(
        stripe_client.v1.billing_portal.sessions.create(
            params={
                "customer": stripe_client.v1.subscriptions.retrieve(
                    cancelling["subscription"]
                ).customer,
                "configuration": configuration.id,
            }
        )
    )
    responses.append(
        stripe_client.v1.test_helpers.test_clocks.advance(
            clock.id, params={"frozen_time": 1_798_761_600 + 40 * 86400}
        )
    )
    control(standin, "/_standin/clock", {"advance_seconds": 32 * 86400})
    responses.append(stripe_client.v1.test_helpers.test_clocks.retrieve(clock.id))
    for page in (
        stripe_client.v1.subscriptions.list(params={"status": "all", "limit": 100}),
        stripe_client.v1.invoices.list(params={"limit": 100}),
        stripe_client.v1.customers.list(params={"limit": 100}),
        stripe_client.v1.test_helpers.test_clocks.list(),
    ):
        responses.extend(page.last_response.data["data"])
    statuses = {
        s["status"] for s in stripe_client.v1.subscriptions.list(params={"status": "all"}).data
    }
    responses.append(stripe_client.v1.test_helpers.test_clocks.delete(clock.id))

    listed, params = [], {"limit": 100}
    while True:
        page = stripe_client.v1.events.list(params=params).last_response.data
        listed.extend(page["data"])
        if not page["has_more"]:
            break
        params = {"limit": 100, "starting_after": page["data"][-1]["id"]}
    control(standin, "/_standin/deliveries/wait")
    posted = [json.loads(d["body"]) for d in webhook_receiver.received if not d["failed"]]

    assert statuses >= {"active", "unpaid", "canceled"}
    assert any(len(i["lines"]["data"]) == 2 for i in responses if i["object"] == "invoice")
    assert {e["type"] for e in listed} >= LIFECYCLE_EVENT_TYPES
    assert sorted(e["id"] for e in posted) == sorted(e["id"] for e in listed)
    for event in listed + posted:
        assert_event_shape(event)
    for response in responses:
        assert_stripe_shape(response)


def test_coupons_promotion_codes_and_the_sca_events_have_the_fixture_shapes(
    stripe_client, standin, subscribe
):
    coupon = stripe_client.v1.coupons.create(params={"percent_off": 50, "duration": "once"})
    assert_stripe_shape(coupon)
    code = stripe_client.v1.promotion_codes.create(
        params={"promotion": {"type": "coupon", "coupon": coupon.id}, "code": "SHAPES"}
    )
    assert_stripe_shape(code)
    for listed in stripe_client.v1.coupons.list().last_response.data["data"]:
        assert_stripe_shape(listed)
    for listed in stripe_client.v1.promotion_codes.list().last_response.data["data"]:
        assert_stripe_shape(listed)
    session, _ = subscribe(card="4000002760003184")  # the bank asks at checkout and at renewal
    _, paid = control(
        standin,
        f"/_standin/checkout/{session.id}/pay",
        {"card": "4000002760003184", "authentication": "complete"},
    )
    control(standin, f"/_standin/subscriptions/{paid['subscription']}/advance", {"action": "renew"})

    events = stripe_client.v1.events.list(params={"limit": 100}).last_response.data["data"]
    assert {e["type"] for e in events} >= {
        "coupon.created",
        "promotion_code.created",
        "invoice.payment_failed",
        "invoice.payment_action_required",
    }
    for event in events:
        assert_event_shape(event)
