"""Evaluating alert rules: each rule's threshold fires at most once per budget period.

"Once" is enforced by the database (unique rule + period start + kind + percent): concurrent
evaluations of the same budget, from several workers, all try to insert and exactly one
succeeds; only that one sends notifications. The alert and its deliveries are written in one
transaction. A rule edited to another threshold can fire that one in the same period.

Cost: an evaluation reads the budgets, their open rules and every such budget's spend in a few
queries (not a few per budget), and computes full figures only where a rule may fire;
evaluations of one organization are coalesced (see `queue_evaluation`).
"""

import logging
import time
from decimal import Decimal
from itertools import islice

from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache
from django.db import IntegrityError, transaction
from django.db.models import F, Max, Prefetch, Q
from django.urls import reverse
from django.utils import timezone
from django_q.tasks import async_task

from budgets.figures import figures
from budgets.models import Alert, AlertKind, AlertRule, Budget
from budgets.periods import current_period
from budgets.spend import period_total
from costsite.notify.delivery import notify
from costsite.thresholds import reaches

logger = logging.getLogger(__name__)

EVENTS = {
    AlertKind.ACTUAL: "budget.threshold_crossed",
    AlertKind.FORECAST: "budget.forecast_exceeds",
}


def payload(alert: Alert, budget: Budget) -> dict:
    return {
        "alert": {"id": alert.pk},
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


def with_rules(budgets):
    """`budgets` (a queryset) with their rules, each annotated with the start of the last
    period its current threshold (kind and percent) fired in: two queries however many
    budgets, rules and alerts there are."""
    same_threshold = Q(alerts__kind=F("kind"), alerts__percent=F("percent"))
    rules = AlertRule.objects.annotate(
        last_fired=Max("alerts__period_start", filter=same_threshold)
    ).only("id", "budget_id", "kind", "percent")
    return budgets.select_related("organization").prefetch_related(
        Prefetch("alert_rules", queryset=rules)
    )


def crossed(rule: AlertRule, current) -> bool:
    value = current.spent if rule.kind == AlertKind.ACTUAL else current.projection.expected
    return reaches(value, current.amount, rule.percent)


def send(budget: Budget, channels, event: str, title: str, text: str, data: dict) -> None:
    """Queue a budget alert's message to `channels`, linking to the budget's page."""
    url = reverse("budgets:detail", args=[budget.organization.slug, budget.pk])
    notify(channels, event, title, text, data, url)


def fire(rule: AlertRule, budget: Budget, current) -> Alert | None:
    """Store the alert and queue its deliveries in one transaction, so an alert never exists
    without them (a worker dying in between leaves neither). None if it fired already."""
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
            title, text = message(alert, budget)
            send(
                budget,
                rule.channels.select_related("organization"),
                EVENTS[rule.kind],
                title,
                text,
                payload(alert, budget),
            )
    except IntegrityError:
        return None  # already fired in this period (perhaps by another worker just now)
    return alert


CHUNK = 200  # budgets read, and summed in one query, at a time


def spent_by_budget(budgets_and_periods) -> dict[int, Decimal]:
    """Each budget's spend in its period in one query (a UNION ALL of one small aggregate per
    budget, over the roll-ups) rather than one round trip per budget."""
    parts = [period_total(budget, period) for budget, period in budgets_and_periods]
    if not parts:
        return {}
    return dict(parts[0].union(*parts[1:], all=True))


def may_fire(budget: Budget, rules: list[AlertRule], spent) -> bool:
    """Whether an open rule could fire at this spend: any forecast rule (a forecast needs the
    figures), or an actual-spend rule at or under the percent spent."""
    spent = spent or Decimal(0)
    return any(
        r.kind == AlertKind.FORECAST or reaches(spent, budget.amount, r.percent) for r in rules
    )


def evaluate_budgets(budgets, now=None) -> list[Alert]:
    """Fire every rule of `budgets` (a queryset) whose threshold is crossed in the current
    period and has not fired in it yet. Returns the alerts this call created. The spend of
    every budget with a rule left to fire is read in one query; the full figures only for
    those where a rule may fire."""
    now = now or timezone.now()
    fired = []
    rows = with_rules(budgets).iterator(chunk_size=CHUNK)
    while chunk := list(islice(rows, CHUNK)):
        candidates = []
        for budget in chunk:
            period = current_period(budget, now)
            rules = [r for r in budget.alert_rules.all() if r.last_fired != period.first_day]
            if rules:
                candidates.append((budget, period, rules))
        spent = spent_by_budget([(budget, period) for budget, period, _ in candidates])
        for budget, _, rules in candidates:
            if not may_fire(budget, rules, spent.get(budget.pk)):
                continue
            current = figures(budget, now)
            for rule in rules:
                if crossed(rule, current) and (alert := fire(rule, budget, current)):
                    fired.append(alert)
    return fired


def evaluate(budget: Budget, now=None) -> list[Alert]:
    return evaluate_budgets(Budget.objects.filter(pk=budget.pk), now)


def evaluate_everything(now=None) -> list[Alert]:
    """Every budget with a rule, organization by organization: one whose evaluation fails (a
    bad budget, say) is logged and skipped, and the others' alerts still fire."""
    fired = []
    organization_ids = AlertRule.objects.order_by("organization_id").values_list(
        "organization_id", flat=True
    )
    for organization_id in organization_ids.distinct():
        try:
            fired += evaluate_budgets(Budget.objects.for_org(organization_id), now)
        except Exception:
            logger.exception("Evaluating the budgets of organization %s failed", organization_id)
    return fired


# Evaluations of one organization are coalesced through the cache (Redis when REDIS_URL is set):
# - while one is queued and has not started, later expenses queue no other (it will read them);
# - one runs at a time; a request that comes in meanwhile makes the running one go round again
#   instead of a second worker re-reading every budget alongside it.
# Both marks expire, in case the task holding one is lost with its worker (a task lost from the
# Redis queue is lost anyway; the 15-minute schedule evaluates every budget).
PENDING_TIMEOUT_S = 60
RUNNING_TIMEOUT_S = 60
# A task goes round for at most this long, then hands over to a new task (django-q's timeout).
ROUNDS_FOR_S = 30


def pending_key(organization_id: int) -> str:
    return f"budgets:evaluation-pending:{organization_id}"


def running_key(organization_id: int) -> str:
    return f"budgets:evaluation-running:{organization_id}"


def coalescing() -> bool:
    """Only a cache shared by web and worker processes can say a task is already queued."""
    return not isinstance(caches["default"], LocMemCache)


def queue_evaluation(organization_id: int) -> None:
    """Re-evaluate the organization's budgets in a worker (after its expenses, budgets or rules
    changed) once the current transaction commits, so the worker sees the change (at once
    outside a transaction)."""
    transaction.on_commit(lambda: queue_now(organization_id))


def queue_now(organization_id: int) -> None:
    """Queue the evaluation unless one is already queued and not yet started: at 20 expenses a
    second, one task per expense would queue evaluations faster than workers run them."""
    if coalescing() and not caches["default"].add(
        pending_key(organization_id), 1, PENDING_TIMEOUT_S
    ):
        return
    enqueue(organization_id)


def enqueue(organization_id: int) -> None:
    async_task(
        "budgets.tasks.evaluate_organization",
        organization_id,
        task_name=f"evaluate-budgets-{organization_id}",
        save=False,  # the alerts are the result; failures are still saved
    )


def evaluate_organization(organization_id: int) -> list[Alert]:
    """Evaluate every budget of the organization (scopes may overlap), then again while new
    requests came in during the run; nothing if another worker is evaluating it (that one
    will go round again for this request)."""
    budgets = Budget.objects.for_org(organization_id)
    if not coalescing():
        return evaluate_budgets(budgets)
    cache = caches["default"]
    fired = []
    hand_over_at = time.monotonic() + ROUNDS_FOR_S
    while cache.add(running_key(organization_id), 1, RUNNING_TIMEOUT_S):
        try:
            # Before reading anything: expenses committed from now on request another round.
            cache.delete(pending_key(organization_id))
            fired += evaluate_budgets(budgets)
        finally:
            cache.delete(running_key(organization_id))
        if not cache.get(pending_key(organization_id)):
            break
        if time.monotonic() > hand_over_at:
            enqueue(organization_id)  # the pending request goes to a fresh task
            break
    return fired
