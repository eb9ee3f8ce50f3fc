"""/v1/billing_portal/configurations as Stripe serves them (API reference, "Customer Portal
Configuration"), and the configuration a portal session uses: the one it names, else the
account's default, which a new account does not have until its portal settings are saved."""

import pytest
import stripe

from .conftest import control, http

pytestmark = pytest.mark.standin

PRODUCTS = "features.subscription_update.products"


def switch_features(*prices):
    """Switching between `prices` with proration, cancelling at period end."""
    by_product = {}
    for price in prices:
        by_product.setdefault(price.product, []).append(price.id)
    return {
        "subscription_cancel": {"enabled": True, "mode": "at_period_end"},
        "subscription_update": {
            "enabled": True,
            "default_allowed_updates": ["price"],
            "proration_behavior": "create_prorations",
            "products": [{"product": p, "prices": ids} for p, ids in by_product.items()],
        },
    }


@pytest.fixture
def annual_price(stripe_client, monthly_price):
    return stripe_client.v1.prices.create(
        params={
            "product": monthly_price.product,
            "unit_amount": 5000,
            "currency": "usd",
            "recurring": {"interval": "year"},
        }
    )


def test_a_configuration_keeps_its_features_and_shows_its_products_when_expanded(
    stripe_client, monthly_price, annual_price
):
    created = stripe_client.v1.billing_portal.configurations.create(
        params={
            "features": {
                **switch_features(monthly_price, annual_price),
                "payment_method_update": {"enabled": True},
                "invoice_history": {"enabled": True},
            },
            "metadata": {"masthead_site": "https://masthead.test"},
        }
    )

    features = created.features
    assert (features.subscription_cancel.enabled, features.subscription_cancel.mode) == (
        True,
        "at_period_end",
    )
    assert features.payment_method_update.enabled and features.invoice_history.enabled
    assert not features.customer_update.enabled  # a feature not given stays off
    assert features.subscription_update.proration_behavior == "create_prorations"
    assert "products" not in features.subscription_update
    assert (created.is_default, created.active, created.metadata.masthead_site) == (
        False,
        True,
        "https://masthead.test",
    )
    expanded = stripe_client.v1.billing_portal.configurations.retrieve(
        created.id, params={"expand": [PRODUCTS]}
    )
    assert [(p.product, p.prices) for p in expanded.features.subscription_update.products] == [
        (monthly_price.product, [monthly_price.id, annual_price.id])
    ]
    listed = stripe_client.v1.billing_portal.configurations.list(
        params={"expand": [f"data.{PRODUCTS}"]}
    ).data
    assert listed[0].features.subscription_update.products[0].prices == [
        monthly_price.id,
        annual_price.id,
    ]


def test_an_update_merges_features_replaces_products_and_sends_an_updated_event(
    stripe_client, monthly_price, annual_price
):
    configuration = stripe_client.v1.billing_portal.configurations.create(
        params={"features": switch_features(monthly_price, annual_price)}
    )

    updated = stripe_client.v1.billing_portal.configurations.update(
        configuration.id,
        params={
            "features": {
                "subscription_update": {
                    "products": [{"product": annual_price.product, "prices": [annual_price.id]}]
                }
            },
            "expand": [PRODUCTS],
        },
    )

    assert [p.prices for p in updated.features.subscription_update.products] == [[annual_price.id]]
    assert updated.features.subscription_cancel.mode == "at_period_end"  # kept
    assert updated.updated >= configuration.updated
    event = stripe_client.v1.events.list(
        params={"type": "billing_portal.configuration.updated"}
    ).data[0]
    assert event.data.object.id == configuration.id
    assert "products" not in event.data.object.features.subscription_update


def test_configurations_are_listed_by_active_and_default(stripe_client, standin):
    made = stripe_client.v1.billing_portal.configurations.create(
        params={"features": {"invoice_history": {"enabled": True}}}
    )
    stripe_client.v1.billing_portal.configurations.update(made.id, params={"active": False})
    _, default = control(standin, "/_standin/billing_portal/default_configuration")

    def listed(**filters):
        found = stripe_client.v1.billing_portal.configurations.list(params=filters).data
        return [c.id for c in found]

    assert listed() == [default["id"], made.id]
    assert listed(is_default=True) == [default["id"]]
    assert listed(active=False) == [made.id]


