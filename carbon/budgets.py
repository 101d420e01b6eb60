"""Carbon budgets: emissions so far this period, and threshold alerts fired once per period.

"Once" is enforced by the database (unique budget + threshold + period start); an alert and its
deliveries are written in one transaction, as for money budgets (budgets/alerts.py).
"""

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone
from django_q.tasks import async_task

from carbon.models import CarbonAlert, CarbonBudget, CarbonRecord
from costsite.notify.delivery import notify
from costsite.periods import Span, span
from costsite.thresholds import reaches


def emissions(budget: CarbonBudget, now=None) -> tuple[Span, float]:
    """The budget's current period and the kg CO2e emitted in it so far (not rounded)."""
    period = span(
        budget.period,
        budget.organization.time_zone,
        now or timezone.now(),
        budget.start,
        budget.end,
    )
    records = CarbonRecord.objects.for_org(budget.organization_id).filter(
        started_at__gte=period.starts_at, started_at__lt=period.ends_at
    )
    if budget.team_id:
        records = records.filter(team_id=budget.team_id)
    return period, records.aggregate(total=Sum("co2e_kg"))["total"] or 0.0


def figures(period: Span, kg: float, budget: CarbonBudget) -> dict:
    """The period and its emissions, rounded for display."""
    return {
        "period_start": period.first_day,
        "period_end": period.last_day,
        "emitted_kg": round(kg, 6),
        "percent_used": round(kg / budget.limit_kg * 100, 2),
    }


def emitted(budget: CarbonBudget, now=None) -> dict:
    return figures(*emissions(budget, now), budget)


def fire(budget: CarbonBudget, percent: int, shown: dict) -> CarbonAlert | None:
    """Store the alert and queue its deliveries in one transaction, so an alert never exists
    without them (a failure in between leaves neither). None if it fired already."""
    try:
        with transaction.atomic():
            alert = CarbonAlert.objects.create(
                organization_id=budget.organization_id,
                budget=budget,
                percent=percent,
                period_start=shown["period_start"],
                emitted_kg=shown["emitted_kg"],
            )
            notify(
                budget.channels.select_related("organization"),
                "carbon.threshold_crossed",
                f"{budget.name}: {percent}% of the carbon budget emitted",
                f"{shown['emitted_kg']:.1f} of {budget.limit_kg:g} kg CO2e "
                f"({shown['period_start']} to {shown['period_end']}).",
                {
                    "budget": {"id": budget.pk, "name": budget.name},
                    "threshold_percent": percent,
                    "emitted_kg": shown["emitted_kg"],
                    "limit_kg": budget.limit_kg,
                    "period": {
                        "start": shown["period_start"].isoformat(),
                        "end": shown["period_end"].isoformat(),
                    },
                },
                reverse("carbon:dashboard", args=[budget.organization.slug]),
            )
    except IntegrityError:
        return None  # fired already in this period (perhaps by another worker just now)
    return alert


def evaluate(budget: CarbonBudget, now=None) -> list[CarbonAlert]:
    """Fire each threshold crossed in the current period that has not fired in it yet."""
    period, kg = emissions(budget, now)
    shown = figures(period, kg, budget)
    fired = []
    for percent in sorted(set(budget.thresholds)):
        if reaches(kg, budget.limit_kg, percent) and (alert := fire(budget, percent, shown)):
            fired.append(alert)
    return fired


def queue_evaluation(organization_id: int) -> None:
    """Re-evaluate the organization's carbon budgets in a worker once the current transaction
    commits, so the worker sees the change (at once outside a transaction)."""
    transaction.on_commit(
        lambda: async_task(
            "carbon.tasks.evaluate_organization",
            organization_id,
            task_name=f"evaluate-carbon-{organization_id}",
        )
    )
