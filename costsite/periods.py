"""Calendar periods in an organization's time zone, shared by money and carbon budgets.

Recurring periods follow the calendar (month, quarter, year) and roll over on their own: the
period is always the one containing the day asked about. Custom periods have fixed first and
last days. A period is given as dates (first day, last day inclusive) and as aware datetimes
[start, end) at local midnight, which is what records are filtered on.
"""

import zoneinfo
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

# Budget dates and report windows must stay in this range: period arithmetic near date.max
# overflows, and nothing is budgeted centuries away.
EARLIEST_DAY = date(2000, 1, 1)
LATEST_DAY = date(2100, 12, 31)


def check_supported_day(day: date) -> None:
    """A model-field validator (so forms, admin and the API all apply it)."""
    if day is not None and not EARLIEST_DAY <= day <= LATEST_DAY:
        raise ValidationError(f"Use a date between {EARLIEST_DAY} and {LATEST_DAY}.")


# How far ahead of this machine's clock the time of something that has happened may be (the
# sender's clock may run ahead).
MAX_CLOCK_SKEW = timedelta(days=1)


def check_past_time(value: datetime) -> datetime:
    """When something that has already happened did (an event, a reading): this century, and no
    later than now plus MAX_CLOCK_SKEW."""
    return _check_from_2000(value, MAX_CLOCK_SKEW, "Must be between 2000 and now.")


def check_plausible_time(value: datetime) -> datetime:
    """When spend or a job can have happened: this century, and at most a year ahead. The one
    rule for API fields, portal and admin forms and FOCUS rows."""
    return _check_from_2000(value, timedelta(days=366), "Must be between 2000 and a year from now.")


def _check_from_2000(value: datetime, ahead: timedelta, message: str) -> datetime:
    if not datetime.combine(EARLIEST_DAY, time(), tzinfo=UTC) <= value <= timezone.now() + ahead:
        raise ValidationError(message)
    return value


class Period(models.TextChoices):
    MONTHLY = "monthly", "Monthly"
    QUARTERLY = "quarterly", "Quarterly"
    YEARLY = "yearly", "Yearly"
    CUSTOM = "custom", "Custom dates"


@dataclass(frozen=True)
class Span:
    first_day: date
    last_day: date
    starts_at: datetime  # aware; local midnight of first_day
    ends_at: datetime  # aware; local midnight after last_day (exclusive)

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1


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


def day_bounds(first: date, last: date, tz_name: str) -> tuple[datetime, datetime]:
    """The days `first` to `last` in the zone `tz_name`: from local midnight of `first` to local
    midnight after `last` (the end excluded)."""
    tz = zoneinfo.ZoneInfo(tz_name)
    return (
        datetime.combine(first, time.min, tzinfo=tz),
        datetime.combine(last + timedelta(days=1), time.min, tzinfo=tz),
    )


def span(period: str, tz_name: str, now: datetime, start=None, end=None) -> Span:
    first, last = period_dates(period, local_today(tz_name, now), start, end)
    starts_at, ends_at = day_bounds(first, last, tz_name)
    return Span(
        first_day=first,
        last_day=last,
        starts_at=starts_at,
        ends_at=ends_at,
    )
