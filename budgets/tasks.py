"""django-q2 tasks of the budgets app; each takes ids and is safe to run twice."""

from budgets import importer
from budgets.alerts import evaluate
from budgets.cloud_costs import pull
from budgets.models import Budget, CloudCostSource


def evaluate_organization(organization_id: int) -> int:
    """After expenses change: every budget of the organization (scopes may overlap)."""
    budgets = Budget.objects.for_org(organization_id).select_related("organization")
    return sum(len(evaluate(budget)) for budget in budgets)


def evaluate_all_budgets() -> int:
    """Scheduled: forecasts move with time even without new expenses."""
    fired = 0
    for budget in Budget.objects.select_related("organization").iterator():
        fired += len(evaluate(budget))
    return fired


def run_import(import_id: int) -> str:
    return importer.run(import_id)


def pull_cloud_costs(days: int = 3) -> str:
    """Scheduled daily: the last few days (Cost Explorer revises recent days) for every
    organization with an enabled source."""
    sources = CloudCostSource.objects.filter(enabled=True).select_related("organization")
    return "; ".join(f"{s.organization.slug}: {pull(s, days)}" for s in sources) or "no sources"
