"""An import whose worker died is found by its stopped heartbeat and run again, once; one that
stops every time is given up after MAX_ATTEMPTS runs."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from budgets import importer
from budgets.models import Expense, ExpenseImport, ImportStatus
from budgets.staging import Stage
from tests.conftest import api_client

SAMPLE = Path(__file__).resolve().parent / "data" / "focus_1.0_sample_1000.csv"


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


def test_each_run_counts_an_attempt_and_a_stopped_run_without_attempts_left_is_not_taken(org_a):
    now = timezone.now()
    batch = make(org_a, ImportStatus.QUEUED)
    for attempt in range(1, importer.MAX_ATTEMPTS + 1):
        assert importer.claim(batch.pk, now)
        batch.refresh_from_db()
        assert batch.attempts == attempt
        now += importer.STALE_AFTER * 2  # its heartbeat stopped
    assert not importer.claim(batch.pk, now)


def test_the_sweep_fails_stopped_imports_without_attempts_left_and_queues_the_rest(
    org_a, monkeypatch
):
    queued = []
    monkeypatch.setattr(importer, "async_task", lambda *args, **kw: queued.append(args[1]))
    stopped = timezone.now() - importer.STALE_AFTER * 2
    spent = make(org_a, ImportStatus.RUNNING, heartbeat_at=stopped, attempts=importer.MAX_ATTEMPTS)
    retried = make(
        org_a, ImportStatus.RUNNING, heartbeat_at=stopped, attempts=importer.MAX_ATTEMPTS - 1
    )
    beating = make(
        org_a, ImportStatus.RUNNING, heartbeat_at=timezone.now(), attempts=importer.MAX_ATTEMPTS
    )
    assert importer.resume_stalled() == 1
    assert queued == [retried.pk]
    spent.refresh_from_db()
    assert spent.status == ImportStatus.FAILED
    assert spent.finished_at is not None
    assert spent.errors == [{"line": None, "reason": importer.GAVE_UP}]
    for batch in (retried, beating):
        batch.refresh_from_db()
        assert batch.status == ImportStatus.RUNNING


def test_an_import_that_fails_on_every_run_is_given_up_and_says_so(
    org_a, alice, monkeypatch, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    batch = ExpenseImport.objects.create(
        organization=org_a, filename="f.csv", file=ContentFile(SAMPLE.read_bytes(), name="f.csv")
    )

    def insert_fails(stage, batch, now):
        raise RuntimeError("an error that repeats on every run")

    monkeypatch.setattr(Stage, "insert_expenses", insert_fails)
    queued = []
    monkeypatch.setattr(importer, "async_task", lambda *args, **kw: queued.append(args[1]))
    for attempt in range(1, importer.MAX_ATTEMPTS + 1):
        with pytest.raises(RuntimeError):
            importer.run(batch.pk)
        batch.refresh_from_db()
        assert (batch.status, batch.attempts) == (ImportStatus.RUNNING, attempt)
        ExpenseImport.objects.filter(pk=batch.pk).update(
            heartbeat_at=timezone.now() - importer.STALE_AFTER * 2
        )
        importer.resume_stalled()
    assert queued == [batch.pk] * (importer.MAX_ATTEMPTS - 1)
    assert importer.run(batch.pk) == "not queued (already running or finished)"
    batch.refresh_from_db()
    assert batch.status == ImportStatus.FAILED
    assert not Expense.objects.for_org(org_a).exists()
    answer = api_client(user=alice).get(f"/api/v1/orgs/org-a/expenses/imports/{batch.pk}/")
    assert answer.json()["status"] == "failed"
    assert answer.json()["attempts"] == importer.MAX_ATTEMPTS
    assert answer.json()["errors"] == [{"line": None, "reason": importer.GAVE_UP}]
    client = api_client(user=alice)
    client.force_login(alice)
    page = client.get(f"/o/org-a/expenses/imports/{batch.pk}/")
    assert page.status_code == 200
    assert "given up" in page.content.decode()
    assert "Fix these lines" not in page.content.decode()
