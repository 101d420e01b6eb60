"""Recording spend: one expense, many at once, idempotently; every write re-evaluates alerts."""

from django.db import IntegrityError, transaction

from budgets.alerts import queue_evaluation
from budgets.models import Expense


def after_commit_evaluate(organization_id: int) -> None:
    transaction.on_commit(lambda: queue_evaluation(organization_id))


def record(organization, values: dict, source: str, user=None) -> tuple[Expense, bool]:
    """Create an expense, or return the existing one with the same external id (a retried
    request is a no-op, not a double charge). Returns (expense, created)."""
    external_id = values.get("external_id") or ""
    if external_id:
        existing = Expense.objects.for_org(organization).filter(external_id=external_id).first()
        if existing:
            return existing, False
    try:
        with transaction.atomic():
            expense = Expense.objects.create(
                organization=organization, source=source, created_by=user, **values
            )
    except IntegrityError:
        # A concurrent request with the same external id won the race.
        return Expense.objects.for_org(organization).get(external_id=external_id), False
    after_commit_evaluate(organization.pk)
    return expense, True


def insert_new(organization, expenses: list[Expense]) -> list[Expense]:
    """Insert the expenses whose external id is neither stored nor repeated earlier in the list;
    the inserted ones. Exact under concurrency: one a concurrent writer stored first is skipped,
    never counted twice."""
    first = {}
    for expense in expenses:
        first.setdefault(expense.external_id, expense)
    stored = set(
        Expense.objects.for_org(organization)
        .filter(external_id__in=list(first))
        .values_list("external_id", flat=True)
    )
    new = [expense for key, expense in first.items() if key not in stored]
    try:
        with transaction.atomic():
            return Expense.objects.bulk_create(new)
    except IntegrityError:  # a concurrent writer stored some of them meanwhile
        return [expense for expense in new if _insert_one(expense)]


def _insert_one(expense: Expense) -> bool:
    try:
        with transaction.atomic():
            expense.save()
    except IntegrityError:
        return False
    return True


@transaction.atomic
def record_many(organization, rows: list[dict], source: str, user=None) -> list[tuple]:
    """All rows or none (the caller validated them); duplicates by external id are skipped."""
    return [record(organization, values, source, user) for values in rows]
