from django.core.management.base import BaseCommand, CommandError

from budgets import rollups
from costsite.orgs.models import Organization

SHOWN = 10


class Command(BaseCommand):
    help = (
        "Compare every organization's daily spend roll-ups with its expenses; with --repair, "
        "rebuild those that differ. Fails when a difference is left."
    )

    def add_arguments(self, parser):
        parser.add_argument("--org", help="Only this organization (slug)")
        parser.add_argument("--repair", action="store_true", help="Rebuild what differs")

    def handle(self, *args, org=None, repair=False, **options):
        organizations = Organization.objects.order_by("slug")
        if org is not None:
            organizations = organizations.filter(slug=org)
            if not organizations.exists():
                raise CommandError(f"No organization {org!r}.")
        left = []
        for organization in organizations:
            differences = rollups.drift(organization)
            if not differences:
                self.stdout.write(f"{organization.slug}: roll-ups match the expenses")
                continue
            self.stdout.write(f"{organization.slug}: {len(differences)} roll-up key(s) differ")
            for key, have, want in differences[:SHOWN]:
                self.stdout.write(f"  {key}: stored {have}, expenses give {want}")
            if repair:
                rollups.rebuild(organization)
                self.stdout.write(f"{organization.slug}: rebuilt")
            else:
                left.append(organization.slug)
        if left:
            raise CommandError(
                f"Roll-ups differ from the expenses for {', '.join(left)}; "
                "run again with --repair to rebuild them."
            )
