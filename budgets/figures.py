"""A budget's figures for its current period: spent, remaining, burn rate, forecast, status."""

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from budgets.forecast import Projection, cumulative, project
from budgets.periods import current_period
from budgets.spend import daily_spend
from costsite.periods import Span, local_today

STATUS_LABELS = {"on_track": "On track", "at_risk": "At risk", "over": "Over budget"}


def percent_of(amount: Decimal, budget_amount: Decimal) -> float:
    """`amount` as a percentage of a budget's amount, to two places: for display only."""
    return round(float(amount / budget_amount * 100), 2)


@dataclass(frozen=True)
class BudgetFigures:
    period: Span
    projection: Projection
    daily: dict
    amount: Decimal
    currency: str

    @property
    def spent(self):
        return self.projection.spent

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.projection.status]

    @property
    def percent_used(self) -> float:
        return percent_of(self.projection.spent, self.amount)

    @property
    def forecast_percent(self) -> float:
        return percent_of(self.projection.expected, self.amount)

    def as_dict(self) -> dict:
        p = self.projection
        return {
            "period_start": self.period.first_day.isoformat(),
            "period_end": self.period.last_day.isoformat(),
            "spent": str(p.spent),
            "remaining": str(self.amount - p.spent),
            "percent_used": self.percent_used,
            "burn_rate_per_day": str(p.burn_rate_per_day),
            "forecast": {"expected": str(p.expected), "low": str(p.low), "high": str(p.high)},
            "exhausted_on": p.exhausted_on.isoformat() if p.exhausted_on else None,
            "status": p.status,
            "currency": self.currency,
        }

    def chart(self, today) -> dict:
        """Cumulative spend to date, the budget line and the forecast band to the period end."""
        through = min(today, self.period.last_day)
        actual = cumulative(self.daily, self.period.first_day, through)
        return {
            "labels": [
                (self.period.first_day + timedelta(days=i)).isoformat()
                for i in range(self.period.days)
            ],
            "actual": [float(v) for _, v in actual],
            "budget": float(self.amount),
            "forecast_start": through.isoformat(),
            "forecast": {
                "expected": float(self.projection.expected),
                "low": float(self.projection.low),
                "high": float(self.projection.high),
            },
            "currency": self.currency,
        }


def figures(budget, now=None) -> BudgetFigures:
    now = now or timezone.now()
    period = current_period(budget, now)
    daily = daily_spend(budget, period)
    today = local_today(budget.organization.time_zone, now)
    projection = project(daily, period.first_day, period.last_day, today, budget.amount)
    return BudgetFigures(period, projection, daily, budget.amount, budget.currency)
