"""The organization overview's spend panel: month-to-date spend and every budget's status."""

import zoneinfo
from datetime import datetime, time

from django.db.models import Sum
from django.utils import timezone

from budgets.figures import figures
from budgets.models import Budget, Expense


def spend_panel(organization, membership) -> dict:
    now = timezone.now()
    tz = zoneinfo.ZoneInfo(organization.time_zone)
    month_start = datetime.combine(now.astimezone(tz).date().replace(day=1), time.min, tzinfo=tz)
    month_to_date = (
        Expense.objects.for_org(organization)
        .filter(currency=organization.currency, incurred_at__gte=month_start, incurred_at__lte=now)
        .aggregate(total=Sum("amount"))["total"]
    )
    budgets = (
        Budget.objects.for_org(organization)
        .filter(parent__isnull=True)
        .select_related("organization")
    )
    return {
        "month_to_date": month_to_date,
        "currency": organization.currency,
        "budgets": [(budget, figures(budget, now)) for budget in budgets],
    }
