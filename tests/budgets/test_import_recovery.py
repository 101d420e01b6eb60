"""An import whose worker died is found by its stopped heartbeat and run again, once."""

from datetime import timedelta

from django.utils import timezone

from budgets import importer
from budgets.models import ExpenseImport, ImportStatus


def make(org, status, **times):
    batch = ExpenseImport.objects.create(organization=org, filename="f.csv", status=status)
    ExpenseImport.objects.filter(pk=batch.pk).update(**times)
    return batch


def test_only_a_run_whose_heartbeat_stopped_is_taken_over(org_a):
    now = timezone.now()
    alive = make(org_a, ImportStatus.RUNNING, heartbeat_at=now - timedelta(seconds=30))
    dead = make(org_a, ImportStatus.RUNNING, heartbeat_at=now - importer.STALE_AFTER * 2)
    assert not importer.claim(alive.pk, now)
    assert importer.claim(dead.pk, now)
    assert not importer.claim(dead.pk, now)  # now it beats again: a second taker is refused
    dead.refresh_from_db()
    assert dead.heartbeat_at == now


def test_the_sweep_queues_stalled_and_lost_imports_only(org_a, monkeypatch):
    queued = []
    monkeypatch.setattr(importer, "async_task", lambda *args, **kw: queued.append((args, kw)))
    now = timezone.now()
    stale = importer.STALE_AFTER * 2
    dead = make(org_a, ImportStatus.RUNNING, heartbeat_at=now - stale)
    lost = make(org_a, ImportStatus.QUEUED, created_at=now - importer.QUEUED_TOO_LONG * 2)
    make(org_a, ImportStatus.RUNNING, heartbeat_at=now)
    make(org_a, ImportStatus.QUEUED)
    make(org_a, ImportStatus.COMPLETED, heartbeat_at=now - stale)
    assert importer.resume_stalled() == 2
    assert sorted(args[1] for args, _ in queued) == sorted([dead.pk, lost.pk])
    assert {kw["timeout"] for _, kw in queued} == {importer.TASK_TIMEOUT_S}


def test_a_run_that_was_taken_over_does_not_insert(org_a):
    now = timezone.now()
    batch = make(org_a, ImportStatus.QUEUED)
    assert importer.claim(batch.pk, now)
    later = now + importer.STALE_AFTER * 2  # the first run's heartbeat stopped; a second claims
    assert importer.claim(batch.pk, later)
    assert not importer.still_ours(batch.pk, now)
    assert importer.still_ours(batch.pk, later)
