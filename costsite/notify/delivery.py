"""Queueing events for channels and delivering them with bounded retries.

A delivery is claimed with a conditional UPDATE before each attempt, so two workers (or a
duplicated task) never send it at the same time, and a delivered one is never sent again. The
deliveries of one event are sent concurrently, so a slow or dead target does not hold back the
other channels of the same alert. A worker that dies mid-attempt leaves the delivery in
`sending`; the sweeper logs that attempt as abandoned and puts the delivery back in line after
`STALE_AFTER`. Delivery is therefore at least once: the receiver may have got the abandoned
request, so every payload carries an `id` (also in the `X-Costsite-Delivery` header) that is
the same on every attempt, for receivers to de-duplicate on.
"""

import logging
import time
import uuid
from concurrent.futures import ThreadPoolExecutor, as_completed
from datetime import timedelta

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django_q.tasks import async_task

from costsite.notify.models import Channel, Delivery, DeliveryStatus
from costsite.notify.transports import Outcome, send

logger = logging.getLogger(__name__)

# Waits before the 2nd, 3rd, 4th and 5th attempt; after the 5th the delivery fails for good.
BACKOFF = [
    timedelta(seconds=30),
    timedelta(minutes=2),
    timedelta(minutes=10),
    timedelta(minutes=30),
]
MAX_ATTEMPTS = len(BACKOFF) + 1
STALE_AFTER = timedelta(minutes=5)


def build_payload(org, event: str, title: str, text: str, data=None, url: str = "") -> dict:
    return {
        "id": uuid.uuid4().hex,
        "event": event,
        "organization": org.slug,
        "title": title,
        "text": text,
        "url": url,
        "data": data or {},
        "sent_at": timezone.now().isoformat(),
    }


def enqueue(delivery_id: int) -> None:
    # The delivery log is the result; failed tasks are still saved.
    async_task(
        "costsite.notify.tasks.deliver",
        delivery_id,
        task_name=f"deliver-{delivery_id}",
        save=False,
    )


def enqueue_all(delivery_ids: list[int]) -> None:
    """One task for the deliveries of one event: it sends them concurrently."""
    async_task(
        "costsite.notify.tasks.deliver_all",
        delivery_ids,
        task_name=f"deliver-{delivery_ids[0]}-{len(delivery_ids)}",
        save=False,
    )


def notify(channels, event: str, title: str, text: str, data=None, url: str = ""):
    """Queue one delivery per enabled channel; the sends start once the transaction commits."""
    deliveries = []
    for channel in channels:
        if not channel.enabled:
            continue
        payload = build_payload(channel.organization, event, title, text, data, url)
        deliveries.append(
            Delivery.objects.create(
                organization_id=channel.organization_id,
                channel=channel,
                event=event,
                payload=payload,
            )
        )
    if deliveries:
        transaction.on_commit(lambda ids=[d.pk for d in deliveries]: enqueue_all(ids))
    return deliveries


def send_test(channel: Channel) -> Delivery:
    return notify(
        [channel],
        "test",
        f"Test message for {channel.name}",
        "This is a test from costsite. If you can read it, the channel works.",
        data={"channel": channel.pk},
    )[0]


def claim(delivery_id: int, now) -> bool:
    return bool(
        Delivery.objects.filter(
            pk=delivery_id,
            status__in=[DeliveryStatus.PENDING, DeliveryStatus.RETRYING],
            next_attempt_at__lte=now,
        ).update(status=DeliveryStatus.SENDING, claimed_at=now, attempts=F("attempts") + 1)
    )


def attempt(delivery_id: int) -> Delivery | None:
    """Make one attempt if the delivery is due and nobody else holds it; returns it after."""
    done = attempt_all([delivery_id])
    return done[0] if done else None


def attempt_all(delivery_ids: list[int]) -> list[Delivery]:
    """One attempt at each delivery that is due and not held by another worker. The sends run
    concurrently (they touch no database), and each outcome is recorded as soon as it is in,
    so a fast channel's result does not wait for a slow one's timeout."""
    now = timezone.now()
    claimed = [pk for pk in delivery_ids if claim(pk, now)]
    deliveries = list(
        Delivery.objects.select_related("channel", "channel__organization").filter(pk__in=claimed)
    )
    if len(deliveries) == 1:
        delivery = deliveries[0]
        record(delivery, send_one(delivery), claimed_at=now)
        return deliveries
    with ThreadPoolExecutor(max_workers=max(1, len(deliveries))) as pool:
        sends = {pool.submit(send_one, d): d for d in deliveries}
        for done in as_completed(sends):
            record(sends[done], done.result(), claimed_at=now)
    return deliveries


