"""Evaluating alert rules: each rule fires at most once per budget period.

"Once" is enforced by the database (unique rule + period start): concurrent evaluations of the
same budget, from several workers, all try to insert and exactly one succeeds; only that one
sends notifications.
"""

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django_q.tasks import async_task

from budgets.figures import figures
from budgets.models import Alert, AlertKind, Budget
from costsite.notify.delivery import notify

EVENTS = {
    AlertKind.ACTUAL: "budget.threshold_crossed",
    AlertKind.FORECAST: "budget.forecast_exceeds",
}


def payload(alert: Alert, budget: Budget) -> dict:
    return {
        "budget": {"id": budget.pk, "name": budget.name},
        "threshold_percent": str(alert.percent),
        "kind": alert.kind,
        "spent": str(alert.spent),
        "amount": str(alert.amount),
        "forecast": str(alert.forecast),
        "currency": alert.currency,
        "period": {"start": alert.period_start.isoformat(), "end": alert.period_end.isoformat()},
    }


def message(alert: Alert, budget: Budget) -> tuple[str, str]:
    if alert.kind == AlertKind.ACTUAL:
        title = f"{budget.name}: {alert.percent}% of the budget spent"
    else:
        title = f"{budget.name}: forecast exceeds {alert.percent}% of the budget"
    text = (
        f"Spent {alert.spent} of {alert.amount} {alert.currency} "
        f"({alert.period_start} to {alert.period_end}); forecast for the period end "
        f"{alert.forecast} {alert.currency}."
    )
    return title, text


def evaluate(budget: Budget, now=None) -> list[Alert]:
    """Fire every rule of `budget` whose threshold is crossed in the current period and has
    not fired in it yet. Returns the alerts this call created."""
    now = now or timezone.now()
    current = figures(budget, now)
    fired = []
    for rule in budget.alert_rules.prefetch_related("channels"):
        value = current.percent_used if rule.kind == AlertKind.ACTUAL else current.forecast_percent
        if value < float(rule.percent):
            continue
        try:
            with transaction.atomic():
                alert = Alert.objects.create(
                    organization_id=budget.organization_id,
                    rule=rule,
                    budget=budget,
                    period_start=current.period.first_day,
                    period_end=current.period.last_day,
                    kind=rule.kind,
                    percent=rule.percent,
                    spent=current.projection.spent,
                    forecast=current.projection.expected,
                    amount=budget.amount,
                    currency=budget.currency,
                )
        except IntegrityError:
            continue  # already fired in this period (perhaps by another worker just now)
        title, text = message(alert, budget)
        url = reverse("budgets:detail", args=[budget.organization.slug, budget.pk])
        notify(rule.channels.all(), EVENTS[rule.kind], title, text, payload(alert, budget), url)
        fired.append(alert)
    return fired


def queue_evaluation(organization_id: int) -> None:
    """Re-evaluate the organization's budgets in a worker (after its expenses changed)."""
    async_task(
        "budgets.tasks.evaluate_organization",
        organization_id,
        task_name=f"evaluate-budgets-{organization_id}",
    )
