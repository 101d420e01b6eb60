"""Saving a budget: the allocation rules re-checked under a lock on the parent (so two
concurrent allocations cannot together exceed it), the change history, and re-evaluation of
alerts. Used by the API, the portal and admin."""

from django.db import transaction

from budgets import allocation, history
from budgets.alerts import queue_evaluation
from budgets.models import Budget


def save(before: Budget | None, after: Budget, write, user, via: str) -> Budget:
    """`before`: the stored budget (None when new); `after`: the unsaved new state; `write()`
    stores it and returns the saved budget. Raises allocation.AllocationError."""
    previous = history.snapshot(before)
    with transaction.atomic():
        if after.parent_id is not None:
            parent = Budget.objects.select_for_update().get(pk=after.parent_id)
            allocation.check(
                before.pk if before else None, parent, after.amount, after.currency, after.period
            )
        budget = write()
        history.record(budget, previous, user, via)
    queue_evaluation(budget.organization_id)
    return budget
