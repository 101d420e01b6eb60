"""Reminders of open budget alerts, and the actions that stop or hold them (the API's and the
pages').

An alert that is neither acknowledged nor snoozed is sent again to its rule's channels every
REMIND_EVERY while its budget period lasts (event `budget.alert_reminder`). Snoozing an alert
holds its reminders until the snooze ends; acknowledging it stops them. A reminder is claimed
with a conditional UPDATE in the transaction that queues its deliveries, so several workers
running the schedule at once send it once, and a worker dying in between sends nothing.
"""

import zoneinfo
from datetime import timedelta

from django.db import transaction
from django.db.models import Prefetch, Q
from django.utils import timezone

from budgets.alerts import message, payload, send
from budgets.models import Alert
from costsite.notify.models import Channel
from costsite.periods import local_today

REMIND_EVERY = timedelta(hours=24)
EVENT = "budget.alert_reminder"
MAX_SNOOZE_HOURS = 24 * 90


def acknowledge(alert: Alert, user) -> None:
    """Acknowledged once, by the first who does: no more reminders."""
    Alert.objects.filter(pk=alert.pk, acknowledged_at__isnull=True).update(
        acknowledged_at=timezone.now(), acknowledged_by=user
    )


def snooze(alert: Alert, hours: int) -> None:
    """No reminder of `alert` for the next `hours`."""
    alert.snoozed_until = timezone.now() + timedelta(hours=hours)
    alert.save(update_fields=["snoozed_until"])


def due(now) -> list[Alert]:
    """Open alerts last sent at least REMIND_EVERY ago, not snoozed, in a period that has not
    ended in their organization's time zone."""
    cutoff = now - REMIND_EVERY
    candidates = (
        Alert.objects.filter(
            acknowledged_at__isnull=True,
            period_end__gte=now.date() - timedelta(days=1),  # a day's margin for time zones
        )
        .filter(Q(reminded_at__lte=cutoff) | Q(reminded_at__isnull=True, fired_at__lte=cutoff))
        .filter(not_snoozed(now))
        .select_related("organization", "budget__organization", "rule")
        .prefetch_related(
            Prefetch("rule__channels", Channel.objects.select_related("organization"))
        )
        .order_by("pk")
    )
    return [
        alert
        for alert in candidates
        if alert.period_end >= local_today(alert.organization.time_zone, now)
    ]


def not_snoozed(now) -> Q:
    return Q(snoozed_until__isnull=True) | Q(snoozed_until__lte=now)


def remind(alert: Alert, now) -> bool:
    """Send one reminder of `alert`, unless since it was read another run did or someone
    acknowledged or snoozed it."""
    with transaction.atomic():
        claimed = (
            Alert.objects.filter(
                pk=alert.pk, acknowledged_at__isnull=True, reminded_at=alert.reminded_at
            )
            .filter(not_snoozed(now))
            .update(reminded_at=now)
        )
        if not claimed:
            return False
        budget = alert.budget
        title, text = message(alert, budget)
        zone = zoneinfo.ZoneInfo(alert.organization.time_zone)
        fired = timezone.localtime(alert.fired_at, zone).strftime("%Y-%m-%d %H:%M")
        send(
            budget,
            alert.rule.channels.all(),  # prefetched by due()
            EVENT,
            f"Reminder: {title}",
            f"{text} Fired {fired}, not acknowledged yet: acknowledge or snooze it to stop "
            "these reminders.",
            {**payload(alert, budget), "reminder": True, "fired_at": alert.fired_at.isoformat()},
        )
    return True


def remind_open_alerts(now=None) -> int:
    """Scheduled: send every due reminder; how many were sent."""
    now = now or timezone.now()
    return sum(remind(alert, now) for alert in due(now))
