"""Forecast maths on known series; periods across month and time-zone boundaries."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from budgets.forecast import cumulative, project
from budgets.models import Budget
from budgets.periods import current_period
from costsite.periods import period_dates


def series(first: date, amounts) -> dict:
    return {first + timedelta(days=i): Decimal(str(a)) for i, a in enumerate(amounts) if a}


def test_steady_spend_projects_linearly():
    daily = series(date(2026, 11, 1), [10] * 10)  # 10/day for Nov 1-10
    p = project(daily, date(2026, 11, 1), date(2026, 11, 30), date(2026, 11, 10), Decimal(300))
    assert p.spent == Decimal("100.0000")
    assert p.burn_rate_per_day == Decimal("10.0000")
    assert p.expected == Decimal("300.0000")  # 100 + 10 × 20 days left
    assert p.low == p.high == p.expected  # no variation, no band
    assert p.exhausted_on == date(2026, 11, 30)  # 200 left at 10/day → 20 days
    assert p.status == "on_track"  # 300 is not more than 300


def test_burn_rate_uses_the_trailing_week_and_the_band_its_spread():
    # 5/day for a week, then 20 and 0 alternating for the last 7 days (mean 80/7, σ ≈ 9.90)
    amounts = [5] * 7 + [20, 0, 20, 0, 20, 0, 20]
    daily = series(date(2026, 11, 1), amounts)
    p = project(daily, date(2026, 11, 1), date(2026, 11, 30), date(2026, 11, 14), Decimal(500))
    assert p.spent == Decimal("115.0000")
    assert p.burn_rate_per_day == Decimal("11.4286")  # 80 / 7
    assert p.expected == Decimal("297.8571")  # 115 + 80/7 × 16
    assert p.low == Decimal("139.4982")  # 115 + (80/7 − 9.897433) × 16
    assert p.high == Decimal("456.2161")  # 115 + (80/7 + 9.897433) × 16
    assert p.status == "on_track"


def test_overspent_budget_reports_the_day_it_ran_out():
    daily = series(date(2026, 11, 1), [40, 40, 40])
    p = project(daily, date(2026, 11, 1), date(2026, 11, 30), date(2026, 11, 3), Decimal(100))
    assert p.status == "over" and p.exhausted_on == date(2026, 11, 3)


def test_forecast_over_budget_is_at_risk_and_no_spend_never_runs_out():
    daily = series(date(2026, 11, 1), [20, 20])
    at_risk = project(daily, date(2026, 11, 1), date(2026, 11, 30), date(2026, 11, 2), Decimal(500))
    assert at_risk.status == "at_risk" and at_risk.exhausted_on == date(2026, 11, 25)
    idle = project({}, date(2026, 11, 1), date(2026, 11, 30), date(2026, 11, 2), Decimal(500))
    assert (idle.spent, idle.exhausted_on, idle.status) == (Decimal("0.0000"), None, "on_track")


def test_cumulative_series():
    daily = series(date(2026, 11, 1), [1, 0, 2])
    assert cumulative(daily, date(2026, 11, 1), date(2026, 11, 3)) == [
        (date(2026, 11, 1), Decimal(1)),
        (date(2026, 11, 2), Decimal(1)),
        (date(2026, 11, 3), Decimal(3)),
    ]


@pytest.mark.parametrize(
    ("period", "day", "first", "last"),
    [
        ("monthly", date(2026, 2, 14), date(2026, 2, 1), date(2026, 2, 28)),
        ("monthly", date(2028, 2, 29), date(2028, 2, 1), date(2028, 2, 29)),
        ("monthly", date(2026, 12, 31), date(2026, 12, 1), date(2026, 12, 31)),
        ("quarterly", date(2026, 11, 22), date(2026, 10, 1), date(2026, 12, 31)),
        ("quarterly", date(2026, 1, 1), date(2026, 1, 1), date(2026, 3, 31)),
        ("yearly", date(2026, 7, 4), date(2026, 1, 1), date(2026, 12, 31)),
    ],
)
def test_recurring_periods_follow_the_calendar(period, day, first, last):
    assert period_dates(period, day) == (first, last)


def test_period_rolls_over_at_local_midnight(org_a):
    org_a.time_zone = "America/Los_Angeles"
    org_a.save()
    budget = Budget(organization=org_a, name="b", amount=100, period="monthly")
    # 2026-12-01 05:00 UTC is still November 30 in Los Angeles
    late_november = current_period(budget, datetime(2026, 12, 1, 5, 0, tzinfo=UTC))
    assert late_november.first_day == date(2026, 11, 1)
    assert late_november.ends_at == datetime(2026, 12, 1, 8, 0, tzinfo=UTC)  # local midnight
    december = current_period(budget, datetime(2026, 12, 1, 9, 0, tzinfo=UTC))
    assert december.first_day == date(2026, 12, 1)
    assert december.starts_at == late_november.ends_at


def test_custom_period_is_fixed(org_a):
    budget = Budget(
        organization=org_a,
        name="b",
        amount=100,
        period="custom",
        start=date(2026, 10, 15),
        end=date(2027, 1, 14),
    )
    period = current_period(budget, datetime(2026, 11, 22, tzinfo=UTC))
    assert (period.first_day, period.last_day, period.days) == (
        date(2026, 10, 15),
        date(2027, 1, 14),
        92,
    )


def test_a_tiny_burn_against_a_huge_budget_never_runs_out_within_the_period():
    daily = series(date(2026, 11, 1), [Decimal("0.0001")])
    p = project(daily, date(2026, 11, 1), date(2026, 11, 30), date(2026, 11, 2), Decimal(10**9))
    assert p.exhausted_on is None  # the day is millions of years away: no date overflow
