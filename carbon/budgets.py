"""Carbon budgets: emissions so far this period, and threshold alerts fired once per period."""

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone
from django_q.tasks import async_task

from carbon.models import CarbonAlert, CarbonBudget, CarbonRecord
from costsite.notify.delivery import notify
from costsite.periods import span


def emitted(budget: CarbonBudget, now=None) -> dict:
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
    kg = records.aggregate(total=Sum("co2e_kg"))["total"] or 0.0
    return {
        "period_start": period.first_day,
        "period_end": period.last_day,
        "emitted_kg": round(kg, 6),
        "percent_used": round(kg / budget.limit_kg * 100, 2),
    }


def evaluate(budget: CarbonBudget, now=None) -> list[CarbonAlert]:
    figures = emitted(budget, now)
    fired = []
    for percent in sorted(set(budget.thresholds)):
        if figures["percent_used"] < percent:
            continue
        try:
            with transaction.atomic():
                alert = CarbonAlert.objects.create(
                    organization_id=budget.organization_id,
                    budget=budget,
                    percent=percent,
                    period_start=figures["period_start"],
                    emitted_kg=figures["emitted_kg"],
                )
        except IntegrityError:
            continue  # fired already in this period
        notify(
            budget.channels.all(),
            "carbon.threshold_crossed",
            f"{budget.name}: {percent}% of the carbon budget emitted",
            f"{figures['emitted_kg']:.1f} of {budget.limit_kg:g} kg CO2e "
            f"({figures['period_start']} to {figures['period_end']}).",
            {
                "budget": {"id": budget.pk, "name": budget.name},
                "threshold_percent": percent,
                "emitted_kg": figures["emitted_kg"],
                "limit_kg": budget.limit_kg,
                "period": {
                    "start": figures["period_start"].isoformat(),
                    "end": figures["period_end"].isoformat(),
                },
            },
            reverse("carbon:dashboard", args=[budget.organization.slug]),
        )
        fired.append(alert)
    return fired


def queue_evaluation(organization_id: int) -> None:
    async_task(
        "carbon.tasks.evaluate_organization",
        organization_id,
        task_name=f"evaluate-carbon-{organization_id}",
    )