@pytest.mark.parametrize(
    ("features", "param"),
    [
        (None, "features"),
        (
            {"subscription_cancel": {"mode": "immediately"}},
            "features[subscription_cancel][enabled]",
        ),
        ({"subscription_pause": {"enabled": True}}, "features[subscription_pause]"),
        (
            {"subscription_update": {"enabled": True, "default_allowed_updates": ["price"]}},
            "features[subscription_update][products]",
        ),
        (
            {
                "subscription_cancel": {
                    "enabled": True,
                    "mode": "at_period_end",
                    "proration_behavior": "create_prorations",
                }
            },
            "features[subscription_cancel][proration_behavior]",
        ),
        (
            {"subscription_cancel": {"enabled": True, "mode": "whenever"}},
            "features[subscription_cancel][mode]",
        ),
    ],
    ids=[
        "no-features",
        "a-feature-without-enabled",
        "a-feature-the-stand-in-has-not",
        "switching-without-products",
        "prorating-a-cancellation-at-period-end",
        "an-unknown-cancel-mode",
    ],
)
def test_bad_features_are_a_400_naming_the_parameter(stripe_client, features, param):
    params = {} if features is None else {"features": features}

    with pytest.raises(stripe.InvalidRequestError) as refused:
        stripe_client.v1.billing_portal.configurations.create(params=params)

    assert (refused.value.http_status, refused.value.param) == (400, param)
    assert stripe_client.v1.billing_portal.configurations.list().data == []


def test_at_most_ten_products_each_with_its_own_prices(stripe_client, monthly_price):
    prices = [
        stripe_client.v1.prices.create(
            params={
                "product_data": {"name": f"Plan {n}"},
                "unit_amount": 100 + n,
                "currency": "usd",
                "recurring": {"interval": "month"},
            }
        )
        for n in range(11)
    ]
    for bad, param in (
        (switch_features(*prices), "features[subscription_update][products]"),
        (
            {
                "subscription_update": {
                    "enabled": True,
                    "default_allowed_updates": ["price"],
                    "products": [{"product": prices[0].product, "prices": [monthly_price.id]}],
                }
            },
            "features[subscription_update][products][0][prices]",
        ),
    ):
        with pytest.raises(stripe.InvalidRequestError) as refused:
            stripe_client.v1.billing_portal.configurations.create(params={"features": bad})
        assert refused.value.param == param

    assert stripe_client.v1.billing_portal.configurations.create(
        params={"features": switch_features(*prices[:10])}
    ).id.startswith("bpc_")


def test_a_refused_update_changes_nothing(stripe_client, monthly_price):
    configuration = stripe_client.v1.billing_portal.configurations.create(
        params={"features": switch_features(monthly_price), "name": "before"}
    )

    with pytest.raises(stripe.InvalidRequestError):
        stripe_client.v1.billing_portal.configurations.update(
            configuration.id,
            params={"name": "after", "features": {"subscription_update": {"products": ""}}},
        )

    assert stripe_client.v1.billing_portal.configurations.retrieve(configuration.id).name == (
        "before"
    )


# ---- the configuration of a portal session -------------------------------------------


def test_without_a_configuration_or_a_default_a_portal_session_is_refused(stripe_client):
    customer = stripe_client.v1.customers.create(params={"email": "ann@example.com"})

    with pytest.raises(stripe.InvalidRequestError) as refused:
        stripe_client.v1.billing_portal.sessions.create(params={"customer": customer.id})

    assert refused.value.http_status == 400
    assert "saving your customer portal settings" in refused.value.user_message


def test_a_session_uses_the_configuration_it_names_else_the_default(
    stripe_client, standin, subscribe
):
    _, paid = subscribe()
    customer = stripe_client.v1.subscriptions.retrieve(paid["subscription"]).customer
    named = stripe_client.v1.billing_portal.configurations.create(
        params={"features": {"subscription_cancel": {"enabled": True, "mode": "immediately"}}}
    )
    _, default = control(standin, "/_standin/billing_portal/default_configuration")

    with_named = stripe_client.v1.billing_portal.sessions.create(
        params={"customer": customer, "configuration": named.id}
    )
    with_default = stripe_client.v1.billing_portal.sessions.create(params={"customer": customer})

    assert (with_named.configuration, with_default.configuration) == (named.id, default["id"])
    assert "Cancel now" in http(with_named.url)[2]
    assert "Cancel now" not in http(with_default.url)[2]  # the default cancels at period end


def test_an_inactive_or_unknown_configuration_is_refused(stripe_client):
    customer = stripe_client.v1.customers.create(params={"email": "ann@example.com"})
    inactive = stripe_client.v1.billing_portal.configurations.create(
        params={"features": {"invoice_history": {"enabled": True}}}
    )
    stripe_client.v1.billing_portal.configurations.update(inactive.id, params={"active": False})

    for configuration in (inactive.id, "bpc_unknown"):
        with pytest.raises(stripe.InvalidRequestError) as refused:
            stripe_client.v1.billing_portal.sessions.create(
                params={"customer": customer.id, "configuration": configuration}
            )
        assert refused.value.param == "configuration"
