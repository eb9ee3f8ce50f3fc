"""HTML for the hosted checkout and customer portal pages.

Plain server-rendered forms that work without JavaScript, with real labels,
so a person, a browser test or an accessibility checker can drive them.
"""

import datetime
from html import escape

# Currencies Stripe counts in whole units (no cents).
ZERO_DECIMAL = {
    "bif",
    "clp",
    "djf",
    "gnf",
    "jpy",
    "kmf",
    "krw",
    "mga",
    "pyg",
    "rwf",
    "ugx",
    "vnd",
    "vuv",
    "xaf",
    "xof",
    "xpf",
}
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

TEST_MODE_BANNER = (
    '<p class="banner">Test mode: this is the local Stripe stand-in. No card is charged.</p>'
)


def money(amount, currency):
    """``money(500, "usd")`` -> "$5.00"."""
    currency = (currency or "").lower()
    number = f"{amount:,}" if currency in ZERO_DECIMAL else f"{amount / 100:,.2f}"
    symbol = SYMBOLS.get(currency)
    return symbol + number if symbol else f"{number} {currency.upper()}"


def price_label(price):
    """ "$5.00 per month", "$50.00 every 3 months"."""
    amount = money(price["unit_amount"], price["currency"])
    recurring = price["recurring"]
    if not recurring:
        return amount
    if recurring["interval_count"] == 1:
        return f"{amount} per {recurring['interval']}"
    return f"{amount} every {recurring['interval_count']} {recurring['interval']}s"


def date(timestamp):
    if timestamp is None:
        return ""
    return datetime.datetime.fromtimestamp(timestamp, datetime.UTC).strftime("%-d %B %Y")


def document(title, body):
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n{TEST_MODE_BANNER}\n{body}\n</main>\n</body>\n</html>\n"
    )


def not_found(what):
    return document("Not found", f"<h1>Not found</h1>\n<p>{escape(what)}</p>")


# ---- checkout ----------------------------------------------------------------


def checkout(
    session,
    product,
    price,
    quantity,
    trial_days,
    customer_email,
    error=None,
    card_number="",
    trial_end=None,
    promotion_code="",
    discount=None,
):
    """The payment form; ``error`` is shown above it after a failed attempt.

    ``trial_end`` (a timestamp) is when a trial ends, as Stripe's page says when the first
    payment is taken. With ``allow_promotion_codes`` it takes a code; ``discount`` is (code,
    amount off) once one applies, and the total due today is shown after it and any tax.
    """
    plan_name = product["name"]
    lines = [
        f"<h1>Subscribe to {escape(plan_name)}</h1>",
        f'<p class="price">{escape(price_label(price))}</p>',
    ]
    if quantity != 1:
        total = escape(money(session["amount_total"], price["currency"]))
        lines.append(f"<p>Quantity: {quantity} (total {total})</p>")
    currency = price["currency"]
    if discount:
        code, amount_off = discount
        lines.append(
            f'<p class="notice" role="status">Promotion code {escape(code)} applied: '
            f"{escape(money(amount_off, currency))} off.</p>"
        )
    if session["total_details"]["amount_tax"]:
        lines.append(
            f"<p>Tax: {escape(money(session['total_details']['amount_tax'], currency))}</p>"
        )
    if discount or session["total_details"]["amount_tax"]:
        lines.append(
            f'<p>Total due today: <strong id="total">'
            f"{escape(money(0 if trial_days or trial_end else session['amount_total'], currency))}"
            "</strong></p>"
        )
    if trial_days:
        lines.append(
            f"<p>Includes a {trial_days}-day free trial. You will not be charged today.</p>"
        )
    if trial_end:
        then = escape(price_label(price))
        lines.append(
            f'<p class="trial">Free until {date(trial_end)}. You won\'t be charged until '
            f"{date(trial_end)}, then {then} starting that day.</p>"
        )
    if customer_email:
        lines.append(f"<p>Subscribing as {escape(customer_email)}</p>")
    described_by = "card-help"
    if error:
        lines.append(f'<p class="error" role="alert" id="card-error">{escape(error)}</p>')
        described_by = "card-error card-help"
    session_id = escape(session["id"])
    invalid = ' aria-invalid="true"' if error else ""
    button = "Start trial" if trial_days or trial_end else "Subscribe"
    lines.append(
        f'<form method="post" action="/checkout/{session_id}">\n'
        '<label for="card_number">Card number</label>\n'
        '<input id="card_number" name="card_number" type="text" inputmode="numeric" '
        f'autocomplete="cc-number" required aria-describedby="{described_by}"{invalid} '
        f'value="{escape(card_number)}">\n'
        '<p class="hint" id="card-help">Test cards: 4242 4242 4242 4242 succeeds; '
        "4000 0000 0000 0002 is declined; 4000 0000 0000 9995 has insufficient funds; "
        "4000 0025 0000 3155 asks for 3-D Secure once; 4000 0027 6000 3184 asks for it on "
        "every payment, renewals too.</p>\n"
        + (_promotion_code_field(promotion_code) if session["allow_promotion_codes"] else "")
        + f'<button type="submit">{button}</button>\n'
        "</form>"
    )
    if session["cancel_url"]:
        cancel_url = escape(session["cancel_url"])
        lines.append(f'<p><a href="{cancel_url}">Cancel and return to the site</a></p>')
    return document(f"Subscribe to {plan_name}", "\n".join(lines))


