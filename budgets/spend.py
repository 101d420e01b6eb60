"""Spend against a budget, aggregated in the database: from the daily roll-ups, or from the
expenses themselves for a tag-scoped budget (tags are not rolled up)."""

import zoneinfo
from decimal import Decimal

from django.db.models import Sum, Value
from django.db.models.functions import TruncDate

from budgets.models import DailySpend, Expense


def scope_filters(budget, team_field: str) -> dict:
    """The lookups of `budget`'s currency, team (under `team_field`) and scope columns."""
    filters = {"currency": budget.currency}
    if budget.team_id:
        filters[team_field] = budget.team_id
    for scope, column in (
        (budget.scope_provider, "provider"),
        (budget.scope_service_category, "service_category"),
        (budget.scope_region, "region"),
    ):
        if scope:
            filters[column] = scope
    return filters


def scoped_expenses(budget):
    """Expenses that count against `budget`: its organization and currency, its team if any,
    and every scope filter that is set."""
    expenses = Expense.objects.for_org(budget.organization_id).filter(
        **scope_filters(budget, "team_id")
    )
    if budget.scope_tag_key:
        expenses = expenses.filter(**{f"tags__{budget.scope_tag_key}": budget.scope_tag_value})
    return expenses


def scoped_rollups(budget):
    """The roll-up rows that count against `budget` (which must not be tag-scoped)."""
    return DailySpend.objects.for_org(budget.organization_id).filter(
        **scope_filters(budget, "team_key")
    )


def period_total(budget, period):
    """A query of one row, (budget id, spend in `period`), to combine with others' (UNION ALL)."""
    if budget.scope_tag_key:
        rows = scoped_expenses(budget).filter(
            incurred_at__gte=period.starts_at, incurred_at__lt=period.ends_at
        )
    else:
        rows = scoped_rollups(budget).filter(day__gte=period.first_day, day__lte=period.last_day)
    return (
        rows.values("organization_id")
        .annotate(budget_id=Value(budget.pk), total=Sum("amount"))
        .values_list("budget_id", "total")
        .order_by()
    )


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
