"""Nested budgets: a parent's allocations may not add up to more than the parent."""

from decimal import Decimal

from django.db import transaction
from django.db.models import Sum

from budgets import history
from budgets.models import Budget


class AllocationError(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def allocated(parent: Budget, exclude_id: int | None = None) -> Decimal:
    children = parent.allocations.all()
    if exclude_id:
        children = children.exclude(pk=exclude_id)
    return children.aggregate(total=Sum("amount"))["total"] or Decimal(0)


def check(
    budget_id: int | None, parent: Budget | None, amount: Decimal, currency: str, period: str
) -> None:
    """Raise AllocationError if saving a budget with these values would break the rules."""
    if parent is not None:
        if parent.parent_id is not None:
            raise AllocationError("parent", "Allocations cannot have allocations of their own.")
        if budget_id is not None and parent.pk == budget_id:
            raise AllocationError("parent", "A budget cannot be its own parent.")
        if parent.currency != currency:
            raise AllocationError(
                "currency", f"Allocations use the parent's currency ({parent.currency})."
            )
        if parent.period != period:
            raise AllocationError(
                "period", f"Allocations use the parent's period ({parent.period})."
            )
        free = parent.amount - allocated(parent, exclude_id=budget_id)
        if amount > free:
            raise AllocationError(
                "amount",
                f"Only {free} {parent.currency} of {parent.name} is not yet allocated.",
            )
    if budget_id is not None:
        existing = Budget.objects.filter(pk=budget_id).first()
        if existing is not None and existing.allocations.exists():
            if parent is not None:
                raise AllocationError("parent", "A budget with allocations cannot become one.")
            if currency != existing.currency:
                raise AllocationError(
                    "currency",
                    f"Its allocations use {existing.currency}: a budget with allocations keeps "
                    "its currency.",
                )
            if period != existing.period:
                raise AllocationError(
                    "period",
                    f"Its allocations are {existing.period}: a budget with allocations keeps "
                    "its period.",
                )
            taken = allocated(existing)
            if amount < taken:
                raise AllocationError(
                    "amount", f"Its allocations already add up to {taken} {currency}."
                )


PRESET_TOTALS = {"small": Decimal(500), "medium": Decimal(2000), "large": Decimal(10000)}
# How a GPU CI/testing budget is split (editable after creation).
PRESET_SPLIT = [
    ("Smoke and unit tests", Decimal("0.15")),
    ("Integration tests", Decimal("0.25")),
    ("Benchmarks", Decimal("0.25")),
    ("Accelerator validation", Decimal("0.20")),
    ("On-demand debugging", Decimal("0.15")),
]
# The longest preset name whose allocations ("<name>: <activity>") still fit a budget's name.
PRESET_NAME_LENGTH = Budget._meta.get_field("name").max_length - max(
    len(f": {activity}") for activity, _ in PRESET_SPLIT
)


def create_preset(
    organization, size: str, name: str, team=None, currency: str = "USD", *, user=None, via: str
) -> Budget:
    """A monthly parent budget and its PRESET_SPLIT allocations, each with its history."""
    total = PRESET_TOTALS[size]
    with transaction.atomic():
        parent = Budget.objects.create(
            organization=organization,
            team=team,
            name=name,
            amount=total,
            currency=currency,
            period="monthly",
        )
        allocations = [
            Budget.objects.create(
                organization=organization,
                team=team,
                parent=parent,
                name=f"{name}: {activity}",
                activity=activity,
                amount=(total * share).quantize(Decimal("0.01")),
                currency=currency,
                period="monthly",
            )
            for activity, share in PRESET_SPLIT
        ]
        for budget in [parent, *allocations]:
            history.record(budget, {}, user, via)
    return parent
