"""Month-to-date emissions, for the dashboard and the organization overview."""

from django.db.models import Sum
from django.utils import timezone

from carbon.models import CarbonRecord
from costsite.periods import Period, span


def month_to_date(org) -> float:
    month = span(Period.MONTHLY, org.time_zone, timezone.now())
    total = (
        CarbonRecord.objects.for_org(org)
        .filter(started_at__gte=month.starts_at)
        .aggregate(total=Sum("co2e_kg"))["total"]
    )
    return round(total or 0.0, 3)


def carbon_panel(organization, membership) -> dict:
    return {"month_to_date_kg": month_to_date(organization)}
