"""The change history of budgets: who changed which figure, when, from what to what."""

from budgets.models import Budget, BudgetChange

TRACKED = [
    "name",
    "amount",
    "currency",
    "period",
    "start",
    "end",
    "team_id",
    "parent_id",
    "activity",
    "scope_provider",
    "scope_service_category",
    "scope_region",
    "scope_tag_key",
    "scope_tag_value",
]


def snapshot(budget: Budget | None) -> dict:
    if budget is None or budget.pk is None:
        return {}
    return {name: getattr(budget, name) for name in TRACKED}


def record(budget: Budget, before: dict, user, via: str) -> None:
    after = snapshot(budget)
    changes = [
        BudgetChange(
            organization_id=budget.organization_id,
            budget=budget,
            field=name.removesuffix("_id"),
            old_value="" if before.get(name) is None else str(before.get(name))[:200],
            new_value="" if value is None else str(value)[:200],
            changed_by=user if user and user.is_authenticated else None,
            via=via,
        )
        for name, value in after.items()
        if (before.get(name) if before else None) != value and (before or value not in ("", None))
    ]
    BudgetChange.objects.bulk_create(changes)
