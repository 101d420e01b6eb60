"""FOCUS billing imports, run by a django-q2 task.

Two passes over the file: the first checks every row and counts them; a file with any bad row
is rejected whole (its line numbers reported) and nothing is written. The second inserts in
batches, skipping rows whose external id (a hash of the row, see focus.py) is already stored,
so re-importing a file, or an overlapping one, adds nothing. Batches commit one by one so the
progress is visible; a worker killed half-way is retried and the retry skips what was stored.
"""

from datetime import timedelta

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from budgets import focus
from budgets.alerts import queue_evaluation
from budgets.models import Expense, ExpenseImport, ExpenseSource, ImportStatus

BATCH = 2000
MAX_REPORTED_ERRORS = 1000
STALE_AFTER = timedelta(minutes=15)


def claim(import_id: int, now) -> bool:
    """queued → running, or take over a run abandoned by a dead worker."""
    return bool(
        ExpenseImport.objects.filter(pk=import_id)
        .filter(
            Q(status=ImportStatus.QUEUED)
            | Q(status=ImportStatus.RUNNING, started_at__lt=now - STALE_AFTER)
        )
        .update(status=ImportStatus.RUNNING, started_at=now)
    )


def finish(batch: ExpenseImport, status: str, **counts) -> None:
    ExpenseImport.objects.filter(pk=batch.pk).update(
        status=status, finished_at=timezone.now(), **counts
    )


def check_file(batch: ExpenseImport) -> tuple[int, list[dict]]:
    """(rows, errors) of a full pass; errors capped for the report."""
    total, errors = 0, []
    with batch.file.open("rb") as stream:
        for item in focus.read_rows(stream, cost_column=batch.cost_column):
            total += 1
            if isinstance(item, focus.RowError) and len(errors) < MAX_REPORTED_ERRORS:
                errors.append({"line": item.line, "reason": item.reason})
            elif isinstance(item, focus.RowError):
                errors.append(None)  # counted, not reported
    return total, errors


def expense_from(row: focus.FocusRow, batch: ExpenseImport) -> Expense:
    return Expense(
        organization_id=batch.organization_id,
        team_id=batch.team_id,
        amount=row.amount,
        currency=row.currency,
        provider=row.provider,
        service=row.service[:200],
        service_category=row.service_category[:80],
        region=row.region[:60],
        resource_id=row.resource_id[:500],
        tags=row.tags,
        incurred_at=row.charge_period_start,
        charge_period_end=row.charge_period_end,
        purchase_type=row.purchase_type,
        source=ExpenseSource.IMPORT,
        external_id=f"focus:{row.external_id}",
        description=row.description,
        import_batch_id=batch.pk,
    )


def insert_batch(batch: ExpenseImport, rows: list) -> tuple[int, int]:
    ids = [f"focus:{row.external_id}" for row in rows]
    with transaction.atomic():
        stored = set(
            Expense.objects.for_org(batch.organization_id)
            .filter(external_id__in=ids)
            .values_list("external_id", flat=True)
        )
        new = [expense_from(row, batch) for row in rows if f"focus:{row.external_id}" not in stored]
        Expense.objects.bulk_create(new, batch_size=BATCH, ignore_conflicts=True)
        ExpenseImport.objects.filter(pk=batch.pk).update(
            rows_processed=F("rows_processed") + len(rows),
            rows_imported=F("rows_imported") + len(new),
            rows_skipped=F("rows_skipped") + len(rows) - len(new),
        )
    return len(new), len(rows) - len(new)


def run(import_id: int) -> str:
    now = timezone.now()
    if not claim(import_id, now):
        return "not queued (already running or finished)"
    batch = ExpenseImport.objects.get(pk=import_id)
    try:
        total, errors = check_file(batch)
    except focus.FocusFileError as exc:
        finish(batch, ImportStatus.FAILED, errors=[{"line": None, "reason": str(exc)}])
        return "failed"
    if errors:
        finish(
            batch,
            ImportStatus.FAILED,
            rows_total=total,
            rows_rejected=len(errors),
            errors=[e for e in errors if e is not None],
        )
        return "failed"
    ExpenseImport.objects.filter(pk=batch.pk).update(
        rows_total=total, rows_processed=0, rows_imported=0, rows_skipped=0
    )
    pending = []
    with batch.file.open("rb") as stream:
        for row in focus.read_rows(stream, cost_column=batch.cost_column):
            pending.append(row)
            if len(pending) >= BATCH:
                insert_batch(batch, pending)
                pending = []
    if pending:
        insert_batch(batch, pending)
    finish(batch, ImportStatus.COMPLETED)
    batch.file.delete(save=False)
    ExpenseImport.objects.filter(pk=batch.pk).update(file="")
    queue_evaluation(batch.organization_id)
    return "completed"
