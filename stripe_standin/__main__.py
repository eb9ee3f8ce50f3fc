"""``python -m stripe_standin``: run the Stripe stand-in until interrupted."""

import argparse
import os
import sys

from .server import create_server


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog="python -m stripe_standin", description=__doc__)
    parser.add_argument("--host", default=os.environ.get("STANDIN_HOST", "127.0.0.1"))
    parser.add_argument(
        "--port",
        type=int,
        default=int(os.environ.get("STANDIN_PORT", "12111")),
        help="0 picks a free port (default: $STANDIN_PORT or 12111)",
    )
    parser.add_argument(
        "--webhook-url",
        default=os.environ.get("STANDIN_WEBHOOK_URL") or None,
        help="where events are posted (default: $STANDIN_WEBHOOK_URL; "
        "without one, events are only stored)",
    )
    parser.add_argument(
        "--webhook-secret",
        default=os.environ.get("STRIPE_WEBHOOK_SECRET") or None,
        help="whsec_... used to sign webhooks (default: $STRIPE_WEBHOOK_SECRET)",
    )
    parser.add_argument(
        "--api-key",
        default=os.environ.get("STANDIN_API_KEY") or None,
        help="accept only this secret key (default: $STANDIN_API_KEY, else any sk_test_ key)",
    )
    parser.add_argument(
        "--retry-base",
        type=float,
        default=0.5,
        help="first webhook retry delay in seconds, standing for Stripe's hour: later ones "
        "follow Stripe's schedule (see --webhook-retries) at that scale (default 0.5)",
    )
    parser.add_argument(
        "--webhook-retries",
        choices=("test", "live"),
        default="test",
        help="Stripe's retry schedule: test (3 retries over some hours, as in sandboxes; the "
        "default) or live (for up to 3 days)",
    )
    args = parser.parse_args(argv)
    if args.webhook_url and not args.webhook_secret:
        parser.error("--webhook-secret (or STRIPE_WEBHOOK_SECRET) is required with a webhook URL")
    return args


def main(argv=None):
    args = parse_args(argv)
    server = create_server(
        args.host,
        args.port,
        webhook_url=args.webhook_url,
        webhook_secret=args.webhook_secret,
        api_key=args.api_key,
        retry_base=args.retry_base,
        webhook_retries=args.webhook_retries,
    )
    print(f"Stripe stand-in listening on {server.base_url}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
