"""Spend summaries over a date range, grouped in the database (no Python loop over expenses):
from the daily roll-ups when the filters and grouping are roll-up keys, else from expenses."""

import unicodedata
import zoneinfo
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import Count, F, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from budgets.models import DailySpend, Expense, TagText
from costsite.orgs.models import Team
from costsite.params import is_id
from costsite.periods import check_supported_day, day_bounds

GROUPS = ("day", "provider", "service", "team", "region", "purchase_type")
ROLLED_UP_GROUPS = {
    "": None,
    "day": "day",
    "provider": "provider",
    "region": "region",
    "team": "team_key",
}
MAX_DAYS = 3 * 366


def usable_tag_key(key: str) -> bool:
    """Any text but an empty one or one with control characters (a newline, say, which would
    end up in CSV file names and headers) is a tag key; see TagText."""
    return bool(key) and not any(unicodedata.category(char) == "Cc" for char in key)


class SummaryError(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class SummaryQuery:
    start: date
    end: date  # inclusive
    currency: str
    provider: str = ""
    team: int | None = None
    tag: tuple[str, str] | None = None
    group_by: str = ""

    @classmethod
    def from_params(cls, params, org) -> "SummaryQuery":
        tz = zoneinfo.ZoneInfo(org.time_zone)
        today = timezone.now().astimezone(tz).date()

        def day(name, default):
            raw = params.get(name)
            if not raw:
                return default
            try:
                parsed = date.fromisoformat(raw)
                check_supported_day(parsed)
            except ValueError as exc:
                raise SummaryError(name, "Use a date like 2026-11-01.") from exc
            except ValidationError as exc:
                raise SummaryError(name, exc.messages[0]) from exc
            return parsed

        start = day("start", today.replace(day=1))
        end = day("end", today)
        if end < start:
            raise SummaryError("end", "The end is before the start.")
        if (end - start).days > MAX_DAYS:
            raise SummaryError("end", f"At most {MAX_DAYS} days at a time.")
        for name in ("provider", "currency", "tag"):
            if "\x00" in params.get(name, ""):  # no stored text has one; PostgreSQL refuses it
                raise SummaryError(name, "No NUL characters.")
        team = params.get("team")
        if team and not is_id(team):
            raise SummaryError("team", "A team id.")
        tag = None
        if params.get("tag"):
            key, sep, value = params["tag"].partition("=")
            if not sep or not usable_tag_key(key):
                raise SummaryError("tag", "Use key=value (no control characters in the key).")
            tag = (key, value)
        group_by = params.get("group_by", "")
        if group_by and group_by not in GROUPS and not group_by.startswith("tag:"):
            raise SummaryError("group_by", f"One of {', '.join(GROUPS)} or tag:<key>.")
        if group_by.startswith("tag:") and not usable_tag_key(group_by[4:]):
            raise SummaryError("group_by", "Use tag:<key> (no control characters in the key).")
        return cls(
            start=start,
            end=end,
            currency=(params.get("currency") or org.currency).upper()[:3],
            provider=params.get("provider", ""),
            team=int(team) if team else None,
            tag=tag,
            group_by=group_by,
        )


def expenses_in(org, query: SummaryQuery):
    starts, ends = day_bounds(query.start, query.end, org.time_zone)
    expenses = Expense.objects.for_org(org).filter(
        currency=query.currency, incurred_at__gte=starts, incurred_at__lt=ends
    )
    if query.provider:
        expenses = expenses.filter(provider=query.provider)
    if query.team:
        expenses = expenses.filter(team_id=query.team)
    if query.tag:
        expenses = expenses.tagged(*query.tag)
    return expenses


def key_expression(org, group_by: str):
    if group_by == "day":
        return TruncDate("incurred_at", tzinfo=zoneinfo.ZoneInfo(org.time_zone))
    if group_by == "team":
        return F("team__name")
    if group_by.startswith("tag:"):
        return TagText(group_by[4:])
    return F(group_by)


def money(value) -> str:
    return str((value or Decimal(0)).quantize(Decimal("0.0001")))


def summarize(org, query: SummaryQuery) -> dict:
    if query.tag is None and query.group_by in ROLLED_UP_GROUPS:
        totals, groups = _from_rollups(org, query)
    else:
        totals, groups = _from_expenses(org, query)
    return {
        "start": query.start.isoformat(),
        "end": query.end.isoformat(),
        "currency": query.currency,
        "total": money(totals["total"]),
        "count": totals["count"],
        "group_by": query.group_by or None,
        "groups": [
            {"key": "" if key is None else str(key), "total": money(total), "count": count}
            for key, total, count in groups
        ],
    }


def _from_expenses(org, query: SummaryQuery):
    expenses = expenses_in(org, query)
    totals = expenses.aggregate(total=Sum("amount"), count=Count("id"))
    if not query.group_by:
        return totals, []
    rows = (
        expenses.annotate(key=key_expression(org, query.group_by))
        .values("key")
        .annotate(total=Sum("amount"), count=Count("id"))
        .order_by("key" if query.group_by == "day" else "-total")
        .values_list("key", "total", "count")
    )
    return totals, list(rows)


def _from_rollups(org, query: SummaryQuery):
    rows = DailySpend.objects.for_org(org).filter(
        currency=query.currency, day__gte=query.start, day__lte=query.end
    )
    if query.provider:
        rows = rows.filter(provider=query.provider)
    if query.team:
        rows = rows.filter(team_key=query.team)
    totals = rows.aggregate(total=Sum("amount"), count=Sum("expenses"))
    totals["count"] = totals["count"] or 0
    if not query.group_by:
        return totals, []
    field = ROLLED_UP_GROUPS[query.group_by]
    grouped = rows.values(field).annotate(total=Sum("amount"), count=Sum("expenses")).order_by()
    grouped = grouped.values_list(field, "total", "count")
    if query.group_by == "team":
        grouped = _by_team_name(org, grouped)
    if query.group_by == "day":
        return totals, sorted(grouped)
    return totals, sorted(grouped, key=lambda row: -row[1])


def _by_team_name(org, rows):
    """Team ids → names (team names are unique in an organization)."""
    names = dict(Team.objects.for_org(org).values_list("pk", "name"))
    return [(names.get(team_key), total, count) for team_key, total, count in rows]
