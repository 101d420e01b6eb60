"""The current period of a budget (see costsite/periods.py for how periods work)."""

from datetime import datetime

from costsite.periods import Span, span


def current_period(budget, now: datetime) -> Span:
    return span(budget.period, budget.organization.time_zone, now, budget.start, budget.end)
