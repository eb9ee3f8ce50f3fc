"""Set Stripe up for this site, or say what differs: safe to run on every deploy (billing/stripe_setup.py)."""

from django.core.management.base import BaseCommand, CommandError

from billing import stripe_api, stripe_setup


class Command(BaseCommand):
    help = (
        "Create or update, at Stripe, the Products and Prices of the plans, the Customer Portal "
        "configuration and the webhook endpoint at SITE_URL + /billing/stripe/webhook/, each found "
        "again on the next run. Prints what it changed, and a new endpoint's signing secret once. "
        "With --check, changes nothing and exits 1 if anything is missing or different."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--check",
            action="store_true",
            help="Change nothing: list what differs, and exit 1 if anything does.",
        )

    def handle(self, *args, check=False, **options):
        apply = not check
        reports = []
        try:
            # In this order: the portal offers the Prices the plans' sync has just recorded.
            for sync in (
                stripe_setup.plans_sync,
                stripe_setup.portal_sync,
                stripe_setup.webhook_endpoint_sync,
            ):
                reports.append(sync(apply=apply))
        except stripe_api.StripeError as error:
            raise CommandError(f"Stripe refused or could not be reached: {error}") from error
        changes = [line for report in reports for line in report.changes]
        for report in reports:
            for line in report.notes:
                self.stdout.write(line)
            for line in report.changes:
                self.stdout.write(line if apply else f"Differs: {line}")
            for line in report.warnings:
                self.stderr.write(self.style.WARNING(line))
            if report.secret:
                self.stdout.write(
                    self.style.SUCCESS(
                        f"Its signing secret, which Stripe shows only now: {report.secret}\n"
                        "Set STRIPE_WEBHOOK_SECRET to it and restart the site: until then every "
                        "event fails the signature check (Stripe retries them)."
                    )
                )
        warnings = [line for report in reports for line in report.warnings]
        if check and (changes or warnings):
            raise CommandError(
                f"{len(changes) + len(warnings)} difference(s) from what stripe_setup sets up.",
                returncode=1,
            )
        if check:
            self.stdout.write("Stripe is set up as stripe_setup would set it.")
        else:
            self.stdout.write(f"Done: {len(changes)} change(s).")
