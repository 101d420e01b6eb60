"""Duplicated interruption events handled by parallel workers (PostgreSQL): one replacement,
one charge."""

import threading

import pytest
from django.db import connection, connections

from budgets.models import Expense
from spot import events, fleets, tasks
from spot.models import AttemptState, InterruptionEvent
from tests.spot.conftest import warning

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs real concurrent transactions (PostgreSQL)"
)


@pytest.mark.django_db(transaction=True)
def test_parallel_workers_on_one_interruption_launch_one_replacement(catalog, org_a, alice):
    fleet = fleets.create(
        org_a,
        {
            "name": "race",
            "provider": "simulated",
            "region": "us-east-1",
            "instance_types": ["p3.2xlarge"],
            "availability_zones": ["us-east-1a", "us-east-1b"],
            "target_count": 1,
            "total_steps": 100,
        },
        alice,
    )  # autocommit: started inline at once
    first = fleet.attempts.get()
    ids = []
    for n in range(6):  # the same interruption reported six times by different sources
        parsed = events.parse_eventbridge(warning(f"race-{n}", first.provider_instance_id))
        ids.append(
            InterruptionEvent.objects.create(
                organization=org_a,
                fleet=fleet,
                attempt=first,
                event_key=parsed.event_key,
                source="eventbridge",
                kind=parsed.kind,
                provider_instance_id=parsed.instance_id,
                occurred_at=parsed.occurred_at,
            ).pk
        )
    barrier = threading.Barrier(len(ids))
    outcomes, errors = [], []

    def worker(event_id):
        try:
            barrier.wait()
            outcomes.append(tasks.handle_event(event_id))
        except Exception as exc:
            errors.append(repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i,)) for i in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sum(o.startswith("replaced by") for o in outcomes) == 1
    assert outcomes.count("already handled") == len(ids) - 1
    assert fleet.attempts.filter(state=AttemptState.RUNNING).count() == 1
    assert fleet.attempts.count() == 2
    assert Expense.objects.filter(source="spot").count() == 1
