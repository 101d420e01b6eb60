"""django-q2 tasks of the carbon app; each takes ids and is safe to run twice."""

from carbon.budgets import evaluate
from carbon.models import CarbonBudget


def evaluate_organization(organization_id: int) -> int:
    budgets = CarbonBudget.objects.for_org(organization_id).select_related("organization")
    return sum(len(evaluate(budget)) for budget in budgets)


def evaluate_all() -> int:
    budgets = CarbonBudget.objects.select_related("organization").iterator()
    return sum(len(evaluate(budget)) for budget in budgets)
