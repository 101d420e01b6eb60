"""The organization overview's spend panel: month-to-date spend and every budget's status."""

from django.db.models import Sum
from django.utils import timezone

from budgets.figures import figures
from budgets.models import Budget, DailySpend
from costsite.periods import Period, local_today, span


def spend_panel(organization, membership) -> dict:
    now = timezone.now()
    month = span(Period.MONTHLY, organization.time_zone, now)
    month_to_date = (
        DailySpend.objects.for_org(organization)
        .filter(
            currency=organization.currency,
            day__gte=month.first_day,
            day__lte=local_today(organization.time_zone, now),
        )
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
