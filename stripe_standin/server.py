"""HTTP front of the stand-in: Stripe's /v1 API, the hosted pages and the /_standin control API.

``create_server`` builds a ThreadingHTTPServer; each request runs its handler
while holding the store's lock, so concurrent requests see whole changes.
"""

import base64
import json
import re
import socket
import sys
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlencode, urlsplit

from . import objects, pages
from .forms import ParamError, parse_params
from .store import StandinError, Store, check_known
from .webhooks import Deliverer


class Response:
    def __init__(self, status, body=b"", content_type="application/json", headers=None):
        self.status = status
        self.body = body if isinstance(body, bytes) else body.encode("utf-8")
        self.headers = dict(headers or {})
        if self.body or status != 303:
            self.headers["Content-Type"] = content_type + "; charset=utf-8"


def json_response(status, data, headers=None):
    return Response(status, json.dumps(data, indent=2), headers=headers)


def html_response(status, html):
    return Response(status, html, content_type="text/html")


def redirect(location):
    return Response(303, headers={"Location": location})


IDEMPOTENCY_KEY_LIFETIME = 24 * 3600


def route(pattern):
    """``"/v1/customers/{id}"`` -> a regex with a named group per placeholder."""
    return re.compile(re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", pattern))


class App:
    def __init__(
        self,
        base_url,
        *,
        webhook_url=None,
        webhook_secret=None,
        api_key=None,
        retry_base=0.5,
        webhook_retries="test",
    ):
        self.base_url = base_url
        self.api_key = api_key
        self.store = Store(base_url, webhook_url=webhook_url, webhook_secret=webhook_secret)
        self.deliverer = Deliverer(
            self.store, webhook_url, retry_base=retry_base, retries=webhook_retries
        )
        self.store.on_event = self.deliverer.enqueue
        s = self.store
        # (method, path, handler(params, **path_ids) -> Stripe object)
        self.api_routes = [
            ("POST", "/v1/customers", s.create_customer),
            ("GET", "/v1/customers", s.list_customers),
            ("GET", "/v1/customers/{id}", self._retrieve("customers", "customer")),
            ("POST", "/v1/customers/{id}", lambda p, id: s.update_customer(id, p)),
            ("POST", "/v1/products", s.create_product),
            ("GET", "/v1/products", s.list_products),
            ("GET", "/v1/products/{id}", self._retrieve("products", "product")),
            ("POST", "/v1/products/{id}", lambda p, id: s.update_product(id, p)),
            ("POST", "/v1/prices", s.create_price),
            ("GET", "/v1/prices", s.list_prices),
            ("GET", "/v1/prices/{id}", self._retrieve("prices", "price")),
            ("POST", "/v1/prices/{id}", lambda p, id: s.update_price(id, p)),
            ("POST", "/v1/checkout/sessions", s.create_checkout_session),
            (
                "GET",
                "/v1/checkout/sessions/{id}",
                self._retrieve("checkout_sessions", "checkout.session"),
            ),
            (
                "POST",
                "/v1/checkout/sessions/{id}/expire",
                lambda p, id: s.expire_checkout_session(id),
            ),
            ("POST", "/v1/billing_portal/sessions", s.create_portal_session),
            ("POST", "/v1/billing_portal/configurations", s.create_portal_configuration),
            ("GET", "/v1/billing_portal/configurations", s.list_portal_configurations),
            (
                "GET",
                "/v1/billing_portal/configurations/{id}",
                self._retrieve("portal_configurations", "configuration"),
            ),
            (
                "POST",
                "/v1/billing_portal/configurations/{id}",
                lambda p, id: s.update_portal_configuration(id, p),
            ),
            ("POST", "/v1/webhook_endpoints", s.create_webhook_endpoint),
            ("GET", "/v1/webhook_endpoints", s.list_webhook_endpoints),
            (
                "GET",
                "/v1/webhook_endpoints/{id}",
                self._retrieve("webhook_endpoints", "webhook endpoint"),
            ),
            ("POST", "/v1/webhook_endpoints/{id}", lambda p, id: s.update_webhook_endpoint(id, p)),
            (
                "DELETE",
                "/v1/webhook_endpoints/{id}",
                lambda p, id: s.delete_webhook_endpoint(id, p),
            ),
            ("GET", "/v1/subscriptions", s.list_subscriptions),
            ("GET", "/v1/subscriptions/{id}", self._retrieve("subscriptions", "subscription")),
            (
                "POST",
                "/v1/subscriptions/{id}",
                lambda p, id: self._on_its_clock(id, lambda: s.update_subscription(id, p)),
            ),
            ("DELETE", "/v1/subscriptions/{id}", self._cancel_subscription),
            ("POST", "/v1/test_helpers/test_clocks", s.create_test_clock),
            ("GET", "/v1/test_helpers/test_clocks", s.list_test_clocks),
            (
                "GET",
                "/v1/test_helpers/test_clocks/{id}",
                self._retrieve("test_clocks", "test_clock"),
            ),
            (
                "DELETE",
                "/v1/test_helpers/test_clocks/{id}",
                lambda p, id: s.delete_test_clock(id, p),
            ),
            (
                "POST",
                "/v1/test_helpers/test_clocks/{id}/advance",
                lambda p, id: s.advance_test_clock(id, p),
            ),
            ("GET", "/v1/invoices", s.list_invoices),
            ("POST", "/v1/invoices/create_preview", s.preview_invoice),
            ("GET", "/v1/invoices/{id}", self._retrieve("invoices", "invoice")),
            (
                "GET",
                "/v1/payment_intents/{id}",
                self._retrieve("payment_intents", "payment_intent"),
            ),
            ("POST", "/v1/coupons", s.create_coupon),
            ("GET", "/v1/coupons", s.list_coupons),
            ("GET", "/v1/coupons/{id}", self._retrieve("coupons", "coupon")),
            ("POST", "/v1/promotion_codes", s.create_promotion_code),
            ("GET", "/v1/promotion_codes", s.list_promotion_codes),
            (
                "GET",
                "/v1/promotion_codes/{id}",
                self._retrieve("promotion_codes", "promotion code"),
            ),
            (
                "POST",
                "/v1/promotion_codes/{id}",
                lambda p, id: s.update_promotion_code(id, p),
            ),
            ("GET", "/v1/events", s.list_events),
            ("GET", "/v1/events/{id}", self._retrieve("events", "event")),
        ]
        self.other_routes = [
            ("GET", "/checkout/{id}", self.checkout_page),
            ("POST", "/checkout/{id}", self.checkout_submit),
            ("GET", "/checkout/{id}/authenticate", self.checkout_authenticate_page),
            ("POST", "/checkout/{id}/authenticate", self.checkout_authenticate_submit),
            ("GET", "/i/{id}", self.invoice_page),
            ("POST", "/i/{id}", self.invoice_submit),
            ("GET", "/portal/{id}", self.portal_page),
            ("POST", "/portal/{id}/action", self.portal_submit),
            ("POST", "/_standin/subscriptions/{id}/advance", self.control_advance),
            ("POST", "/_standin/checkout/{id}/pay", self.control_pay),
            ("POST", "/_standin/invoices/{id}/pay", self.control_invoice_pay),
            ("POST", "/_standin/subscriptions/bulk", self.control_bulk_subscriptions),
            ("POST", "/_standin/deliveries/wait", self.control_wait),
            (
                "POST",
                "/_standin/billing_portal/default_configuration",
                self.control_default_portal_configuration,
            ),
            ("GET", "/_standin/state", self.control_state),
            ("POST", "/_standin/reset", self.control_reset),
            ("GET", "/_standin/clock", self.control_clock),
            ("POST", "/_standin/clock", self.control_clock),
            ("POST", "/_standin/customers/{id}/card", self.control_card),
            ("GET", "/_standin/settings/billing", self.control_billing_settings),
            ("POST", "/_standin/settings/billing", self.control_billing_settings),
        ]
        self.api_routes = [(m, route(p), h) for m, p, h in self.api_routes]
        self.other_routes = [(m, route(p), h) for m, p, h in self.other_routes]

    def _retrieve(self, collection, label):
        def retrieve(params, id):
            check_known(params, set())
            return self.store.get(collection, label, id)

        return retrieve

    def _cancel_subscription(self, params, id):
        check_known(params, {"invoice_now", "prorate", "cancellation_details"})
        return self._on_its_clock(id, lambda: self.store.cancel_subscription(id))

    def _on_its_clock(self, subscription_id, change):
        """Run ``change`` at the time of the subscription's test clock, if its customer has one."""
        subscription = self.store.subscriptions.get(subscription_id)
        if subscription is None:
            return change()  # its own 404
        with self.store._customer_time(subscription["customer"]):
            return change()

    # ---- dispatch ------------------------------------------------------------

    def handle(self, request):
        path = request.path.rstrip("/") or "/"
        if path.startswith("/v1/"):
            return self.handle_api(request, path)
        for method, pattern, handler in self.other_routes:
            match = pattern.fullmatch(path)
            if match and method == request.method:
                if path.startswith("/_standin/") and not request.from_loopback:
                    return json_response(
                        403, {"error": {"message": "The control API answers localhost only."}}
                    )
                return handler(request, **match.groupdict())
        return html_response(404, pages.not_found(f"Nothing here: {request.method} {path}"))

    def handle_api(self, request, path):
        request_id = objects.new_id("req_")
        headers = {"Request-Id": request_id, "Stripe-Version": objects.API_VERSION}
        for method, pattern, handler in self.api_routes:  # noqa: B007 (handler: after the break)
            match = pattern.fullmatch(path)
            if match and method == request.method:
                break
        else:
            error = StandinError(
                f"Unrecognized request URL ({request.method}: {path}).", status=404
            )
            return json_response(404, error.body(), headers)

        api_key, auth_error = self._authenticate(request)
        if auth_error:
            return json_response(401, auth_error.body(), headers)
        try:
            params = parse_params(request.body if request.method == "POST" else request.query)
        except ParamError as error:
            return json_response(400, StandinError(str(error), param=error.param).body(), headers)

        idempotency_key = (
            request.headers.get("Idempotency-Key") if request.method == "POST" else None
        )
        with self.store.lock:
            if idempotency_key:
                headers["Idempotency-Key"] = idempotency_key
                replay = self._idempotent_replay(
                    api_key, idempotency_key, request.method, path, params
                )
                if replay is not None:
                    status, body = replay
                    headers["Idempotent-Replayed"] = "true"
                    return Response(status, body, headers=headers)
            self.store.request_context = {"id": request_id, "idempotency_key": idempotency_key}
            try:
                result = handler(params, **match.groupdict())
                response = json_response(200, self.store.response(result, params), headers)
            except StandinError as error:
                response = json_response(error.status, error.body(), headers)
            finally:
                self.store.request_context = {"id": None, "idempotency_key": None}
            # Like Stripe, keep only results of requests that did something:
            # a request that failed validation may be retried with the same key.
            if idempotency_key and response.status == 200:
                self.store.idempotency[(api_key, idempotency_key)] = {
                    "created": self.store.now(),
                    "method": request.method,
                    "path": path,
                    "params": params,
                    "status": response.status,
                    "body": response.body,
                }
        return response

    def _authenticate(self, request):
        """Return (api_key, None) or (None, StandinError) for the request's credentials."""
        auth = request.headers.get("Authorization", "")
        key = None
        if auth.startswith("Bearer "):
            key = auth[len("Bearer ") :].strip()
        elif auth.startswith("Basic "):  # curl -u sk_test_...:
            try:
                key = base64.b64decode(auth[len("Basic ") :]).decode("utf-8").split(":")[0]
            except ValueError:
                key = None
        if not key:
            return None, StandinError(
                "You did not provide an API key. You need to provide your API key in the "
                "Authorization header, using Bearer auth "
                "(e.g. 'Authorization: Bearer YOUR_SECRET_KEY').",
                status=401,
            )
        expected_ok = (
            key == self.api_key if self.api_key else key.startswith(("sk_test_", "rk_test_"))
        )
        if not expected_ok:
            shown = key[:8] + "*" * max(len(key) - 12, 0) + key[-4:] if len(key) > 12 else key
            return None, StandinError(f"Invalid API Key provided: {shown}", status=401)
        return key, None

    def _idempotent_replay(self, api_key, key, method, path, params):
        saved = self.store.idempotency.get((api_key, key))
        if saved is None:
            return None
        # "You can remove keys from the system automatically after they're at least 24 hours
        # old": a key reused later is a new request (by the stand-in's clock, which tests move).
        if self.store.now() - saved["created"] >= IDEMPOTENCY_KEY_LIFETIME:
            del self.store.idempotency[(api_key, key)]
            return None
        if (saved["method"], saved["path"], saved["params"]) != (method, path, params):
            error = StandinError(
                "Keys for idempotent requests can only be used with the same parameters they "
                f"were first used with. Try using a key other than '{key}' if you meant to "
                "execute a different request.",
                type="idempotency_error",
            )
            return 400, json.dumps(error.body(), indent=2).encode("utf-8")
        return saved["status"], saved["body"]

    # ---- hosted checkout -----------------------------------------------------

    def checkout_page(self, request, id, error=None, status=200, card_number="", promotion_code=""):
        with self.store.lock:
            session = self.store.checkout_sessions.get(id)
            if session is None:
                return html_response(404, pages.not_found("No such checkout session."))
            if session["status"] == "complete":
                return html_response(
                    status,
                    pages.checkout_closed(
                        "This checkout session is already complete.",
                        self.store.success_redirect(session),
                    ),
                )
            if session["status"] == "expired":
                return html_response(
                    status, pages.checkout_closed("This checkout session has expired.")
                )
            plan = self.store.checkout_plans[id]
            price = self.store.prices[plan["price"]]
            customer_email = session["customer_email"]
            if session["customer"]:
                customer_email = self.store.customers[session["customer"]]["email"]
            html = pages.checkout(
                session,
                self.store.products[price["product"]],
                price,
                plan["quantity"],
                plan["trial_days"],
                customer_email,
                error=error,
                card_number=card_number,
                trial_end=plan["trial_end"]
                or (self.store.now() + plan["trial_days"] * 86400 if plan["trial_days"] else None),
                promotion_code=promotion_code,
                discount=self._checkout_discount(id),
            )
            return html_response(status, html)

    def _checkout_discount(self, session_id):
        """(code, amount off) of the promotion code applied to a session, or None."""
        plan = self.store.checkout_plans[session_id]
        if not plan["promotion_code"]:
            return None
        session = self.store.checkout_sessions[session_id]
        code = self.store.promotion_codes[plan["promotion_code"]]["code"]
        return code, session["total_details"]["amount_discount"]

    def checkout_submit(self, request, id):
        form = parse_params(request.body)
        card_number = form.get("card_number", "")
        card_number = card_number if isinstance(card_number, str) else ""
        code = form.get("promotion_code", "")
        code = code if isinstance(code, str) else ""
        with self.store.lock:
            if id not in self.store.checkout_sessions:
                return html_response(404, pages.not_found("No such checkout session."))
            if self.store.checkout_sessions[id]["status"] == "open" and (
                code or form.get("action") == "apply_code"
            ):
                try:
                    self.store.checkout_apply_promotion_code(id, code)
                except StandinError as error:
                    return self.checkout_page(
                        request,
                        id,
                        error=error.message,
                        status=400,
                        card_number=card_number,
                        promotion_code=code,
                    )
            if form.get("action") == "apply_code":  # "Apply" only: show the new total
                return self.checkout_page(request, id, card_number=card_number, promotion_code=code)
            result = self.store.pay_checkout_session(id, card_number)
        if result["http_status"] == 200:
            return redirect(result["redirect"])
        # Keep what was typed after a decline, so the person can see and fix it.
        return self.checkout_page(
            request,
            id,
            error=result["error"],
            status=result["http_status"],
            card_number=card_number,
            promotion_code=code,
        )

    # ---- 3-D Secure, as Stripe's test challenge page --------------------------

    def checkout_authenticate_page(self, request, id):
        with self.store.lock:
            session = self.store.checkout_sessions.get(id)
            if session is None:
                return html_response(404, pages.not_found("No such checkout session."))
            pending = self.store.checkout_authentication(id)
            if pending is None:
                return redirect(f"/checkout/{id}")
            return html_response(
                200,
                pages.three_d_secure(
                    action=f"/checkout/{id}/authenticate",
                    amount=pages.money(session["amount_total"], session["currency"]),
                    card=pending["card"],
                ),
            )

    def checkout_authenticate_submit(self, request, id):
        outcome = parse_params(request.body).get("authentication")
        with self.store.lock:
            if id not in self.store.checkout_sessions:
                return html_response(404, pages.not_found("No such checkout session."))
            if outcome not in ("complete", "fail"):
                return html_response(400, pages.not_found("Choose Complete or Fail."))
            result = self.store.authenticate_checkout_session(id, outcome)
        if result["http_status"] == 200:
            return redirect(result["redirect"])
        # Failed: back to the payment form with Stripe's message, to try again or another card.
        return self.checkout_page(request, id, error=result["error"], status=402)

    # ---- the hosted invoice page ---------------------------------------------

    def invoice_page(self, request, id, error=None, status=200):
        with self.store.lock:
            if id not in self.store.invoices:
                return html_response(404, pages.not_found("No such invoice."))
            invoice, _, product = self.store.invoice_page_state(id)
            customer = self.store.customers.get(invoice["customer"])
            card = self.store.customer_cards.get(invoice["customer"])
            return html_response(
                status, pages.hosted_invoice(invoice, product, customer, card, error=error)
            )

    def invoice_submit(self, request, id):
        outcome = parse_params(request.body).get("authentication")
        with self.store.lock:
            if id not in self.store.invoices:
                return html_response(404, pages.not_found("No such invoice."))
            if outcome not in ("complete", "fail"):
                return html_response(400, pages.not_found("Choose Complete or Fail."))
            error = self.store.pay_invoice_on_page(id, outcome)
        if error:
            return self.invoice_page(request, id, error=error, status=402)
        return redirect(f"/i/{id}")

    # ---- customer portal -----------------------------------------------------

    def portal_page(self, request, id):
        notice = parse_params(request.query).get("done")
        with self.store.lock:
            session = self.store.portal_sessions.get(id)
            if session is None:
                return html_response(404, pages.not_found("No such portal session."))
            rows = []
            for subscription in self.store.customer_subscriptions(session["customer"]):
                price = self.store.prices[subscription["items"]["data"][0]["price"]["id"]]
                rows.append((subscription, self.store.products[price["product"]], price))
            customer = self.store.customers[session["customer"]]
            cancel_actions = self.store.portal_cancel_actions(id)
            switches = {
                subscription["id"]: [
                    (price, self.store.products[price["product"]])
                    for price in self.store.portal_switch_prices(id, subscription)
                ]
                for subscription, _, _ in rows
            }
            return html_response(
                200, pages.portal(session, customer, rows, notice, cancel_actions, switches)
            )

    def portal_submit(self, request, id):
        form = parse_params(request.body)
        action = form.get("action")
        with self.store.lock:
            if id not in self.store.portal_sessions:
                return html_response(404, pages.not_found("No such portal session."))
            try:
                self.store.portal_action(
                    id, form.get("subscription"), action, price_id=form.get("price")
                )
            except StandinError as error:
                return html_response(error.status, pages.not_found(error.message))
        # Post/redirect/get, so reloading the page does not repeat the action.
        return redirect(f"/portal/{id}?{urlencode({'done': action})}")

    # ---- control API (JSON, localhost only) ----------------------------------

    def _json_body(self, request):
        if not request.body.strip():
            return {}
        try:
            data = json.loads(request.body)
        except ValueError:
            raise StandinError("The body must be JSON.") from None
        if not isinstance(data, dict):
            raise StandinError("The body must be a JSON object.")
        return data

    def _control(self, action):
        """Run ``action()`` under the lock; StandinError becomes its JSON error."""
        try:
            with self.store.lock:
                return action()
        except StandinError as error:
            return json_response(error.status, error.body())

    def control_advance(self, request, id):
        def advance():
            action = self._json_body(request).get("action")
            return json_response(200, self.store.advance_subscription(id, action))

        return self._control(advance)

    def control_pay(self, request, id):
        def pay():
            body = self._json_body(request)
            if body.get("promotion_code"):
                self.store.checkout_apply_promotion_code(id, str(body["promotion_code"]))
            result = self.store.pay_checkout_session(
                id, str(body.get("card", "")), authentication=body.get("authentication")
            )
            return json_response(result.pop("http_status"), result)

        return self._control(pay)

    def control_invoice_pay(self, request, id):
        """As the member on the hosted invoice page: {"authentication": "complete" | "fail"}."""

        def pay():
            outcome = self._json_body(request).get("authentication")
            error = self.store.pay_invoice_on_page(id, outcome)
            invoice = self.store.invoices[id]
            return json_response(402 if error else 200, {"error": error, "invoice": invoice})

        return self._control(pay)

    def control_bulk_subscriptions(self, request):
        def bulk():
            body = self._json_body(request)
            made = self.store.bulk_subscriptions(body.get("count"), body.get("price"))
            # As the list API would show them; compact, since there may be a hundred thousand.
            body = json.dumps({"subscriptions": made})
            return Response(200, body)

        return self._control(bulk)

    def control_wait(self, request):
        try:
            timeout = float(self._json_body(request).get("timeout", 10))
        except (StandinError, TypeError, ValueError):
            return json_response(400, StandinError("timeout must be a number of seconds.").body())
        return json_response(200, self.deliverer.wait(timeout=min(max(timeout, 0), 10)))

    def control_default_portal_configuration(self, request):
        """As saving the portal settings in the Dashboard: the account's default configuration."""
        return self._control(
            lambda: json_response(
                200, self.store.response(self.store.default_portal_configuration(), {})
            )
        )

    def control_state(self, request):
        def state():
            data = self.store.dump()
            data["deliveries"] = self.deliverer.counts()
            return json_response(200, data)

        return self._control(state)

    def control_reset(self, request):
        def reset():
            self.store.reset()
            self.deliverer.reset()
            return json_response(200, {"reset": True})

        return self._control(reset)

    def control_clock(self, request):
        def clock():
            if request.method == "GET":
                return json_response(200, self.store.clock_state())
            seconds = self._json_body(request).get("advance_seconds")
            if not isinstance(seconds, (int, float)) or isinstance(seconds, bool):
                raise StandinError("advance_seconds must be a number.", param="advance_seconds")
            return json_response(200, self.store.advance_clock(seconds))

        return self._control(clock)

    def control_card(self, request, id):
        """The card the customer's later charges go to (as updating it in the portal would):
        ``{"card": "4000000000000341"}`` makes renewals and retries fail, 4242... pay them."""
        return self._control(
            lambda: json_response(
                200, self.store.set_customer_card(id, self._json_body(request).get("card"))
            )
        )

    def control_billing_settings(self, request):
        """The account's retry settings: ``{"retry_days": [1, 2, 2, 2], "after_retries":
        "cancel" | "unpaid" | "past_due"}`` (GET shows them)."""

        def settings():
            if request.method == "GET":
                return json_response(200, self.store.billing_settings)
            return json_response(200, self.store.update_billing_settings(self._json_body(request)))

        return self._control(settings)


class Request:
    def __init__(self, method, path, query, headers, body, client_host):
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        self.from_loopback = client_host.startswith("127.") or client_host in (
            "::1",
            "::ffff:127.0.0.1",
        )


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the SDK's HTTP client expects
    server_version = "StripeStandin/1.0"

    def setup(self):
        super().setup()
        # Headers and body go out in separate writes; without this, delayed
        # ACKs add ~40 ms to every keep-alive request.
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def do_DELETE(self):
        self._dispatch("DELETE")

    def _dispatch(self, method):
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8", "replace") if length else ""
        request = Request(method, url.path, url.query, self.headers, body, self.client_address[0])
        try:
            response = self.server.app.handle(request)
        except ParamError as error:
            response = html_response(400, pages.not_found(str(error)))
        except Exception as error:
            # A stand-in bug: answer as Stripe's api_error, so the SDK raises
            # stripe.APIError with this message instead of a dropped connection.
            traceback.print_exc()
            body = {"error": {"type": "api_error", "message": f"Stripe stand-in error: {error!r}"}}
            response = json_response(500, body)
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        self.wfile.write(response.body)

    def log_message(self, format, *args):
        sys.stderr.write("standin: %s\n" % (format % args))


class StandinServer(ThreadingHTTPServer):
    daemon_threads = True

    def server_close(self):
        self.app.deliverer.stop()
        super().server_close()


def create_server(
    host="127.0.0.1",
    port=12111,
    *,
    webhook_url=None,
    webhook_secret=None,
    api_key=None,
    retry_base=0.5,
    webhook_retries="test",
):
    """Bind the stand-in (port 0 picks a free one); call ``serve_forever()`` to run it."""
    server = StandinServer((host, port), Handler)
    url_host = "127.0.0.1" if host in ("", "0.0.0.0") else host
    base_url = f"http://{url_host}:{server.server_address[1]}"
    server.app = App(
        base_url,
        webhook_url=webhook_url,
        webhook_secret=webhook_secret,
        api_key=api_key,
        retry_base=retry_base,
        webhook_retries=webhook_retries,
    )
    server.base_url = base_url
    return server
