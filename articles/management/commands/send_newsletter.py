"""manage.py send_newsletter ARTICLE_SLUG --newsletter SLUG [--audience all|paid|free] [--test-to EMAIL] [--wait]"""

import sys
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.models import Newsletter
from articles import newsletter
from articles.models import Article, Audience, NewsletterSend
from articles.tasks import newsletter_test_task


class Command(BaseCommand):
    help = (
        "Send an article to a newsletter's members, as the admin's \"Send as newsletter\" does: the "
        "workers send it, in batches; this queues the send and returns, or follows it with --wait."
    )

    def add_arguments(self, parser):
        parser.add_argument("article", help="the article's slug")
        parser.add_argument("--newsletter", required=True, help="the newsletter's slug")
        parser.add_argument("--audience", choices=Audience.values, default=Audience.ALL)
        parser.add_argument(
            "--at-publish-time", action="store_true", help="send when the article goes live"
        )
        parser.add_argument("--test-to", metavar="EMAIL", help="only send a test to this address")
        parser.add_argument(
            "--again", action="store_true", help="send even if it already went to this newsletter"
        )
        parser.add_argument("--wait", action="store_true", help="follow the send until it is done")

    def handle(self, *args, **options):
        slug, list_slug, test_to = options["article"], options["newsletter"], options["test_to"]
        try:
            article = Article.objects.defer("body").get(slug=slug)
        except Article.DoesNotExist:
            raise CommandError(f"No article with the slug {slug!r}.") from None
        try:
            chosen = Newsletter.objects.get(slug=list_slug)
        except Newsletter.DoesNotExist:
            slugs = ", ".join(Newsletter.objects.values_list("slug", flat=True)) or "none yet"
            raise CommandError(f"No newsletter {list_slug!r} (there are: {slugs}).") from None
        if test_to:
            newsletter_test_task.delay(article.pk, chosen.pk, test_to)
            self.stdout.write(f"A test send to {test_to} is queued.")
            return
        try:
            with transaction.atomic():
                send = newsletter.send_create(
                    article=article,
                    newsletter=chosen,
                    audience=options["audience"],
                    at_publish_time=options["at_publish_time"],
                    repeat=options["again"],
                )
        except newsletter.RepeatSend as refusal:
            raise CommandError(f"{refusal} Add --again to send it anyway.") from None
        except newsletter.CannotSend as refusal:
            raise CommandError(str(refusal)) from None
        self.stdout.write(
            f"Send {send.pk} of “{article.title}” to {chosen.name} is queued (from {send.send_at:%Y-%m-%d %H:%M})."
        )
        if options["wait"]:
            self._follow(send.pk)

    def _follow(self, send_id: int) -> None:
        """A progress bar until the send is done, paused or cancelled."""
        while True:
            send = NewsletterSend.objects.get(pk=send_id)
            total = max(send.recipients, send.done_count)
            width = 30
            filled = width * send.done_count // total if total else 0
            line = (
                f"\r[{'#' * filled}{'.' * (width - filled)}] {send.done_count}/{total} "
                f"sent {send.sent}, failed {send.failed}, suppressed {send.suppressed} ({send.get_status_display()})"
            )
            self.stdout.write(line, ending="")
            self.stdout.flush()
            if send.status in ("done", "paused", "cancelled"):
                self.stdout.write("")
                return
            time.sleep(1 if sys.stdout.isatty() else 2)
