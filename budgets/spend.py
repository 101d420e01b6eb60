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
        expenses = expenses.tagged(budget.scope_tag_key, budget.scope_tag_value)
    return expenses


def scoped_rollups(budget):
    """The roll-up rows that count against `budget` (which must not be tag-scoped)."""
    return DailySpend.objects.for_org(budget.organization_id).filter(
        **scope_filters(budget, "team_key")
    )


def period_rows(budget, period):
    """The rows that count against `budget` in `period`: its roll-ups, or its expenses when it
    is tag-scoped (roll-ups keep no tags)."""
    if budget.scope_tag_key:
        return _expenses_in(budget, period)
    return scoped_rollups(budget).filter(day__gte=period.first_day, day__lte=period.last_day)


def _expenses_in(budget, period):
    return scoped_expenses(budget).filter(
        incurred_at__gte=period.starts_at, incurred_at__lt=period.ends_at
    )


def period_total(budget, period):
    """A query of one row, (budget id, spend in `period`), to combine with others' (UNION ALL)."""
    return (
        period_rows(budget, period)
        .values("organization_id")
        .annotate(budget_id=Value(budget.pk), total=Sum("amount"))
        .values_list("budget_id", "total")
        .order_by()
    )


def daily_spend(budget, period) -> dict:
    if budget.scope_tag_key:
        return _daily_from_expenses(budget, period)
    return _by_day(period_rows(budget, period))


def _daily_from_expenses(budget, period) -> dict:
    """By the organization's local day, as the roll-ups are."""
    tz = zoneinfo.ZoneInfo(budget.organization.time_zone)
    return _by_day(_expenses_in(budget, period).annotate(day=TruncDate("incurred_at", tzinfo=tz)))


def _by_day(rows) -> dict:
    totals = rows.values("day").annotate(total=Sum("amount")).order_by()
    return {row["day"]: row["total"] or Decimal(0) for row in totals}
