"""django-q2 tasks of the alert channels. Each takes ids and is safe to run twice."""

from django.utils import timezone

from costsite.notify import delivery


def deliver(delivery_id: int) -> str:
    done = delivery.attempt(delivery_id)
    return done.status if done else "not due or already claimed"


def deliver_all(delivery_ids: list[int]) -> str:
    done = delivery.attempt_all(delivery_ids)
    return ", ".join(f"{d.pk}: {d.status}" for d in done) or "none due or all already claimed"


def retry_due_deliveries() -> int:
    """Scheduled every minute: attempt retries that are due and recover abandoned attempts."""
    ids = delivery.due_delivery_ids(timezone.now())
    for delivery_id in ids:
        delivery.enqueue(delivery_id)
    return len(ids)
