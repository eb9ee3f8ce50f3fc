"""Billing's cast: the local Stripe stand-in (a real process), plans with Stripe prices, Stripe's
postman, and Oscar, the reader who subscribes.

The stand-in runs without a webhook URL: it records the events it would send, and
`stripe_events.deliver()` posts them to our webhook, signed with the real secret, through
the test client. So a test decides when Stripe's events arrive, in which order, and how
often, while everything else (the SDK, HTTP, the stand-in's state) is real.
"""

import json
import socket
from io import StringIO
from urllib.parse import urlsplit

import pytest
import stripe
from django.core.management import call_command
from django.db import connection
from stripe._http_client import HTTPClient

from billing.models import Plan
from tests.integration.stripe_standin.process import control, running_standin

WEBHOOK_SECRET = "whsec_billing_tests"
API_KEY = "sk_test_billing_tests"
GOOD_CARD = "4242424242424242"
DECLINED_CARD = "4000000000000002"


def _our_atomic_blocks() -> int:
    """Transactions open on this thread's connection, not counting the test's own wrapping one
    (pytest-django's `db` runs each test inside atomic blocks that Django marks as the test case's)."""
    return sum(not block._from_testcase for block in connection.atomic_blocks)


@pytest.fixture(autouse=True)
def no_stripe_call_inside_a_transaction(monkeypatch):
    """Fail any test in which the site calls Stripe while a transaction is open.

    A Stripe request can take seconds (a minute with retries); made inside `transaction.atomic`
    it would hold the rows locked there, and a database connection, all that time. The hook is
    the SDK's HTTP client itself (every request, whichever client class `stripe_api._client()`
    gets, passes through it), so every path of every billing test is covered, on every thread.
    """
    violations = []
    send = HTTPClient._request_with_retries_internal

    def checked(self, method, url, *args, **kwargs):
        if connection.in_atomic_block and _our_atomic_blocks():
            violations.append(f"{method.upper()} {url}")
            raise AssertionError(f"Stripe called inside transaction.atomic: {method} {url}")
        return send(self, method, url, *args, **kwargs)

    monkeypatch.setattr(HTTPClient, "_request_with_retries_internal", checked)
    yield violations
    assert violations == [], f"Stripe was called inside a transaction: {violations}"


@pytest.fixture(scope="session")
def standin_process(tmp_path_factory):
    """``python -m stripe_standin`` on a free port, events stored only; yields its base URL."""
    with running_standin(tmp_path_factory.mktemp("billing-standin") / "standin.log") as base_url:
        yield base_url


@pytest.fixture
def stripe_settings(settings):
    """Our settings pointed at nothing in particular: a test sets STRIPE_API_BASE as it needs."""
    settings.STRIPE_SECRET_KEY = API_KEY
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.STRIPE_NETWORK_RETRIES = 0
    settings.SITE_URL = "http://testserver"
    return settings


@pytest.fixture
def standin(standin_process, stripe_settings):
    """The stand-in's base URL, reset to empty, with our settings pointing at it."""
    status, _ = control(standin_process, "/_standin/reset")
    assert status == 200
    stripe_settings.STRIPE_API_BASE = standin_process
    return standin_process


@pytest.fixture
def stripe_client(standin):
    """The SDK, for a test to look at Stripe's side (as a Dashboard would)."""
    return stripe.StripeClient(API_KEY, base_addresses={"api": standin}, max_network_retries=0)


