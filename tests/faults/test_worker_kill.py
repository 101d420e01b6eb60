"""A worker SIGKILLed mid-task (a real `manage.py qcluster`), its task offered again by the
broker, a new cluster: the work ends done, nothing lost, nothing twice.

Each worker is stopped at a chosen write deterministically: the test holds a PostgreSQL lock that
write needs, sees the worker wait on it (pg_stat_activity), kills the cluster's process group,
ends the dead worker's sessions and lets go. SQLite has one lock for the whole file, so a kill
cannot be placed between two writes of a task there: these tests run on PostgreSQL (CI).
"""

from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.db.models import Count, F, Sum
from django.utils import timezone
from django_q.models import OrmQ, Task
from django_q.tasks import async_task

from budgets import importer
from budgets.alerts import queue_evaluation
from budgets.models import Alert, AlertRule, Budget, Expense, ExpenseImport, ImportStatus
from costsite.notify.channels import create_channel
from costsite.notify.models import Delivery
from spot import events, fleets
from spot.models import AttemptState, Fleet, FleetStatus, InterruptionEvent
from tests.cluster import wait_for
from tests.conftest import api_client
from tests.faults.pg import RETRY, Hold, cluster, kill, redeliver, waiting_on_a_lock
from tests.spot.conftest import warning

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="placing a kill between two writes needs row/table locks (PostgreSQL, as in CI)",
    ),
]

SAMPLE = Path(__file__).resolve().parent.parent / "budgets" / "data" / "focus_1.0_sample_1000.csv"
SAMPLE_ROWS, SAMPLE_TOTAL = 1000, Decimal("20.52022672899")


def lock_table(model, mode):
    def take():
        with connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {model._meta.db_table} IN {mode} MODE")

    return take


def drained(cluster) -> None:
    """Wait until the cluster has run every queued task (and those they queued); fail with the
    error of any that raised."""
    wait_for(lambda: not OrmQ.objects.exists(), cluster)
    failures = Task.objects.filter(success=False).values_list("func", "result")
    assert not failures.exists(), list(failures)


def test_a_killed_import_is_taken_over_and_stores_every_row_once(
    org_a, alice, monkeypatch, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "media"
    env = {"MEDIA_ROOT": str(settings.MEDIA_ROOT)}
    # The worker stops where it writes the expenses: the one write that must be all or nothing.
    with Hold(lock_table(Expense, "SHARE")) as hold, cluster(monkeypatch, **env) as first:
        response = api_client(user=alice).post(
            "/api/v1/orgs/org-a/expenses/import",
            {"file": SimpleUploadedFile("focus.csv", SAMPLE.read_bytes())},
            format="multipart",
        )
        assert response.status_code == 202, response.content
        batch = ExpenseImport.objects.get(pk=response.json()["id"])
        wait_for(waiting_on_a_lock, first)
        kill(first, hold)
    batch.refresh_from_db()
    assert batch.status == ImportStatus.RUNNING  # killed mid-task
    assert not Expense.objects.for_org(org_a).exists()  # nothing half-written

    # RETRY later the broker offers the task again, to a new cluster.
    ExpenseImport.objects.filter(pk=batch.pk).update(heartbeat_at=F("heartbeat_at") - RETRY)
    redeliver()
    with cluster(monkeypatch, **env) as second:
        drained(second)
    batch.refresh_from_db()
    assert batch.status == ImportStatus.COMPLETED
    assert (batch.rows_total, batch.rows_imported, batch.rows_skipped) == (SAMPLE_ROWS, 1000, 0)
    stored = Expense.objects.for_org(org_a)
    assert stored.aggregate(n=Count("id"), total=Sum("amount")) == {
        "n": SAMPLE_ROWS,
        "total": SAMPLE_TOTAL,
    }
    assert stored.values("external_id").distinct().count() == SAMPLE_ROWS
    # A third delivery of the same task (the broker's at-least-once) changes nothing.
    assert importer.run(batch.pk).startswith("not queued")
    assert stored.count() == SAMPLE_ROWS


def test_a_killed_evaluation_fires_each_rule_once_and_notifies_once(org_a, monkeypatch):
    budget = Budget.objects.create(organization=org_a, name="GPU", amount=100)
    channel = create_channel(org_a, "ops", "email", "ops@example.com")
    for percent in (50, 80, 100):
        AlertRule.objects.create(organization=org_a, budget=budget, percent=percent).channels.add(
            channel
        )
    # Stored directly: recording.record would evaluate inline, before the cluster runs.
    Expense.objects.create(organization=org_a, amount=Decimal("100.00"), incurred_at=timezone.now())
    # The worker stops where it queues the first alert's notification.
    with Hold(lock_table(Delivery, "SHARE")) as hold, cluster(monkeypatch) as first:
        queue_evaluation(org_a.pk)
        wait_for(waiting_on_a_lock, first)
        # Killed with the first alert's deliveries half queued: the alert is not kept alone.
        kill(first, hold)
    assert not Alert.objects.filter(budget=budget).exists()
    redeliver()
    with cluster(monkeypatch) as second:
        drained(second)
    alerts = Alert.objects.filter(budget=budget)
    assert sorted(alerts.values_list("percent", flat=True)) == [50, 80, 100]
    notified = Delivery.objects.filter(channel=channel).values_list(
        "payload__data__threshold_percent", flat=True
    )
    assert sorted(notified, key=Decimal) == ["50.00", "80.00", "100.00"]


def test_a_killed_interruption_handler_leaves_no_stuck_fleet_and_charges_once(
    catalog, org_a, alice, monkeypatch
):
    fleet = fleets.create(  # before the cluster: started inline
        org_a,
        {
            "name": "killed",
            "provider": "simulated",
            "region": "us-east-1",
            "instance_types": ["p3.2xlarge"],
            "availability_zones": ["us-east-1a", "us-east-1b"],
            "target_count": 1,
            "total_steps": 1000,
        },
        alice,
    )
    first = fleet.attempts.get()
    parsed = events.parse_eventbridge(warning("kill-1", first.provider_instance_id))

    def lock_fleet():  # what the handler's fleet transitions (UPDATEs) need
        list(Fleet.objects.filter(pk=fleet.pk).select_for_update(no_key=True))

    with Hold(lock_fleet) as hold, cluster(monkeypatch) as one:
        event, created = events.record(org_a, "eventbridge", parsed)  # queued at once
        assert created
        wait_for(waiting_on_a_lock, one)
        kill(one, hold)
    first.refresh_from_db()
    assert first.state == AttemptState.INTERRUPTED  # claimed, then the worker died
    redeliver()
    with cluster(monkeypatch) as two:
        drained(two)
        async_task("spot.tasks.poll_fleets")  # the every-minute poll
        drained(two)
    fleet.refresh_from_db()
    assert fleet.status == FleetStatus.RUNNING
    assert fleet.attempts.filter(state=AttemptState.RUNNING).count() == 1
    assert fleet.attempts.count() == 2  # one replacement
    first.refresh_from_db()
    assert first.charged
    assert (
        Expense.objects.for_org(org_a).filter(external_id=f"spot-attempt-{first.pk}").count() == 1
    )
    assert InterruptionEvent.objects.get(pk=event.pk).handled_at is not None
