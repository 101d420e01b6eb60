"""Interruption events from every source, recorded once and handed to a task.

Sources: AWS EventBridge events exactly as AWS sends them, the job's agent reporting a notice
it saw in the instance metadata, the poll noticing a lost instance, and a user simulating an
interruption on a simulated fleet. An event is stored once per (organization, event key) — an
EventBridge event's `id`, or the instance and state for the others — so redelivery is a no-op;
handling claims the attempt (see orchestrator.interrupt), so two sources reporting the same
interruption launch one replacement.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django_q.tasks import async_task

from costsite.periods import check_past_time
from spot.models import (
    Attempt,
    AttemptState,
    EventKind,
    EventSource,
    FleetStatus,
    InterruptionEvent,
)

EVENTBRIDGE_KINDS = {
    "EC2 Spot Instance Interruption Warning": EventKind.INTERRUPTION_WARNING,
    "EC2 Instance Rebalance Recommendation": EventKind.REBALANCE,
    "EC2 Instance State-change Notification": EventKind.STATE_CHANGE,
}
# Instance states that end an attempt (EventBridge state-change `state`, or the poll's).
LOST_STATES = frozenset(
    {"shutting-down", "terminated", "stopping", "stopped", "interrupted", "missing"}
)


class EventError(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Parsed:
    event_key: str
    kind: str
    instance_id: str
    occurred_at: datetime
    detail: dict


def queue_handling(event_id: int) -> None:
    async_task("spot.tasks.handle_event", event_id, task_name=f"spot-event-{event_id}")


def parse_eventbridge(event: dict) -> Parsed:
    """An EventBridge event (`detail-type`, `id`, `time`, `detail.instance-id`, ...)."""
    check_storable(event)
    kind = EVENTBRIDGE_KINDS.get(str(event.get("detail-type")))
    if kind is None:
        raise EventError(
            "detail-type", f"Not an EC2 spot event; expected one of {', '.join(EVENTBRIDGE_KINDS)}."
        )
    if event.get("source") != "aws.ec2":
        raise EventError("source", "Expected aws.ec2.")
    if not event.get("id"):
        raise EventError("id", "The event id is required (it makes redelivery harmless).")
    detail = event.get("detail")
    if not isinstance(detail, dict) or not detail.get("instance-id"):
        raise EventError("detail", "detail.instance-id is required.")
    if kind == EventKind.STATE_CHANGE and not isinstance(detail.get("state"), str):
        raise EventError("detail", "detail.state is required for a state-change notification.")
    return Parsed(
        event_key=f"eventbridge:{event['id']}"[:200],
        kind=kind,
        instance_id=str(detail["instance-id"])[:100],
        occurred_at=event_time(event.get("time")),
        detail=event,
    )


def check_storable(event: dict) -> None:
    """The event is stored as it came: no text in it, key or value, may hold a NUL character or
    an unpaired surrogate (JSON allows both, PostgreSQL stores neither). The error names the
    top-level field that holds it."""
    for field, value in event.items():
        pending = [field, value]
        while pending:
            item = pending.pop()
            if isinstance(item, dict):
                pending.extend(item.keys())
                pending.extend(item.values())
            elif isinstance(item, list):
                pending.extend(item)
            elif isinstance(item, str) and not storable(item):
                raise EventError(field, "Contains a NUL character or an unpaired surrogate.")


def storable(text: str) -> bool:
    try:
        text.encode()  # UTF-8: fails on an unpaired surrogate
    except UnicodeEncodeError:
        return False
    return "\x00" not in text


def event_time(value) -> datetime:
    """The event's ISO 8601 time in UTC (UTC when it names no zone), or now when it has none;
    a time outside costsite.periods.check_past_time is an error."""
    if not value:
        return timezone.now()
    try:
        parsed = parse_datetime(str(value))
    except ValueError:  # well-formed but impossible, e.g. 30 February
        parsed = None
    if parsed is None:
        raise EventError("time", "Not an ISO 8601 time.")
    try:
        at = parsed.astimezone(UTC) if timezone.is_aware(parsed) else parsed.replace(tzinfo=UTC)
        return check_past_time(at)
    except OverflowError:  # e.g. 0001-01-01T00:00:00+01:00: before the first UTC instant
        raise EventError("time", "Must be between 2000 and now.") from None
    except ValidationError as exc:
        raise EventError("time", exc.messages[0]) from exc


def needs_handling(kind: str, detail: dict) -> bool:
    if kind == EventKind.STATE_CHANGE:
        state = (detail.get("detail") or {}).get("state") or detail.get("state")
        return state in LOST_STATES
    return True


def record(organization, source: str, parsed: Parsed, fleet=None) -> tuple[InterruptionEvent, bool]:
    """Store the event once; queue its handling after the commit when it is new."""
    attempts = Attempt.objects.for_org(organization).filter(provider_instance_id=parsed.instance_id)
    if fleet is not None:
        attempts = attempts.filter(fleet=fleet)
    attempt = attempts.order_by(
        # The live attempt when an id was ever reused.
        "-launched_at"
    ).first()
    try:
        with transaction.atomic():
            event = InterruptionEvent.objects.create(
                organization=organization,
                fleet=attempt.fleet if attempt else fleet,
                attempt=attempt,
                event_key=parsed.event_key,
                source=source,
                kind=parsed.kind,
                provider_instance_id=parsed.instance_id,
                detail=parsed.detail,
                occurred_at=parsed.occurred_at,
            )
    except IntegrityError:
        existing = InterruptionEvent.objects.for_org(organization).get(event_key=parsed.event_key)
        return existing, False
    if attempt is not None and needs_handling(parsed.kind, parsed.detail):
        transaction.on_commit(lambda: queue_handling(event.pk))
    else:
        outcome = "no fleet instance with this id" if attempt is None else "nothing to do"
        InterruptionEvent.objects.filter(pk=event.pk).update(
            handled_at=timezone.now(), outcome=outcome
        )
        event.refresh_from_db()
    return event, True


class NotInterruptible(ValueError):
    """A simulated interruption asked of a fleet that cannot have one now."""


def simulate_interruption(fleet, slot: int | None = None) -> InterruptionEvent:
    """Interrupt a simulated fleet's running instance (of `slot`, else the first), as the
    simulated provider would."""
    if not fleet.is_simulated:
        raise NotInterruptible("Only simulated fleets can be interrupted on demand.")
    running = fleet.attempts.filter(state=AttemptState.RUNNING)
    if slot is not None:
        running = running.filter(slot=slot)
    attempt = running.order_by("slot").first()
    if attempt is None or fleet.status != FleetStatus.RUNNING:
        raise NotInterruptible("No running instance to interrupt.")
    return observed(attempt, "interrupted", source=EventSource.USER)


def observed(attempt: Attempt, state: str, source=EventSource.POLL) -> InterruptionEvent:
    """An attempt found lost by the poll (or a user's simulated interruption)."""
    parsed = Parsed(
        event_key=f"{source}:{attempt.provider_instance_id}:{state}",
        kind=EventKind.STATE_CHANGE if state != "interrupted" else EventKind.INTERRUPTION_WARNING,
        instance_id=attempt.provider_instance_id,
        occurred_at=timezone.now(),
        detail={"state": state},
    )
    return record(attempt.organization, source, parsed, fleet=attempt.fleet)[0]
