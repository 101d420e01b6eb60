"""Spend against a budget, aggregated in the database."""

import zoneinfo
from decimal import Decimal

from django.db.models import Sum
from django.db.models.functions import TruncDate

from budgets.models import Expense


def scoped_expenses(budget):
    """Expenses that count against `budget`: its organization and currency, its team if any,
    and every scope filter that is set."""
    expenses = Expense.objects.for_org(budget.organization_id).filter(currency=budget.currency)
    if budget.team_id:
        expenses = expenses.filter(team_id=budget.team_id)
    if budget.scope_provider:
        expenses = expenses.filter(provider=budget.scope_provider)
    if budget.scope_service_category:
        expenses = expenses.filter(service_category=budget.scope_service_category)
    if budget.scope_region:
        expenses = expenses.filter(region=budget.scope_region)
    if budget.scope_tag_key:
        expenses = expenses.filter(**{f"tags__{budget.scope_tag_key}": budget.scope_tag_value})
    return expenses


def daily_spend(budget, period) -> dict:
    tz = zoneinfo.ZoneInfo(budget.organization.time_zone)
    rows = (
        scoped_expenses(budget)
        .filter(incurred_at__gte=period.starts_at, incurred_at__lt=period.ends_at)
        .annotate(day=TruncDate("incurred_at", tzinfo=tz))
        .values("day")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    return {row["day"]: row["total"] or Decimal(0) for row in rows}
