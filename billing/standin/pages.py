"""HTML for the hosted checkout and customer portal pages.

Plain server-rendered forms that work without JavaScript, with real labels,
so a person, a browser test or an accessibility checker can drive them.
"""

import datetime
from html import escape

# Currencies Stripe counts in whole units (no cents).
ZERO_DECIMAL = {"bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx",
                "vnd", "vuv", "xaf", "xof", "xpf"}
SYMBOLS = {"usd": "$", "eur": "€", "gbp": "£", "jpy": "¥", "cad": "CA$", "aud": "A$"}

STYLE = """
body { font-family: system-ui, sans-serif; margin: 0; background: #f6f8fa; color: #1a1a1a; }
main { max-width: 32rem; margin: 2rem auto; background: #fff; padding: 2rem; border-radius: 8px; }
.banner { background: #fff4d6; padding: .5rem .75rem; border-radius: 4px; font-size: .9rem; }
.price { font-size: 1.5rem; font-weight: 600; }
.error { color: #8a1c1c; background: #fdecec; padding: .5rem .75rem; border-radius: 4px; }
.notice { background: #e8f4ea; padding: .5rem .75rem; border-radius: 4px; }
label { display: block; font-weight: 600; margin-top: 1rem; }
input { font-size: 1.1rem; padding: .5rem; width: 100%; box-sizing: border-box; }
button { font-size: 1rem; padding: .6rem 1.2rem; margin-top: 1rem; cursor: pointer; }
section { border-top: 1px solid #ddd; margin-top: 1rem; }
form.inline { display: inline; margin-right: .5rem; }
.hint { font-size: .9rem; color: #555; }
"""

TEST_MODE_BANNER = ('<p class="banner">Test mode: this is the local Stripe stand-in. '
                    "No card is charged.</p>")


def money(amount, currency):
    """``money(500, "usd")`` -> "$5.00"."""
    currency = (currency or "").lower()
    if currency in ZERO_DECIMAL:
        number = "{:,}".format(amount)
    else:
        number = "{:,.2f}".format(amount / 100)
    symbol = SYMBOLS.get(currency)
    return symbol + number if symbol else "%s %s" % (number, currency.upper())


def price_label(price):
    """"$5.00 per month", "$50.00 every 3 months"."""
    amount = money(price["unit_amount"], price["currency"])
    recurring = price["recurring"]
    if not recurring:
        return amount
    if recurring["interval_count"] == 1:
        return "%s per %s" % (amount, recurring["interval"])
    return "%s every %d %ss" % (amount, recurring["interval_count"], recurring["interval"])


def date(timestamp):
    if timestamp is None:
        return ""
    return datetime.datetime.fromtimestamp(timestamp, datetime.timezone.utc).strftime("%-d %B %Y")


def document(title, body):
    return (
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        "<title>%s</title>\n<style>%s</style>\n</head>\n<body>\n<main>\n%s\n%s\n</main>\n</body>\n</html>\n"
        % (escape(title), STYLE, TEST_MODE_BANNER, body)
    )


def not_found(what):
    return document("Not found", "<h1>Not found</h1>\n<p>%s</p>" % escape(what))


# ---- checkout ----------------------------------------------------------------

def checkout(session, product, price, quantity, trial_days, customer_email, error=None, card_number=""):
    """The payment form; ``error`` is shown above it after a failed attempt."""
    plan_name = product["name"]
    lines = ["<h1>Subscribe to %s</h1>" % escape(plan_name),
             '<p class="price">%s</p>' % escape(price_label(price))]
    if quantity != 1:
        lines.append("<p>Quantity: %d (total %s)</p>" % (quantity, escape(money(session["amount_total"], price["currency"]))))
    if trial_days:
        lines.append("<p>Includes a %d-day free trial. You will not be charged today.</p>" % trial_days)
    if customer_email:
        lines.append("<p>Subscribing as %s</p>" % escape(customer_email))
    described_by = "card-help"
    if error:
        lines.append('<p class="error" role="alert" id="card-error">%s</p>' % escape(error))
        described_by = "card-error card-help"
    lines.append(
        '<form method="post" action="/checkout/%s">\n'
        '<label for="card_number">Card number</label>\n'
        '<input id="card_number" name="card_number" type="text" inputmode="numeric" '
        'autocomplete="cc-number" required aria-describedby="%s"%s value="%s">\n'
        '<p class="hint" id="card-help">Test cards: 4242 4242 4242 4242 succeeds; '
        "4000 0000 0000 0002 is declined; 4000 0000 0000 9995 has insufficient funds.</p>\n"
        '<button type="submit">%s</button>\n'
        "</form>"
        % (
            escape(session["id"]),
            described_by,
            ' aria-invalid="true"' if error else "",
            escape(card_number),
            "Start trial" if trial_days else "Subscribe",
        )
    )
    if session["cancel_url"]:
        lines.append('<p><a href="%s">Cancel and return to the site</a></p>' % escape(session["cancel_url"]))
    return document("Subscribe to %s" % plan_name, "\n".join(lines))