@pytest.fixture
def closed_port_base(stripe_settings):
    """An API base on 127.0.0.1 where nothing listens: Stripe is unreachable."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    stripe_settings.STRIPE_API_BASE = f"http://127.0.0.1:{port}"
    return stripe_settings.STRIPE_API_BASE


@pytest.fixture
def stripe_plans(standin, plans):
    """The shared monthly and annual plans, and Stripe set up for them as a deploy sets it up
    (`stripe_setup`: their Prices, the portal configuration, the webhook endpoint)."""
    call_command("stripe_setup", stdout=StringIO(), stderr=StringIO())
    return {p.interval: p for p in Plan.objects.order_by("amount")}


def post_event(
    client, event: dict | str, *, secret: str = WEBHOOK_SECRET, signature: str | None = None
):
    """POST one event to our webhook as Stripe does: the raw JSON, signed."""
    payload = event if isinstance(event, str) else json.dumps(event)
    headers = {}
    if signature is None:
        headers["HTTP_STRIPE_SIGNATURE"] = stripe.WebhookSignature.generate_signature_header(
            payload, secret
        )
    elif signature:
        headers["HTTP_STRIPE_SIGNATURE"] = signature
    return client.post(
        "/billing/stripe/webhook/", data=payload, content_type="application/json", **headers
    )


class StripeEvents:
    """Stripe's side of the webhook: the stand-in's events, delivered when a test says so."""

    def __init__(self, client, standin_url):
        self.client = client
        self.standin_url = standin_url
        self.delivered: set[str] = set()

    def all(self) -> list[dict]:
        """Every event the stand-in has made, oldest first."""
        status, state = control(self.standin_url, "/_standin/state", method="GET")
        assert status == 200
        return list(state["events"].values())  # kept in creation order

    def pending(self) -> list[dict]:
        return [e for e in self.all() if e["id"] not in self.delivered]

    def deliver(self, events: list[dict] | None = None) -> list[int]:
        """Post the given (default: every undelivered) events in order; returns the status codes."""
        codes = []
        for event in self.pending() if events is None else events:
            codes.append(post_event(self.client, event).status_code)
            self.delivered.add(event["id"])
        return codes


@pytest.fixture
def oscar(make_member, client):
    """Oscar, whose trial is over, signed in on `client`: the reader who subscribes here. (Not the
    cast's readers: they come with subscriptions of their own, which Stripe has never heard of.)"""
    member = make_member("oscar@example.com", trial="over")
    client.force_login(member)
    return member


@pytest.fixture
def annual_subscriber(client, oscar, stripe_plans, standin):
    """Oscar, subscribed to the annual plan through Checkout at the stand-in, so that Stripe knows
    his customer (the portal needs it), back from the success page; signed in on `client`."""
    _, paid = pay(standin, checkout_url(client, stripe_plans["year"]))
    client.get(paid["redirect"].replace("http://testserver", ""))
    return oscar


@pytest.fixture
def stripe_events(client, standin):
    return StripeEvents(client, standin)


def pay(standin_url: str, session_url: str, card: str = GOOD_CARD):
    """Pay a Checkout Session as the reader would on the hosted page (the stand-in's control form)."""
    session_id = session_url.rstrip("/").rsplit("/", 1)[1]
    return control(standin_url, f"/_standin/checkout/{session_id}/pay", {"card": card})


def checkout_url(client, plan) -> str:
    """Press Subscribe for `plan`: the address of the Checkout Session the site sends the reader to."""
    response = client.post("/billing/checkout/", {"plan": plan.pk})
    assert response.status_code == 302
    return response["Location"]


def start_checkout(client, plan) -> str:
    """Press Subscribe for `plan`: the id of the Checkout Session the site sends the reader to."""
    return urlsplit(checkout_url(client, plan)).path.rsplit("/", 1)[1]


def advance(standin_url: str, subscription_id: str, action: str):
    status, body = control(
        standin_url, f"/_standin/subscriptions/{subscription_id}/advance", {"action": action}
    )
    assert status == 200, body
    return body


@pytest.fixture(scope="session")
def posting_standin(live_server, tmp_path_factory):
    """A second stand-in that posts its webhooks to the live test server, as Stripe posts to the site."""
    webhook_url = live_server.url + "/billing/stripe/webhook/"
    args = [
        "--retry-base",
        "0.05",
        "--webhook-url",
        webhook_url,
        "--webhook-secret",
        WEBHOOK_SECRET,
    ]
    with running_standin(
        tmp_path_factory.mktemp("posting-standin") / "standin.log", *args
    ) as base_url:
        yield base_url
