"""Spend against a budget, aggregated in the database: from the daily roll-ups, or from the
expenses themselves for a tag-scoped budget (tags are not rolled up)."""

import zoneinfo
from decimal import Decimal

from django.db.models import Sum
from django.db.models.functions import TruncDate

from budgets.models import DailySpend, Expense


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


def scoped_rollups(budget):
    """The roll-up rows that count against `budget` (which must not be tag-scoped)."""
    rows = DailySpend.objects.for_org(budget.organization_id).filter(currency=budget.currency)
    if budget.team_id:
        rows = rows.filter(team_key=budget.team_id)
    if budget.scope_provider:
        rows = rows.filter(provider=budget.scope_provider)
    if budget.scope_service_category:
        rows = rows.filter(service_category=budget.scope_service_category)
    if budget.scope_region:
        rows = rows.filter(region=budget.scope_region)
    return rows


def daily_spend(budget, period) -> dict:
    if budget.scope_tag_key:
        return _daily_from_expenses(budget, period)
    rows = (
        scoped_rollups(budget)
        .filter(day__gte=period.first_day, day__lte=period.last_day)
        .values("day")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    return {row["day"]: row["total"] or Decimal(0) for row in rows}


def _daily_from_expenses(budget, period) -> dict:
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
