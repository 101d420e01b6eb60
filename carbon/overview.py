"""Month-to-date emissions, for the dashboard and the organization overview."""

import zoneinfo
from datetime import datetime, time

from django.db.models import Sum
from django.utils import timezone

from carbon.models import CarbonRecord


def month_to_date(org) -> float:
    tz = zoneinfo.ZoneInfo(org.time_zone)
    start = datetime.combine(
        timezone.now().astimezone(tz).date().replace(day=1), time.min, tzinfo=tz
    )
    total = (
        CarbonRecord.objects.for_org(org)
        .filter(started_at__gte=start)
        .aggregate(total=Sum("co2e_kg"))["total"]
    )
    return round(total or 0.0, 3)


def carbon_panel(organization, membership) -> dict:
    return {"month_to_date_kg": month_to_date(organization)}