def _promotion_code_field(promotion_code):
    return (
        '<label for="promotion_code">Promotion code</label>\n'
        '<input id="promotion_code" name="promotion_code" type="text" autocomplete="off" '
        f'value="{escape(promotion_code)}">\n'
        '<button type="submit" name="action" value="apply_code" formnovalidate>Apply</button>\n'
    )


def three_d_secure(action, amount, card):
    """Stripe's test 3-D Secure challenge: the bank asks the cardholder to confirm a payment."""
    body = (
        "<h1>Confirm your payment</h1>\n"
        f"<p>Your bank asks you to confirm the payment of <strong>{escape(amount)}</strong> "
        f"with the card ending {escape(card[-4:])}. (3-D Secure test page: choose an outcome.)</p>\n"
        f'<form method="post" action="{escape(action)}">\n'
        '<button type="submit" name="authentication" value="complete">Complete authentication</button>\n'
        '<button type="submit" name="authentication" value="fail">Fail authentication</button>\n'
        "</form>"
    )
    return document("Confirm your payment", body)


def hosted_invoice(invoice, product_name, customer, card, error=None):
    """Stripe's hosted invoice page: what is due, and a way to pay (confirm) it."""
    amount = money(invoice["amount_due"], invoice["currency"])
    lines = [f"<h1>Invoice {escape(invoice['number'] or invoice['id'])}</h1>"]
    if product_name:
        lines.append(f"<p>{escape(product_name)}</p>")
    if customer and customer.get("email"):
        lines.append(f"<p>Billed to {escape(customer['email'])}</p>")
    for discount in invoice["total_discount_amounts"] or []:
        lines.append(f"<p>Discount: -{escape(money(discount['amount'], invoice['currency']))}</p>")
    for tax in invoice["total_taxes"] or []:
        lines.append(f"<p>Tax: {escape(money(tax['amount'], invoice['currency']))}</p>")
    if error:
        lines.append(f'<p class="error" role="alert">{escape(error)}</p>')
    if invoice["status"] == "paid":
        paid = money(invoice["amount_paid"], invoice["currency"])
        lines.append(f'<p class="notice" role="status">Paid: {escape(paid)}. Thank you.</p>')
    elif invoice["status"] == "open":
        lines.append(f'<p class="price">Amount due: {escape(amount)}</p>')
        ending = f" with the card ending {escape(card[-4:])}" if card else ""
        lines.append(
            f"<p>Your bank asks you to confirm this payment{ending}. "
            "(3-D Secure test page: choose an outcome.)</p>\n"
            f'<form method="post" action="/i/{escape(invoice["id"])}">\n'
            '<button type="submit" name="authentication" value="complete">Complete authentication</button>\n'
            '<button type="submit" name="authentication" value="fail">Fail authentication</button>\n'
            "</form>"
        )
    else:
        lines.append(f"<p>This invoice is {escape(invoice['status'])}.</p>")
    return document(f"Invoice {invoice['number'] or invoice['id']}", "\n".join(lines))