def checkout_closed(message, success_url=None):
    """A session that can no longer be paid: complete or expired."""
    body = '<h1>Checkout</h1>\n<p role="status">%s</p>' % escape(message)
    if success_url:
        body += '\n<p><a href="%s">Continue to the site</a></p>' % escape(success_url)
    return document("Checkout", body)


# ---- customer portal ---------------------------------------------------------

NOTICES = {
    "cancel_at_period_end": "Your subscription will end at the close of the current period.",
    "resume": "Your subscription will continue.",
    "cancel_now": "Your subscription has been canceled.",
}

STATUS_LABELS = {
    "active": "Active",
    "trialing": "Free trial",
    "past_due": "Payment failed",
    "canceled": "Canceled",
    "unpaid": "Unpaid",
    "incomplete": "Incomplete",
}


def portal(session, customer, rows, notice=None):
    """The customer's subscriptions; ``rows`` is a list of (subscription, product, price)."""
    lines = ["<h1>Manage your subscription</h1>"]
    if customer.get("email"):
        lines.append("<p>Signed in as %s</p>" % escape(customer["email"]))
    if notice in NOTICES:
        lines.append('<p class="notice" role="status">%s</p>' % escape(NOTICES[notice]))
    if not rows:
        lines.append("<p>You have no subscriptions.</p>")
    for subscription, product, price in rows:
        lines.append(_portal_subscription(session, subscription, product, price))
    if session["return_url"]:
        lines.append('<p><a href="%s">Return to site</a></p>' % escape(session["return_url"]))
    return document("Manage your subscription", "\n".join(lines))


def _portal_subscription(session, subscription, product, price):
    sub_id = escape(subscription["id"])
    item = subscription["items"]["data"][0]
    status = subscription["status"]
    facts = [("Price", price_label(price)), ("Status", STATUS_LABELS.get(status, status))]
    if status == "trialing":
        facts.append(("Trial ends", date(subscription["trial_end"])))
    if status == "canceled":
        facts.append(("Ended", date(subscription["ended_at"])))
    elif subscription["cancel_at_period_end"]:
        facts.append(("Cancels on", date(subscription["cancel_at"])))
    else:
        facts.append(("Renews on", date(item["current_period_end"])))
    lines = [
        '<section aria-labelledby="sub-%s">' % sub_id,
        '<h2 id="sub-%s">%s</h2>' % (sub_id, escape(product["name"])),
        "<dl>",
        *("<dt>%s</dt><dd>%s</dd>" % (escape(term), escape(value)) for term, value in facts),
        "</dl>",
    ]
    if status != "canceled":
        if subscription["cancel_at_period_end"]:
            lines.append(_action_form(session, subscription, "resume", "Resume"))
        else:
            lines.append(_action_form(session, subscription, "cancel_at_period_end", "Cancel at period end"))
        lines.append(_action_form(session, subscription, "cancel_now", "Cancel now"))
    lines.append("</section>")
    return "\n".join(lines)


def _action_form(session, subscription, action, label):
    return (
        '<form class="inline" method="post" action="/portal/%s/action">'
        '<input type="hidden" name="subscription" value="%s">'
        '<input type="hidden" name="action" value="%s">'
        '<button type="submit">%s</button></form>'
        % (escape(session["id"]), escape(subscription["id"]), action, escape(label))
    )
