"""Queueing events for channels and delivering them with bounded retries.

A delivery is claimed with a conditional UPDATE before each attempt, so two workers (or a
duplicated task) never send it at the same time. A worker that dies mid-attempt leaves the
delivery in `sending`; the sweeper puts it back in line after `STALE_AFTER`. Receivers can
de-duplicate on the `X-Costsite-Delivery` header, since such a resend can repeat a request
whose response was lost.
"""

from datetime import timedelta

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django_q.tasks import async_task

from costsite.notify.models import Channel, Delivery, DeliveryStatus
from costsite.notify.transports import Outcome, send

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
        "event": event,
        "organization": org.slug,
        "title": title,
        "text": text,
        "url": url,
        "data": data or {},
        "sent_at": timezone.now().isoformat(),
    }


def enqueue(delivery_id: int) -> None:
    async_task("costsite.notify.tasks.deliver", delivery_id, task_name=f"deliver-{delivery_id}")


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
    for delivery in deliveries:
        transaction.on_commit(lambda pk=delivery.pk: enqueue(pk))
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
    now = timezone.now()
    if not claim(delivery_id, now):
        return None
    delivery = Delivery.objects.select_related("channel", "channel__organization").get(
        pk=delivery_id
    )
    outcome = send(delivery.channel, delivery.payload, delivery.pk)
    record(delivery, outcome, claimed_at=now)
    return delivery


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


def due_delivery_ids(now, limit: int = 500) -> list[int]:
    """Deliveries whose retry is due, plus those stuck in `sending` by a dead worker (reset)."""
    Delivery.objects.filter(status=DeliveryStatus.SENDING, claimed_at__lt=now - STALE_AFTER).update(
        status=DeliveryStatus.RETRYING, next_attempt_at=now
    )
    # Pending rows younger than a minute still have their first task in the queue.
    due = Delivery.objects.filter(
        Q(status=DeliveryStatus.RETRYING, next_attempt_at__lte=now)
        | Q(status=DeliveryStatus.PENDING, created_at__lte=now - timedelta(minutes=1))
    )
    return list(due.order_by("next_attempt_at").values_list("pk", flat=True)[:limit])
