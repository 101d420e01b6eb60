"""django-q2 tasks of the carbon app; each takes ids and is safe to run twice."""

import logging

from carbon.budgets import evaluate
from carbon.models import CarbonBudget

logger = logging.getLogger(__name__)


def evaluate_each(budgets) -> int:
    """Evaluate every budget, one at a time: a budget that cannot be evaluated (bad data saved
    before validation existed, say) is logged and skipped, and the others still alert."""
    fired = 0
    for budget in budgets:
        try:
            fired += len(evaluate(budget))
        except Exception:
            logger.exception("Carbon budget %s could not be evaluated.", budget.pk)
    return fired


def evaluate_organization(organization_id: int) -> int:
    budgets = CarbonBudget.objects.for_org(organization_id).select_related("organization")
    return evaluate_each(budgets)


def evaluate_all() -> int:
    return evaluate_each(CarbonBudget.objects.select_related("organization").iterator())
