"""How a newsletter's batch reaches the mail provider: a message per recipient, or one API call.

By default each recipient's message goes on its own through EMAIL_BACKEND (Django's SMTP backend,
one connection per batch). With django-anymail and a provider whose batch API takes our own HTML
with per-recipient merge data and per-recipient headers, a batch goes instead as one API call per
version (the full text, the teaser): the provider fills in each recipient's greeting and
unsubscribe link and sets their List-Unsubscribe header. NEWSLETTER_TRANSPORT chooses: `auto` (the
batch API when EMAIL_BACKEND is one of the providers below), `per-message`, or `anymail-batch`
(and start-up stops if EMAIL_BACKEND cannot do it).

The providers, from django-anymail 15.2's own code and each provider's documentation:

- **Mailgun**: recipient variables, written `%recipient.key%` anywhere in the message, merged as
  given (so the HTML part gets values escaped here); per-recipient headers through recipient
  variables too; at most 1,000 recipients a call.
- **SparkPost**: substitution data, written `{{key}}`, HTML-escaped by SparkPost in the HTML part
  (so the HTML part gets the plain values); per-recipient headers through substitution data.
- **Test**: anymail's test backend (it records what would be posted), for the tests.

Left out, with the reason: Amazon SES and Postmark take merge data only with a template stored at
the provider, Mailtrap's batch variables likewise; Resend takes no merge data; MailerSend and
Mandrill no per-recipient headers, so no per-recipient List-Unsubscribe; SendGrid's support was
dropped by anymail; Brevo, Mailjet and Unisender Go merge into inline HTML too, but whether they
escape what they merge is not documented where we could check, and Mailjet takes 50 messages a
call. Any of them still sends newsletters, message by message, through its anymail backend.
"""

from dataclasses import dataclass

from anymail.backends.base import AnymailBaseBackend
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

AUTO, PER_MESSAGE, ANYMAIL_BATCH = "auto", "per-message", "anymail-batch"
CHOICES = (AUTO, PER_MESSAGE, ANYMAIL_BATCH)


@dataclass(frozen=True)
class BatchAPI:
    """What we need to know of one provider's batch sending."""

    esp_name: str
    field: str  # one merge field as the provider writes it, "{}" standing for its key
    syntax: str  # what, in our own text, the provider would take for the start of a merge field
    escapes_html: bool  # the provider escapes the values it merges into the HTML part
    max_recipients: int  # recipients in one API call

    def merge_field(self, key: str) -> str:
        return self.field.replace("{}", key)

    def mistakes_for_fields(self, *texts: str) -> bool:
        """Whether the provider would read part of these (an article's text) as merge fields.

        Such an article goes message by message instead: the provider would blank the part out.
        """
        return any(self.syntax in text for text in texts)


BATCH_APIS = {
    api.esp_name: api
    for api in [
        # Mailgun's documented limit; kept for all, a batch is NEWSLETTER_BATCH (500) anyway
        BatchAPI("Mailgun", "%recipient.{}%", "%recipient.", False, 1000),
        BatchAPI("SparkPost", "{{{}}}", "{{", True, 1000),
        BatchAPI("Test", "%recipient.{}%", "%recipient.", False, 1000),
    ]
}


def batch_api() -> BatchAPI | None:
    """The provider API a newsletter batch goes through in one call per version, or None for a
    message per recipient. Raises ImproperlyConfigured when NEWSLETTER_TRANSPORT asks for the
    batch API and EMAIL_BACKEND is not one that has it (checked at start-up, apps.py)."""
    choice = settings.NEWSLETTER_TRANSPORT
    if choice == PER_MESSAGE:
        return None
    api = BATCH_APIS.get(_esp_name(settings.EMAIL_BACKEND))
    if api is None and choice == ANYMAIL_BATCH:
        supported = ", ".join(
            f"anymail.backends.{name.lower()}.EmailBackend" for name in BATCH_APIS
        )
        raise ImproperlyConfigured(
            f"NEWSLETTER_TRANSPORT=anymail-batch needs EMAIL_BACKEND to be django-anymail's "
            f"backend for a provider with batch sending ({supported}), not "
            f"{settings.EMAIL_BACKEND!r}. Set NEWSLETTER_TRANSPORT=auto or per-message."
        )
    return api


def _esp_name(backend_path: str) -> str | None:
    """The anymail provider behind a mail backend's dotted path (a subclass counts), or None."""
    try:
        backend = import_string(backend_path)
    except ImportError:
        return None  # Django names the bad EMAIL_BACKEND itself, at the first mail
    if isinstance(backend, type) and issubclass(backend, AnymailBaseBackend):
        name = getattr(backend, "esp_name", None)
        return name if isinstance(name, str) else None
    return None
