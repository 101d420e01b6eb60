from django.core.management.base import BaseCommand, CommandError

from estimates.catalog_loader import CatalogueFileError, load_catalog


class Command(BaseCommand):
    help = "Load the shipped GPU price catalogue (idempotent; organizations' prices untouched)."

    def handle(self, *args, **options):
        try:
            report = load_catalog()
        except CatalogueFileError as exc:
            raise CommandError(f"Catalogue not loaded, nothing changed: {exc}") from exc
        self.stdout.write(report.summary())
