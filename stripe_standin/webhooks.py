"""Deliver events to the configured webhook URL, signed as Stripe signs them.

The URL is the stand-in's posting endpoint, a webhook endpoint object in the store (its
``--webhook-url``): each attempt posts to its current url, signed with its secret, and the store
queues only the events its ``enabled_events`` subscribe to. One background thread posts events
in creation order. A failed delivery
(non-2xx, redirect, timeout, refused connection) is retried on Stripe's schedule
(``retry_delays``: three retries over some hours in test mode, up to three days
in live mode, scaled by ``retry_base``) and then given up; meanwhile later events go out,
since Stripe does not promise ordering either. Given-up events stay listed in
GET /v1/events with ``pending_webhooks`` still 1, as at Stripe.
"""

import json
import sys
import threading
import time
import urllib.error
import urllib.request

import stripe

USER_AGENT = "Stripe/1.0 (+https://stripe.com/docs/webhooks)"


# Stripe's automatic retries: "In live mode, Stripe attempts to deliver a given event to your
# webhook endpoint for up to 3 days with an exponential back off. In sandboxes, Stripe retries
# three times over a few hours." It publishes no intervals; these double from an hour, the live
# ones cut to end at 72 hours. Hours, scaled to seconds by the retry base (the first retry's delay).
RETRY_HOURS = {"test": (1, 2, 4), "live": (1, 2, 4, 8, 16, 32, 9)}


def retry_delays(mode="test", retry_base=3600.0):
    """Seconds to wait before each retry: Stripe's schedule with an hour made ``retry_base``."""
    return [hours * retry_base for hours in RETRY_HOURS[mode]]


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # Stripe treats a redirect as a failed delivery rather than following it.
    def redirect_request(self, *args, **kwargs):
        return None


# No proxies: the webhook URL is a local Django server, whatever http_proxy says.
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect)


class Deliverer:
    def __init__(self, store, url, *, retry_base=0.5, retries="test", timeout=5.0, log=None):
        self.store = store
        self.url = url
        self.retry_delays = retry_delays(retries, retry_base)
        self.max_attempts = len(self.retry_delays) + 1
        self.timeout = timeout
        self.log = log or (lambda line: print(line, file=sys.stderr, flush=True))
        self.condition = threading.Condition()
        self.jobs = []  # {"event_id", "attempts", "next_at", "in_flight"}, oldest event first
        self.delivered = 0
        self.failed = 0
        # Bumped by reset(), so a delivery that was in flight during a reset is not counted.
        self.generation = 0
        self.stopped = False
        self.thread = None
        if url:
            self.thread = threading.Thread(target=self._run, name="webhook-delivery", daemon=True)
            self.thread.start()

    def enqueue(self, event_id):
        """Queue an event; called by the store with its lock held."""
        if not self.url:
            return
        self.store.events[event_id]["pending_webhooks"] = 1
        with self.condition:
            self.jobs.append(
                {"event_id": event_id, "attempts": 0, "next_at": 0.0, "in_flight": False}
            )
            self.condition.notify_all()

    def counts(self):
        with self.condition:
            return {"pending": len(self.jobs), "delivered": self.delivered, "failed": self.failed}

    def wait(self, timeout=10.0):
        """Block until nothing is left to deliver (or ``timeout``); return the counts."""
        with self.condition:
            self.condition.wait_for(lambda: not self.jobs, timeout=timeout)
        return self.counts()

    def reset(self):
        with self.condition:
            self.jobs.clear()
            self.delivered = self.failed = 0
            self.generation += 1
            self.condition.notify_all()

    def stop(self):
        with self.condition:
            self.stopped = True
            self.condition.notify_all()

    # ---- the delivery thread -------------------------------------------------

    def _run(self):
        while True:
            with self.condition:
                job = self._next_due_job()
                while job is None and not self.stopped:
                    self.condition.wait(timeout=self._seconds_to_next_job())
                    job = self._next_due_job()
                if self.stopped:
                    return
                job["in_flight"] = True
                generation = self.generation
            self._attempt(job, generation)

    def _next_due_job(self):
        now = time.monotonic()
        for job in self.jobs:
            if not job["in_flight"] and job["next_at"] <= now:
                return job
        return None

    def _seconds_to_next_job(self):
        waiting = [job["next_at"] for job in self.jobs if not job["in_flight"]]
        return max(0.0, min(waiting) - time.monotonic()) if waiting else None

    def _attempt(self, job, generation):
        with self.store.lock:
            event = self.store.events.get(job["event_id"])
            target = self.store.delivery_target()  # None: the endpoint was deleted or disabled
            payload = json.dumps(event, indent=2) if event and target else None
        ok = payload is not None and self._post(job["event_id"], event["type"], payload, *target)
        if ok:
            with self.store.lock:
                if job["event_id"] in self.store.events:
                    self.store.events[job["event_id"]]["pending_webhooks"] = 0
        with self.condition:
            if generation != self.generation:
                return  # reset while we were posting: forget this job
            job["in_flight"] = False
            job["attempts"] += 1
            if ok or payload is None:
                self.jobs.remove(job)
                if ok:
                    self.delivered += 1
            elif job["attempts"] >= self.max_attempts:
                self.jobs.remove(job)
                self.failed += 1
                self.log(f"webhook {job['event_id']} gave up after {job['attempts']} attempts")
            else:
                job["next_at"] = time.monotonic() + self.retry_delays[job["attempts"] - 1]
            self.condition.notify_all()

    def _post(self, event_id, event_type, payload, url, secret):
        # Signed with real time, not the stand-in's clock: receivers check the
        # timestamp against their own clock (300 s tolerance).
        signature = stripe.WebhookSignature.generate_signature_header(payload, secret)
        request = urllib.request.Request(
            url,
            data=payload.encode("utf-8"),
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "Stripe-Signature": signature,
                "User-Agent": USER_AGENT,
            },
        )
        try:
            with _opener.open(request, timeout=self.timeout) as response:
                status = response.status
        except urllib.error.HTTPError as error:
            status = error.code
        except (OSError, ValueError) as error:  # refused, timed out, bad URL
            self.log(f"webhook {event_id} {event_type} -> {error}")
            return False
        self.log(f"webhook {event_id} {event_type} -> {status}")
        return 200 <= status < 300
