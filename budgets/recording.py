"""Recording spend: one expense, many at once, idempotently; every write re-evaluates alerts."""

from django.db import IntegrityError, transaction

from budgets.alerts import queue_evaluation
from budgets.models import Expense
from costsite.orgs import audit
from costsite.orgs.models import AuditAction


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
    queue_evaluation(organization.pk)
    return expense, True


def delete(organization, expense: Expense) -> None:
    """Delete one expense (its roll-ups follow, through ExpenseQuerySet.delete), in the audit
    log, and re-evaluate the organization's budgets: the API's and the portal's delete."""
    audit.record(organization, AuditAction.EXPENSE_DELETED, expense)
    expense.delete()
    queue_evaluation(organization.pk)


def insert_new(organization, expenses: list[Expense]) -> list[Expense]:
    """Insert the expenses whose external id is neither stored nor repeated earlier in the list,
    and every one without an external id; the inserted ones, in list order. Exact under
    concurrency: one a concurrent writer stored first is skipped, never counted twice."""
    first = {}
    for expense in expenses:
        if expense.external_id:  # blank ids are not unique: each such expense is its own
            first.setdefault(expense.external_id, expense)
    stored = _stored_external_ids(organization, list(first))
    new = [
        expense
        for expense in expenses
        if not expense.external_id
        or (first[expense.external_id] is expense and expense.external_id not in stored)
    ]
    try:
        with transaction.atomic():
            return Expense.objects.bulk_create(new)
    except IntegrityError:  # a concurrent writer stored some of them meanwhile
        return [expense for expense in new if _insert_one(expense)]


def _stored_external_ids(organization, external_ids: list[str]) -> set[str]:
    return set(
        Expense.objects.for_org(organization)
        .filter(external_id__in=external_ids)
        .values_list("external_id", flat=True)
    )


def _insert_one(expense: Expense) -> bool:
    try:
        with transaction.atomic():
            expense.save()
    except IntegrityError:
        if not expense.external_id:
            raise  # blank ids are never unique, so this is no duplicate to skip
        return False
    return True


@transaction.atomic
def record_many(organization, rows: list[dict], source: str, user=None) -> list[tuple]:
    """All rows or none (the caller validated them), in the same few queries however many rows.
    One (expense, created) per row, in order: a row whose external id is stored, or repeats an
    earlier row's, is not inserted again and gets that stored expense with created False.
    Alerts are evaluated once for the batch, if it added anything."""
    expenses = [
        Expense(organization=organization, source=source, created_by=user, **values)
        for values in rows
    ]
    inserted = insert_new(organization, expenses)
    if inserted:
        queue_evaluation(organization.pk)
    return _outcomes(organization, expenses, inserted)


def _outcomes(organization, expenses: list[Expense], inserted: list[Expense]) -> list[tuple]:
    """(expense, created) per expense; a skipped one is stood for by the stored expense with its
    external id (stored earlier, by an earlier row of the batch, or by a concurrent writer)."""
    created = {id(expense) for expense in inserted}  # unsaved models are unhashable
    skipped = {expense.external_id for expense in expenses if id(expense) not in created}
    stored = {
        expense.external_id: expense
        for expense in Expense.objects.for_org(organization).filter(external_id__in=skipped)
    }
    return [
        (expense, True) if id(expense) in created else (stored[expense.external_id], False)
        for expense in expenses
    ]
