"""Burn rate and period-end forecast from daily spend. Plain functions on plain values.

- burn rate: mean daily spend over the trailing 7 days (fewer at the start of a period), today
  included;
- forecast: spent so far + burn rate × days left; the band is ± one standard deviation of those
  daily amounts per remaining day (never below what is already spent);
- exhausted on: the day cumulative spend reached the amount, or the projected day it will at
  the current burn rate (None if not within the period);
- status: "over" once spent exceeds the amount, "at_risk" when the forecast does, else
  "on_track".
"""

import math
import statistics
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

WINDOW_DAYS = 7
ZERO = Decimal(0)


@dataclass(frozen=True)
class Projection:
    spent: Decimal
    burn_rate_per_day: Decimal
    expected: Decimal
    low: Decimal
    high: Decimal
    exhausted_on: date | None
    status: str


def q(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


def project(daily: dict, first_day: date, last_day: date, today: date, amount: Decimal):
    """`daily`: date → Decimal spend of that day within the period."""
    today = min(max(today, first_day), last_day)
    spent = sum((v for d, v in daily.items() if d <= today), ZERO)
    window_start = max(first_day, today - timedelta(days=WINDOW_DAYS - 1))
    window = [
        daily.get(window_start + timedelta(days=i), ZERO)
        for i in range((today - window_start).days + 1)
    ]
    rate = sum(window, ZERO) / len(window)
    spread = (
        Decimal(repr(statistics.pstdev([float(v) for v in window]))) if len(window) > 1 else ZERO
    )
    days_left = (last_day - today).days
    expected = spent + rate * days_left
    low = spent + max(ZERO, rate - spread) * days_left
    high = spent + (rate + spread) * days_left
    return Projection(
        spent=q(spent),
        burn_rate_per_day=q(rate),
        expected=q(expected),
        low=q(low),
        high=q(high),
        exhausted_on=exhaustion_day(daily, first_day, last_day, today, amount, spent, rate),
        status="over" if spent > amount else ("at_risk" if expected > amount else "on_track"),
    )


def exhaustion_day(daily, first_day, last_day, today, amount, spent, rate) -> date | None:
    if spent >= amount:
        running = ZERO
        day = first_day
        while day <= today:
            running += daily.get(day, ZERO)
            if running >= amount:
                return day
            day += timedelta(days=1)
        return today
    if rate <= 0:
        return None
    days = math.ceil((amount - spent) / rate)
    return today + timedelta(days=days) if days <= (last_day - today).days else None


def cumulative(daily: dict, first_day: date, through: date) -> list[tuple[date, Decimal]]:
    running, series, day = ZERO, [], first_day
    while day <= through:
        running += daily.get(day, ZERO)
        series.append((day, running))
        day += timedelta(days=1)
    return series
