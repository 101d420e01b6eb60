from django.core.management.base import BaseCommand, CommandError

from carbon.catalog_loader import load
from estimates.catalog_loader import CatalogueFileError


class Command(BaseCommand):
    help = "Load the shipped carbon catalogue (after load_catalog; idempotent)."

    def handle(self, *args, **options):
        try:
            self.stdout.write(load().summary())
        except CatalogueFileError as exc:
            raise CommandError(f"Carbon catalogue not loaded, nothing changed: {exc}") from exc
