"""Budget periods in the organization's time zone.

Recurring budgets follow the calendar (month, quarter, year) and roll over on their own: the
period is always the one containing the day asked about. Custom budgets have fixed first and
last days. A period is returned as dates (first day, last day inclusive) and as UTC datetimes
[start, end) at local midnight, which is what expenses are filtered on.
"""

import zoneinfo
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from budgets.models import Period


@dataclass(frozen=True)
class BudgetPeriod:
    first_day: date
    last_day: date
    starts_at: datetime  # aware; local midnight of first_day
    ends_at: datetime  # aware; local midnight after last_day (exclusive)

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1

    def contains(self, day: date) -> bool:
        return self.first_day <= day <= self.last_day


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    return date(day.year + month // 12, month % 12 + 1, 1)


def local_today(tz_name: str, now: datetime) -> date:
    return now.astimezone(zoneinfo.ZoneInfo(tz_name)).date()


def period_dates(period: str, day: date, start: date | None = None, end: date | None = None):
    if period == Period.CUSTOM:
        return start, end
    if period == Period.MONTHLY:
        first = day.replace(day=1)
        return first, _add_months(first, 1) - timedelta(days=1)
    if period == Period.QUARTERLY:
        first = date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
        return first, _add_months(first, 3) - timedelta(days=1)
    first = date(day.year, 1, 1)
    return first, date(day.year, 12, 31)


def current_period(budget, now: datetime) -> BudgetPeriod:
    tz = zoneinfo.ZoneInfo(budget.organization.time_zone)
    today = now.astimezone(tz).date()
    first, last = period_dates(budget.period, today, budget.start, budget.end)
    return BudgetPeriod(
        first_day=first,
        last_day=last,
        starts_at=datetime.combine(first, time.min, tzinfo=tz),
        ends_at=datetime.combine(last + timedelta(days=1), time.min, tzinfo=tz),
    )