def send_one(delivery: Delivery) -> Outcome:
    """Send one delivery. An error the transport did not expect is a failed attempt (retried),
    recorded like any other: it must not stop the other channels' outcomes from being recorded,
    which would leave them in `sending` for the sweeper to send again."""
    started = time.monotonic()
    try:
        return send(delivery.channel, delivery.payload, delivery.pk)
    except Exception as exc:
        logger.exception("Delivery %s: unexpected error while sending.", delivery.pk)
        return Outcome(
            ok=False,
            retryable=True,
            error=f"Unexpected error: {type(exc).__name__}.",
            duration_ms=int((time.monotonic() - started) * 1000),
        )


def record(delivery: Delivery, outcome: Outcome, claimed_at) -> None:
    now = timezone.now()
    delivery.attempt_log = [
        *delivery.attempt_log,
        {
            "at": claimed_at.isoformat(),
            "http_status": outcome.http_status,
            "error": outcome.error,
            "duration_ms": outcome.duration_ms,
        },
    ]
    delivery.http_status = outcome.http_status
    delivery.error = outcome.error
    delivery.duration_ms = outcome.duration_ms
    if outcome.ok:
        delivery.status = DeliveryStatus.DELIVERED
        delivery.finished_at = now
    elif outcome.retryable and delivery.attempts < MAX_ATTEMPTS:
        delivery.status = DeliveryStatus.RETRYING
        delivery.next_attempt_at = now + BACKOFF[delivery.attempts - 1]
    else:
        delivery.status = DeliveryStatus.FAILED
        delivery.finished_at = now
    fields = [
        "attempt_log",
        "http_status",
        "error",
        "duration_ms",
        "status",
        "finished_at",
        "next_attempt_at",
    ]
    with transaction.atomic():
        updated = Delivery.objects.filter(
            pk=delivery.pk, status=DeliveryStatus.SENDING, claimed_at=claimed_at
        ).update(**{name: getattr(delivery, name) for name in fields})
        if updated:
            update_channel_health(delivery, now)


def update_channel_health(delivery: Delivery, now) -> None:
    channels = Channel.objects.filter(pk=delivery.channel_id)
    if delivery.status == DeliveryStatus.DELIVERED:
        channels.update(last_success_at=now, failing_since=None)
    elif delivery.error:
        channels.update(last_error=delivery.error, last_error_at=now)
        if delivery.status == DeliveryStatus.FAILED:
            channels.filter(failing_since__isnull=True).update(failing_since=now)


ABANDONED = (
    "Abandoned: the worker stopped before recording an outcome; the receiver may have got "
    "this request."
)


def recover_abandoned(now) -> int:
    """Log the attempts of workers that died mid-send (claimed longer than STALE_AFTER ago)
    and put those deliveries back in line, or fail them if that was the last attempt."""
    stale = Delivery.objects.filter(status=DeliveryStatus.SENDING, claimed_at__lt=now - STALE_AFTER)
    recovered = 0
    for delivery in stale.only("pk", "attempts", "attempt_log", "claimed_at"):
        last = delivery.attempts >= MAX_ATTEMPTS
        recovered += Delivery.objects.filter(
            pk=delivery.pk, status=DeliveryStatus.SENDING, claimed_at=delivery.claimed_at
        ).update(
            status=DeliveryStatus.FAILED if last else DeliveryStatus.RETRYING,
            next_attempt_at=now,
            finished_at=now if last else None,
            http_status=None,
            error=ABANDONED,
            duration_ms=None,
            attempt_log=[
                *delivery.attempt_log,
                {
                    "at": delivery.claimed_at.isoformat(),
                    "http_status": None,
                    "error": ABANDONED,
                    "duration_ms": None,
                },
            ],
        )
    return recovered


def due_delivery_ids(now, limit: int = 500) -> list[int]:
    """Deliveries whose retry is due, plus those abandoned by a dead worker (recovered)."""
    recover_abandoned(now)
    # Pending rows younger than a minute still have their first task in the queue.
    due = Delivery.objects.filter(
        Q(status=DeliveryStatus.RETRYING, next_attempt_at__lte=now)
        | Q(status=DeliveryStatus.PENDING, created_at__lte=now - timedelta(minutes=1))
    )
    return list(due.order_by("next_attempt_at").values_list("pk", flat=True)[:limit])
