"""django-q2 tasks of the spot app. Each takes ids, re-reads rows and is idempotent."""

import logging

from django.utils import timezone
from django_q.tasks import async_task

from spot import events, orchestrator, simulation
from spot.idle import run_scan
from spot.models import FINAL_STATUSES, AttemptState, EventKind, Fleet, InterruptionEvent

log = logging.getLogger(__name__)


def queue_start(fleet_id: int) -> None:
    async_task("spot.tasks.start_fleet", fleet_id, task_name=f"spot-start-{fleet_id}")


def start_fleet(fleet_id: int) -> None:
    fleet = Fleet.objects.filter(pk=fleet_id).first()
    if fleet is not None:
        orchestrator.start(fleet)


def handle_event(event_id: int) -> str:
    """Act on an interruption event once: rebalance → ask the job to checkpoint; warning or
    lost instance → checkpoint, replacement, accounting (orchestrator.interrupt)."""
    event = InterruptionEvent.objects.select_related("attempt__fleet").filter(pk=event_id).first()
    if event is None or event.handled_at is not None or event.attempt is None:
        return "nothing to do"
    if event.kind == EventKind.REBALANCE:
        orchestrator.request_checkpoint(event.attempt)
        outcome = "asked the job to checkpoint (rebalance recommendation)"
    else:
        outcome = orchestrator.interrupt(event.attempt, event.occurred_at)
    InterruptionEvent.objects.filter(pk=event.pk, handled_at__isnull=True).update(
        handled_at=timezone.now(), outcome=outcome[:300]
    )
    return outcome


def poll_fleets() -> int:
    """Every minute: lost instances, empty slots, ended fleets' instances, simulated jobs."""
    live = Fleet.objects.exclude(status__in=FINAL_STATUSES)
    ended_with_instances = Fleet.objects.filter(
        status__in=FINAL_STATUSES, attempts__state=AttemptState.RUNNING
    ).distinct()
    fleets = list(live) + list(ended_with_instances)
    for fleet in fleets:
        try:
            orchestrator.poll(fleet, lambda attempt, state: events.observed(attempt, state))
            if fleet.is_simulated:
                simulation.advance(fleet, timezone.now())
        except Exception:  # one broken fleet must not stop the others' polling
            log.exception("spot poll: fleet %s", fleet.pk)
    return len(fleets)


def scan_idle(scan_id: int) -> str:
    """Run a queued idle-resource scan (or one whose worker died); others are left alone."""
    return run_scan(scan_id)
