from django.core.management.base import BaseCommand, CommandError

from budgets.cloud_costs import pull
from budgets.models import CloudCostSource
from costsite.orgs.models import Organization


class Command(BaseCommand):
    help = "Pull daily AWS costs (Cost Explorer) into an organization's expenses (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--provider", required=True, choices=["aws"])
        parser.add_argument("--org", required=True, help="Organization slug")
        parser.add_argument("--days", type=int, default=30)
        parser.add_argument("--account", default="", help="AWS account id label")

    def handle(self, *args, provider, org, days, account, **options):
        organization = Organization.objects.filter(slug=org).first()
        if organization is None:
            raise CommandError(f"No organization {org!r}.")
        if not 1 <= days <= 366:
            raise CommandError("--days must be between 1 and 366.")
        source, _ = CloudCostSource.objects.get_or_create(
            organization=organization,
            provider=provider,
            defaults={"account_label": account},
        )
        result = pull(source, days)
        if result.startswith("failed"):
            raise CommandError(result)
        self.stdout.write(result)
