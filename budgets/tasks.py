"""django-q2 tasks of the budgets app; each takes ids and is safe to run twice."""

from budgets import alerts, importer, reminders
from budgets.cloud_costs import pull
from budgets.models import CloudCostSource


def evaluate_organization(organization_id: int) -> int:
    """After expenses change: every budget of the organization (scopes may overlap)."""
    return len(alerts.evaluate_organization(organization_id))


def evaluate_all_budgets() -> int:
    """Scheduled: forecasts move with time even without new expenses."""
    return len(alerts.evaluate_everything())


def remind_open_alerts() -> int:
    """Scheduled hourly: reminders of alerts nobody acknowledged (budgets/reminders.py)."""
    return reminders.remind_open_alerts()


def run_import(import_id: int) -> str:
    return importer.run(import_id)


def pull_cloud_costs(days: int = 3) -> str:
    """Scheduled daily: the last few days (Cost Explorer revises recent days) for every
    organization with an enabled source."""
    sources = CloudCostSource.objects.filter(enabled=True).select_related("organization")
    return "; ".join(f"{s.organization.slug}: {pull(s, days)}" for s in sources) or "no sources"
