"""Carbon records of jobs: energy from power samples, stored or updated by external id."""

import itertools
import zoneinfo
from datetime import date

from django.db import IntegrityError, transaction
from django.db.models import Count, F, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from carbon.budgets import queue_evaluation
from carbon.models import CarbonRecord
from costsite.periods import day_bounds


def energy_from_samples(samples: list[tuple]) -> float:
    """kWh from (datetime, watts) samples, by the trapezoid rule."""
    ordered = sorted(samples)
    joules = 0.0
    for (t0, w0), (t1, w1) in itertools.pairwise(ordered):
        joules += (w0 + w1) / 2 * (t1 - t0).total_seconds()
    return joules / 3_600_000


def save(organization, values: dict) -> tuple[CarbonRecord, bool]:
    """Create the record, or update the one with the same external id (cumulative reports);
    carbon budgets are re-evaluated after the commit."""
    queue_evaluation(organization.pk)
    external_id = values.get("external_id") or ""
    if external_id and (record := _update(organization, external_id, values)):
        return record, False
    try:
        with transaction.atomic():
            return CarbonRecord.objects.create(organization=organization, **values), True
    except IntegrityError:  # a concurrent first report with the same id
        return _update(organization, external_id, values), False


def _update(organization, external_id: str, values: dict) -> CarbonRecord | None:
    """The record with this external id, updated in one query (None when there is none)."""
    same = CarbonRecord.objects.for_org(organization).filter(external_id=external_id)
    if same.update(**values, updated_at=timezone.now()):  # update() skips auto_now
        return same.get()
    return None


FIELDS = {"team": "team__name", "provider": "provider", "region": "region"}
GROUPS = ("month", *FIELDS)


def started_between(records, tz_name: str, start: date | None, end: date | None):
    """Records started from local midnight of `start` to local midnight after `end` (each
    bound optional), in the organization's time zone; the days must pass check_supported_day."""
    if start:
        records = records.filter(started_at__gte=day_bounds(start, start, tz_name)[0])
    if end:
        records = records.filter(started_at__lt=day_bounds(end, end, tz_name)[1])
    return records


def totals(records, group_by: str, tz_name: str) -> list[dict]:
    """Sums per group; months are the organization's (`tz_name`) calendar months."""
    if group_by == "month":
        key = TruncMonth("started_at", tzinfo=zoneinfo.ZoneInfo(tz_name))
    else:
        key = F(FIELDS[group_by])
    rows = (
        records.annotate(key=key)
        .values("key")
        .annotate(co2e_kg=Sum("co2e_kg"), energy_kwh=Sum("energy_kwh"), jobs=Count("id"))
        .order_by("key")
    )
    return [
        {
            "key": row["key"].date().isoformat()
            if group_by == "month" and row["key"]
            else (row["key"] or ""),
            "co2e_kg": round(row["co2e_kg"] or 0, 6),
            "energy_kwh": round(row["energy_kwh"] or 0, 6),
            "jobs": row["jobs"],
        }
        for row in rows
    ]
