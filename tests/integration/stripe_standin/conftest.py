"""Fixtures for the Stripe stand-in tests: the real process, a webhook receiver, an SDK client.

No Django and no database here. One stand-in process serves the whole test
session; each test starts from a reset state and an empty receiver.
"""

import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import stripe

from tests.integration.stripe_standin.process import control, running_standin

WEBHOOK_SECRET = "whsec_standin_tests"
API_KEY = "sk_test_standin"
# No proxy for anything local, whatever the environment says.


def pytest_configure(config):
    config.addinivalue_line("markers", "standin: Stripe stand-in tests (no Django, no database)")


class WebhookReceiver:
    """A tiny HTTP server that records every POST; ``fail_next`` answers 500s first."""

    def __init__(self):
        self.received = []
        self.fail_next = 0
        self.condition = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"])).decode("utf-8")
                with receiver.condition:
                    failing = receiver.fail_next > 0
                    receiver.fail_next -= failing
                    receiver.received.append(
                        {
                            "at": time.monotonic(),
                            "path": self.path,
                            "body": body,
                            "headers": dict(self.headers),
                            "failed": failing,
                        }
                    )
                    receiver.condition.notify_all()
                self.send_response(500 if failing else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/webhooks/stripe/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def clear(self):
        with self.condition:
            self.received.clear()
            self.fail_next = 0

    def accepted_events(self):
        """Events that were answered 2xx, verified with the webhook secret, in arrival order."""
        with self.condition:
            deliveries = [d for d in self.received if not d["failed"]]
        return [
            stripe.Webhook.construct_event(
                d["body"], d["headers"]["Stripe-Signature"], WEBHOOK_SECRET
            )
            for d in deliveries
        ]


@pytest.fixture(scope="session")
def webhook_receiver():
    receiver = WebhookReceiver()
    yield receiver
    receiver.server.shutdown()


@pytest.fixture(scope="session")
def standin_process(webhook_receiver, tmp_path_factory):
    """``python -m stripe_standin`` on a free port; yields its base URL."""
    args = [
        "--webhook-url",
        webhook_receiver.url,
        "--webhook-secret",
        WEBHOOK_SECRET,
        "--retry-base",
        "0.05",
    ]
    with running_standin(
        tmp_path_factory.mktemp("standin") / "standin.log", *args, timeout=10
    ) as base_url:
        yield base_url


@pytest.fixture
def standin(standin_process, webhook_receiver):
    """The stand-in's base URL, with an empty state and an empty receiver."""
    # Let the previous test's webhooks land first, so none arrives in this test's receiver.
    control(standin_process, "/_standin/deliveries/wait")
    control(standin_process, "/_standin/reset")
    webhook_receiver.clear()
    return standin_process


@pytest.fixture
def stripe_client(standin):
    """The real SDK pointed at the stand-in, exactly as Masthead's settings point it."""
    return stripe.StripeClient(API_KEY, base_addresses={"api": standin}, max_network_retries=0)


def http(url, form=None):
    """GET (or POST a form to) a hosted page without following redirects.

    Returns (status, headers, text).
    """
    data = urllib.parse.urlencode(form).encode() if form is not None else None
    request = urllib.request.Request(url, data=data)

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), NoRedirect)
    try:
        with opener.open(request, timeout=10) as response:
            return response.status, response.headers, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read().decode()


@pytest.fixture
def monthly_price(stripe_client):
    """A 5 USD monthly plan, as Masthead's catalogue sets it up."""
    price = stripe_client.v1.prices.create(
        params={
            "product_data": {"name": "Masthead Monthly"},
            "unit_amount": 500,
            "currency": "usd",
            "recurring": {"interval": "month"},
            "lookup_key": "masthead_monthly",
        }
    )
    return price


@pytest.fixture
def portal_configuration(stripe_client):
    """make(mode): a portal configuration whose members cancel at period end or immediately.

    A portal session needs one: the stand-in, like a new Stripe account, has no default.
    """

    def make(mode="at_period_end"):
        return stripe_client.v1.billing_portal.configurations.create(
            params={
                "features": {
                    "subscription_cancel": {"enabled": True, "mode": mode},
                    "invoice_history": {"enabled": True},
                }
            }
        )

    return make


def plan_switch_portal(stripe_client, customer, prices, *, features=None, **update):
    """A portal session for `customer` whose configuration switches between `prices` (Price
    objects; grouped by product, as Stripe's configuration lists them), with prorations unless
    `update` says otherwise; `features` adds others (a cancellation mode, say)."""
    products = {}
    for price in prices:
        products.setdefault(price.product, []).append(price.id)
    configuration = stripe_client.v1.billing_portal.configurations.create(
        params={
            "features": {
                **(features or {}),
                "subscription_update": {
                    "enabled": True,
                    "default_allowed_updates": ["price"],
                    "proration_behavior": "create_prorations",
                    "products": [{"product": p, "prices": ids} for p, ids in products.items()],
                    **update,
                },
            }
        }
    )
    return stripe_client.v1.billing_portal.sessions.create(
        params={"customer": customer, "configuration": configuration.id}
    )


@pytest.fixture
def subscribe(stripe_client, standin, monthly_price):
    """Make a customer, a checkout session for the monthly plan, and pay it with a card.

    Returns (session, pay result); ``trial_days`` starts a trial, ``test_clock`` (an id) puts the
    customer on that test clock.
    """

    def subscribe(
        card="4242424242424242", trial_days=None, email="reader@example.com", test_clock=None
    ):
        customer_params = {"email": email, "metadata": {"user_id": "42"}}
        if test_clock:
            customer_params["test_clock"] = test_clock
        customer = stripe_client.v1.customers.create(params=customer_params)
        params = {
            "mode": "subscription",
            "customer": customer.id,
            "client_reference_id": "42",
            "line_items": [{"price": monthly_price.id, "quantity": 1}],
            "success_url": "http://masthead.test/billing/success/?session_id={CHECKOUT_SESSION_ID}",
            "cancel_url": "http://masthead.test/billing/plans/",
            "metadata": {"user_id": "42"},
        }
        if trial_days:
            params["subscription_data"] = {"trial_period_days": trial_days}
        session = stripe_client.v1.checkout.sessions.create(params=params)
        _, result = control(standin, f"/_standin/checkout/{session.id}/pay", {"card": card})
        return session, result

    return subscribe