def checkout_closed(message, success_url=None):
    """A session that can no longer be paid: complete or expired."""
    body = f'<h1>Checkout</h1>\n<p role="status">{escape(message)}</p>'
    if success_url:
        body += f'\n<p><a href="{escape(success_url)}">Continue to the site</a></p>'
    return document("Checkout", body)


# ---- customer portal ---------------------------------------------------------

NOTICES = {
    "cancel_at_period_end": "Your subscription will end at the close of the current period.",
    "resume": "Your subscription will continue.",
    "cancel_now": "Your subscription has been canceled.",
    "switch": "Your plan has been updated.",
}

STATUS_LABELS = {
    "active": "Active",
    "trialing": "Free trial",
    "past_due": "Payment failed",
    "canceled": "Canceled",
    "unpaid": "Unpaid",
    "incomplete": "Incomplete",
}


def portal(session, customer, rows, notice=None, cancel_actions=frozenset(), switches=None):
    """The customer's subscriptions; ``rows`` is a list of (subscription, product, price).

    ``cancel_actions`` are the cancellation buttons the session's configuration offers
    (``cancel_at_period_end`` or ``cancel_now``); a pending cancellation can always be resumed.
    ``switches`` maps a subscription id to the (price, product) pairs it may switch to.
    """
    switches = switches or {}
    lines = ["<h1>Manage your subscription</h1>"]
    if customer.get("email"):
        lines.append(f"<p>Signed in as {escape(customer['email'])}</p>")
    if notice in NOTICES:
        lines.append(f'<p class="notice" role="status">{escape(NOTICES[notice])}</p>')
    if not rows:
        lines.append("<p>You have no subscriptions.</p>")
    for subscription, product, price in rows:
        lines.append(
            _portal_subscription(
                session,
                subscription,
                product,
                price,
                cancel_actions,
                switches.get(subscription["id"], []),
            )
        )
    if session["return_url"]:
        return_url = escape(session["return_url"])
        lines.append(f'<p><a href="{return_url}">Return to site</a></p>')
    return document("Manage your subscription", "\n".join(lines))


def _portal_subscription(session, subscription, product, price, cancel_actions, switches=()):
    sub_id = escape(subscription["id"])
    item = subscription["items"]["data"][0]
    status = subscription["status"]
    facts = [("Price", price_label(price)), ("Status", STATUS_LABELS.get(status, status))]
    if status == "trialing":
        facts.append(("Trial ends", date(subscription["trial_end"])))
    if status == "canceled":
        facts.append(("Ended", date(subscription["ended_at"])))
    elif subscription["cancel_at_period_end"] or subscription["cancel_at"]:
        facts.append(("Cancels on", date(subscription["cancel_at"])))
    elif status != "trialing":  # a trial's end is already its next payment date
        facts.append(("Renews on", date(item["current_period_end"])))
    lines = [
        f'<section aria-labelledby="sub-{sub_id}">',
        f'<h2 id="sub-{sub_id}">{escape(product["name"])}</h2>',
        "<dl>",
        *(f"<dt>{escape(term)}</dt><dd>{escape(value)}</dd>" for term, value in facts),
        "</dl>",
    ]
    if status != "canceled":
        if subscription["cancel_at_period_end"] or subscription["cancel_at"]:
            lines.append(_action_form(session, subscription, "resume", "Resume"))
        elif "cancel_at_period_end" in cancel_actions:
            lines.append(
                _action_form(session, subscription, "cancel_at_period_end", "Cancel at period end")
            )
        if "cancel_now" in cancel_actions:
            lines.append(_action_form(session, subscription, "cancel_now", "Cancel now"))
        for other, other_product in switches:
            label = f"Switch to {other_product['name']} ({price_label(other)})"
            lines.append(_action_form(session, subscription, "switch", label, price=other["id"]))
    lines.append("</section>")
    return "\n".join(lines)


def _action_form(session, subscription, action, label, price=None):
    chosen = f'<input type="hidden" name="price" value="{escape(price)}">' if price else ""
    return (
        f'<form class="inline" method="post" action="/portal/{escape(session["id"])}/action">'
        f'<input type="hidden" name="subscription" value="{escape(subscription["id"])}">'
        f'<input type="hidden" name="action" value="{action}">{chosen}'
        f'<button type="submit">{escape(label)}</button></form>'
    )
