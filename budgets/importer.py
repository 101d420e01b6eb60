"""FOCUS billing imports, run by a django-q2 task.

One pass over the file checks every row and stages the good ones in a temporary table
(budgets/staging.py: COPY on PostgreSQL), reporting progress as it reads. A file with any bad row
is rejected whole (its line numbers reported) and nothing is written. Otherwise one transaction
inserts the staged rows whose external id (a hash of the row, see focus.py) is not stored yet,
adds them to the daily roll-ups and marks the import completed: re-importing a file, or an
overlapping one, adds nothing, and a worker killed at any point leaves either nothing or
everything.

A running import beats its heartbeat with each progress report. One whose heartbeat stopped for
STALE_AFTER (its worker died, or the run raised an error other than a bad row, such as a lost
database connection) is taken over by the broker's redelivery of the task or, where the broker
forgets killed tasks (Redis), by `resume_stalled` on a schedule. Should a live run be taken over
after all (a single insert running longer than STALE_AFTER), the unique external ids still store
every row once. After MAX_ATTEMPTS runs that all stopped, the import fails rather than being
retried forever (an error that repeats on every run).
"""

import io
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django_q.tasks import async_task

from budgets import focus, rollups
from budgets.alerts import queue_evaluation
from budgets.models import Expense, ExpenseImport, ImportStatus
from budgets.staging import Stage

PROGRESS_EVERY = 20_000
MAX_REPORTED_ERRORS = 1000
STALE_AFTER = timedelta(minutes=2)
QUEUED_TOO_LONG = timedelta(minutes=10)
MAX_ATTEMPTS = 3
GAVE_UP = (
    f"The import stopped {MAX_ATTEMPTS} times before it finished (an internal error or a stopped "
    "worker), so it was given up. Nothing from this file was stored. Import the file again; if "
    "it fails the same way, contact support."
)
TASK_TIMEOUT_S = 6 * 3600  # a 1 GB file takes minutes; the heartbeat, not this, finds the dead


def _stopped(now) -> Q:
    """Running imports whose heartbeat stopped."""
    return Q(status=ImportStatus.RUNNING, heartbeat_at__lt=now - STALE_AFTER)


def claim(import_id: int, now) -> bool:
    """queued → running, or take over a stopped run that has attempts left."""
    return bool(
        ExpenseImport.objects.filter(pk=import_id)
        .filter(Q(status=ImportStatus.QUEUED) | (_stopped(now) & Q(attempts__lt=MAX_ATTEMPTS)))
        .update(
            status=ImportStatus.RUNNING,
            started_at=now,
            heartbeat_at=now,
            attempts=F("attempts") + 1,
        )
    )


def still_ours(import_id: int, claimed_at) -> bool:
    """Lock the import and check this run still owns it (no takeover since `claimed_at`), so
    only one run ever inserts and rolls up its rows."""
    return (
        ExpenseImport.objects.select_for_update()
        .filter(pk=import_id, status=ImportStatus.RUNNING, started_at=claimed_at)
        .exists()
    )


def queue(batch: ExpenseImport) -> None:
    async_task(
        "budgets.tasks.run_import",
        batch.pk,
        task_name=f"import-{batch.pk}",
        timeout=TASK_TIMEOUT_S,
    )


def resume_stalled() -> int:
    """Scheduled: fail the stopped imports that used up their attempts; queue again the other
    stopped ones and those whose task was lost before a worker took it (`claim` lets exactly
    one run proceed). How many were queued."""
    now = timezone.now()
    ExpenseImport.objects.filter(_stopped(now), attempts__gte=MAX_ATTEMPTS).update(
        status=ImportStatus.FAILED,
        finished_at=now,
        errors=[{"line": None, "reason": GAVE_UP}],
    )
    stalled = ExpenseImport.objects.filter(
        (_stopped(now) & Q(attempts__lt=MAX_ATTEMPTS))
        | Q(status=ImportStatus.QUEUED, created_at__lt=now - QUEUED_TOO_LONG)
    )
    batches = list(stalled)
    for batch in batches:
        queue(batch)
    return len(batches)


def finish(batch: ExpenseImport, status: str, **counts) -> None:
    ExpenseImport.objects.filter(pk=batch.pk).update(
        status=status, finished_at=timezone.now(), **counts
    )


class CountingReader(io.RawIOBase):
    """A readable stream that counts the bytes read through it (the progress of a pass)."""

    def __init__(self, stream):
        self.stream = stream
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self.stream.read(len(buffer))
        self.bytes_read += len(data)
        buffer[: len(data)] = data
        return len(data)


def stage_file(batch: ExpenseImport, stage: Stage) -> tuple[int, list]:
    """Check every row, stage the good ones while none is bad; (rows, errors). Errors beyond
    MAX_REPORTED_ERRORS are counted as None."""
    total, errors = 0, []
    with batch.file.open("rb") as raw:
        stream = CountingReader(raw)
        rows = focus.read_rows(
            stream,
            cost_column=batch.cost_column,
            max_uncompressed_bytes=settings.COSTSITE_MAX_IMPORT_MB * 1024**2,
        )
        for item in rows:
            total += 1
            if isinstance(item, focus.RowError):
                reported = len(errors) < MAX_REPORTED_ERRORS
                errors.append({"line": item.line, "reason": item.reason} if reported else None)
            elif not errors:
                stage.add(item)
            if total % PROGRESS_EVERY == 0:
                stage.flush()
                ExpenseImport.objects.filter(pk=batch.pk).update(
                    rows_processed=total, bytes_read=stream.bytes_read, heartbeat_at=timezone.now()
                )
    return total, errors


def run(import_id: int) -> str:
    now = timezone.now()
    if not claim(import_id, now):
        return "not queued (already running or finished)"
    batch = ExpenseImport.objects.get(pk=import_id)
    ExpenseImport.objects.filter(pk=batch.pk).update(
        rows_total=0, rows_processed=0, rows_imported=0, rows_skipped=0, bytes_read=0
    )
    with Stage() as stage:
        try:
            total, errors = stage_file(batch, stage)
        except focus.FocusFileError as exc:
            finish(batch, ImportStatus.FAILED, errors=[{"line": None, "reason": str(exc)}])
            return "failed"
        if errors:
            finish(
                batch,
                ImportStatus.FAILED,
                rows_total=total,
                rows_processed=total,
                rows_rejected=len(errors),
                errors=[e for e in errors if e is not None],
            )
            return "failed"
        with transaction.atomic():
            if not still_ours(batch.pk, now):
                return "taken over by another run"
            imported = stage.insert_expenses(batch, timezone.now())
            rollups.apply(Expense.objects.filter(import_batch_id=batch.pk), +1)
            finish(
                batch,
                ImportStatus.COMPLETED,
                rows_total=total,
                rows_processed=total,
                rows_imported=imported,
                rows_skipped=total - imported,
                bytes_read=batch.bytes_total,
            )
    batch.file.delete(save=False)
    ExpenseImport.objects.filter(pk=batch.pk).update(file="")
    queue_evaluation(batch.organization_id)
    return "completed"
