"""/v1/webhook_endpoints as Stripe serves them (API reference, "Webhook Endpoints"): the secret in
the create response only, Stripe's list and errors, and the stand-in's own posting endpoint, an
endpoint like any other whose enabled_events decide what it is sent."""

import pytest
import stripe

from .conftest import control

pytestmark = pytest.mark.standin


def create(stripe_client, **params):
    params = {"url": "https://masthead.test/billing/stripe/webhook/", **params}
    params.setdefault("enabled_events", ["invoice.paid"])
    return stripe_client.v1.webhook_endpoints.create(params=params)


def posting_endpoint(stripe_client, webhook_receiver):
    (endpoint,) = [
        e for e in stripe_client.v1.webhook_endpoints.list().data if e.url == webhook_receiver.url
    ]
    return endpoint


def wait_for_deliveries(standin):
    status, counts = control(standin, "/_standin/deliveries/wait")
    assert status == 200 and counts["pending"] == 0, counts


def test_the_signing_secret_is_in_the_create_response_and_never_again(stripe_client):
    created = create(stripe_client, metadata={"masthead_site": "https://masthead.test"})

    assert created.secret.startswith("whsec_") and len(created.secret) > 20
    assert (created.status, created.livemode, created.metadata.masthead_site) == (
        "enabled",
        False,
        "https://masthead.test",
    )
    assert "secret" not in stripe_client.v1.webhook_endpoints.retrieve(created.id)
    listed = stripe_client.v1.webhook_endpoints.list().data
    assert [e.id for e in listed if e.id == created.id] == [created.id]
    assert all("secret" not in e for e in listed)


def test_each_endpoint_gets_its_own_secret_and_an_api_version_only_if_asked(stripe_client):
    first = create(stripe_client)
    second = create(stripe_client, api_version=stripe.api_version)

    assert first.secret != second.secret
    assert (first.api_version, second.api_version) == (None, stripe.api_version)


def test_endpoints_are_listed_newest_first_a_page_at_a_time(stripe_client):
    made = [create(stripe_client, description=f"endpoint {n}").id for n in range(3)]

    first_page = stripe_client.v1.webhook_endpoints.list(params={"limit": 2})
    second_page = stripe_client.v1.webhook_endpoints.list(
        params={"limit": 2, "starting_after": first_page.data[-1].id}
    )

    assert [e.id for e in first_page.data] == made[::-1][:2] and first_page.has_more
    ids = [e.id for e in first_page.data + second_page.data]
    assert ids[:3] == made[::-1]


def test_an_update_changes_url_events_status_and_metadata_but_never_the_api_version(
    stripe_client,
):
    endpoint = create(stripe_client, metadata={"keep": "1", "drop": "1"})

    updated = stripe_client.v1.webhook_endpoints.update(
        endpoint.id,
        params={
            "url": "https://masthead.test/new/",
            "enabled_events": ["checkout.session.completed", "invoice.paid"],
            "disabled": True,
            "metadata": {"drop": ""},
        },
    )

    assert updated.url == "https://masthead.test/new/" and updated.status == "disabled"
    assert updated.enabled_events == ["checkout.session.completed", "invoice.paid"]
    assert updated.metadata.to_dict() == {"keep": "1"}
    with pytest.raises(stripe.InvalidRequestError) as refused:
        stripe_client.v1.webhook_endpoints.update(
            endpoint.id, params={"api_version": stripe.api_version}
        )
    assert refused.value.param == "api_version"


def test_a_deleted_endpoint_is_gone(stripe_client):
    endpoint = create(stripe_client)

    deleted = stripe_client.v1.webhook_endpoints.delete(endpoint.id)

    assert (deleted.id, deleted.deleted) == (endpoint.id, True)
    with pytest.raises(stripe.InvalidRequestError) as missing:
        stripe_client.v1.webhook_endpoints.retrieve(endpoint.id)
    assert (missing.value.http_status, missing.value.code) == (404, "resource_missing")


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"url": ""}, "url"),
        ({"url": "masthead.test/hook"}, "url"),
        ({"enabled_events": ""}, "enabled_events"),
        ({"enabled_events": ["invoice.paid", "invoice.exploded"]}, "enabled_events[1]"),
        ({"api_version": "2099-01-01.nope"}, "api_version"),
        ({"secret": "whsec_chosen"}, "secret"),
    ],
    ids=[
        "no-url",
        "not-a-url",
        "no-events",
        "an-event-stripe-has-not",
        "an-api-version-stripe-has-not",
        "a-secret-of-ones-own",
    ],
)
def test_bad_parameters_are_a_400_naming_the_parameter(stripe_client, params, param):
    before = [e.id for e in stripe_client.v1.webhook_endpoints.list().data]

    with pytest.raises(stripe.InvalidRequestError) as refused:
        create(stripe_client, **params)

    assert (refused.value.http_status, refused.value.param) == (400, param)
    assert [e.id for e in stripe_client.v1.webhook_endpoints.list().data] == before


def test_an_account_holds_at_most_sixteen_endpoints(stripe_client):
    existing = len(stripe_client.v1.webhook_endpoints.list(params={"limit": 100}).data)
    for _ in range(16 - existing):
        create(stripe_client)

    with pytest.raises(stripe.InvalidRequestError) as refused:
        create(stripe_client)
    assert "maximum of 16" in refused.value.user_message


def test_the_posting_endpoint_is_listed_and_its_enabled_events_decide_what_is_sent(
    stripe_client, standin, webhook_receiver
):
    endpoint = posting_endpoint(stripe_client, webhook_receiver)
    assert endpoint.enabled_events == ["*"] and endpoint.api_version == stripe.api_version

    stripe_client.v1.webhook_endpoints.update(
        endpoint.id, params={"enabled_events": ["customer.updated"]}
    )
    customer = stripe_client.v1.customers.create(params={"email": "ann@example.com"})
    stripe_client.v1.customers.update(customer.id, params={"name": "Ann"})
    wait_for_deliveries(standin)

    # each verified with the secret the stand-in was started with: its endpoint's secret
    assert [e.type for e in webhook_receiver.accepted_events()] == ["customer.updated"]


def test_a_disabled_or_deleted_posting_endpoint_is_sent_nothing(
    stripe_client, standin, webhook_receiver
):
    endpoint = posting_endpoint(stripe_client, webhook_receiver)
    stripe_client.v1.webhook_endpoints.update(endpoint.id, params={"disabled": True})
    stripe_client.v1.customers.create(params={"email": "ann@example.com"})
    stripe_client.v1.webhook_endpoints.update(endpoint.id, params={"disabled": False})
    stripe_client.v1.webhook_endpoints.delete(endpoint.id)
    stripe_client.v1.customers.create(params={"email": "bob@example.com"})
    wait_for_deliveries(standin)

    assert webhook_receiver.received == []
