from django.core.management.base import BaseCommand
from django_q.models import Schedule

from costsite.schedules import SCHEDULES


class Command(BaseCommand):
    help = "Create or update every recurring django-q2 schedule (idempotent)."

    def handle(self, *args, **options):
        for name, (func, schedule_type, minutes) in SCHEDULES.items():
            _, created = Schedule.objects.update_or_create(
                name=name,
                defaults={
                    "func": func,
                    "schedule_type": schedule_type,
                    "minutes": minutes,
                    "repeats": -1,
                },
            )
            self.stdout.write(f"{'created' if created else 'updated'}: {name} -> {func}")
