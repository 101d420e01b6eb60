from django.core.management.base import BaseCommand, CommandError

from estimates import refresh


class Command(BaseCommand):
    help = "Refresh public catalogue prices from the provider's API (AWS: Price List + spot)."

    def add_arguments(self, parser):
        parser.add_argument("--provider", required=True, choices=["aws"])
        parser.add_argument("--region", action="append", help="Repeat for several regions.")

    def handle(self, *args, provider, region, **options):
        if not refresh.aws_configured():
            raise CommandError(
                "No AWS credentials found (environment, ~/.aws or an instance role); "
                "nothing refreshed."
            )
        report, errors = refresh.refresh_aws(region)
        self.stdout.write(report.summary())
        for code, error in errors.items():
            self.stderr.write(f"{code}: {error}")
        if errors and not (report.created or report.updated or report.kept_newer):
            raise CommandError("Every region failed.")
