from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from costsite import demo


class Command(BaseCommand):
    help = "Create or refresh the demo organization 'demo' (login demo@example.com / demo)."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("seed_demo creates a known login; it only runs with DEBUG=1.")
        with transaction.atomic():
            org = demo.seed_organization()
            for seeder in demo.SEEDERS:
                seeder(org)
        self.stdout.write(
            f"Demo organization '{org.slug}' ready: log in as {demo.DEMO_EMAIL} / "
            f"{demo.DEMO_PASSWORD}."
        )
