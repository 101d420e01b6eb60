"""Saving a budget: the allocation rules re-checked under locks on the parent and the budget
(so two concurrent allocations cannot together exceed their parent, nor a parent change under
its allocations), the change history, and re-evaluation of alerts. Used by the API, the portal
and admin."""

from django.db import transaction

from budgets import allocation, history
from budgets.alerts import queue_evaluation
from budgets.models import Budget


def save(before: Budget | None, after: Budget, write, user, via: str) -> Budget:
    """`before`: the stored budget (None when new); `after`: the unsaved new state; `write()`
    stores it and returns the saved budget. Raises allocation.AllocationError."""
    previous = history.snapshot(before)
    with transaction.atomic():
        # Lock the parent, then the budget itself (always in that order): a concurrent change
        # of either waits, so the rules hold between a parent and its allocations.
        parent = None
        if after.parent_id is not None:
            parent = Budget.objects.select_for_update().get(pk=after.parent_id)
        if before is not None:
            Budget.objects.select_for_update().filter(pk=before.pk).first()
        allocation.check(
            before.pk if before else None, parent, after.amount, after.currency, after.period
        )
        budget = write()
        history.record(budget, previous, user, via)
    queue_evaluation(budget.organization_id)
    return budget
