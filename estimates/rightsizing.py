"""Right-sizing from GPU utilisation: per job, what it used, whether the instance fits, and the
cheapest offer that would.

For each job over a window: percentiles (not averages alone) of GPU utilisation and GPU memory,
a classification (thresholds below, checked in this order) and a recommendation from the
organization's offer table in the job's provider and region:

- idle: stop it; the saving is its whole cost.
- under-provisioned: the cheapest offer with per-GPU memory ≥ peak × UNDER_MEMORY_HEADROOM, and a
  bigger card than the current one when the job ran out of memory; it usually costs more (a
  negative saving).
- over-provisioned and right-sized: the cheapest offer with per-GPU memory ≥ peak ×
  MEMORY_HEADROOM; recommended only when cheaper than the current one.

Every candidate has at least the job's GPU count and enough compute: the job keeps its GPU
count, so per GPU, peak TFLOP/s of the candidate ≥ current peak TFLOP/s × utilisation p95 ×
COMPUTE_HEADROOM. A candidate whose accelerator's peak TFLOP/s is not in the catalogue counts
only when it is the job's own accelerator.

Monthly figures = price per hour × HOURS_PER_MONTH × the job's duty cycle (hours with samples ÷
window hours), so a job that ran 3 days of a 30-day window saves a tenth of a full month.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
from django.utils import timezone

from estimates.estimate import CENTS, HOURS_PER_MONTH
from estimates.models import PurchaseOption, UtilizationSample, UtilizationSource
from estimates.offers import Offer, OfferTable, offer_table
from estimates.org_prices import CATALOGUE_CURRENCY

# Classification thresholds.
IDLE_UTIL_P95 = 5.0  # GPU utilisation p95 below this (%): idle
UNDER_MEMORY_PEAK = 90.0  # GPU memory peak at or above this % of the card (or any OOM): under
OVER_MEMORY_PEAK = 50.0  # GPU memory peak below this % of the card ...
OVER_UTIL_P95 = 50.0  # ... and GPU utilisation p95 below this (%): over-provisioned
# Recommendation headroom.
MEMORY_HEADROOM = 1.2  # per-GPU memory ≥ observed peak × this
UNDER_MEMORY_HEADROOM = 1.5  # for under-provisioned jobs
COMPUTE_HEADROOM = 1.2  # compute ≥ current compute × utilisation p95 × this
# Time (monthly figures use estimates.estimate.HOURS_PER_MONTH, 730 h).
MAX_SAMPLE_GAP_S = 15 * 60  # samples further apart: the job was not running in between

IDLE = "idle"
UNDER = "under_provisioned"
OVER = "over_provisioned"
RIGHT = "right_sized"
CLASSIFICATIONS = {
    IDLE: "Idle",
    UNDER: "Under-provisioned",
    OVER: "Over-provisioned",
    RIGHT: "Right-sized",
}

FIELDS = (
    "job",
    "team_id",
    "provider",
    "region",
    "instance_type",
    "gpu_index",
    "at",
    "gpu_utilization",
    "gpu_memory_used_gb",
    "gpu_memory_total_gb",
    "cpu_utilization",
    "memory_used_gb",
    "oom",
    "source",
)


def window(days: int, end_day: date | None = None, now: datetime | None = None):
    """(start, end): the `days` days up to now, or up to the end of `end_day` (UTC)."""
    if end_day is not None:
        end = datetime.combine(end_day + timedelta(days=1), time.min, tzinfo=UTC)
    else:
        end = now or timezone.now()
    return end - timedelta(days=days), end


def _rows(organization, samples, start, end) -> dict[str, list[tuple]]:
    """Samples in [start, end) grouped by job, each a tuple of FIELDS, in time order."""
    rows = (
        samples.for_org(organization)
        .filter(at__gte=start, at__lt=end)
        .order_by("job", "at", "gpu_index")
        .values_list(*FIELDS)
    )
    jobs: dict[str, list[tuple]] = {}
    for row in rows:
        jobs.setdefault(row[0], []).append(row)
    return jobs


def _observed_seconds(gpu_index: np.ndarray, seconds: np.ndarray) -> float:
    """Time with samples: per GPU, each sample covers the gap to the next one when that is at
    most MAX_SAMPLE_GAP_S, else (and for the last sample) the median covered gap; the busiest
    GPU counts."""
    observed = 0.0
    for gpu in np.unique(gpu_index):
        times = np.unique(seconds[gpu_index == gpu])
        gaps = np.diff(times)
        covered = gaps[gaps <= MAX_SAMPLE_GAP_S]
        interval = float(np.median(covered)) if covered.size else 0.0
        uncovered = gaps.size - covered.size + 1
        observed = max(observed, float(covered.sum()) + interval * uncovered)
    return observed


def _percentiles(values: np.ndarray) -> dict:
    p50, p95, p99 = np.percentile(values, [50, 95, 99])
    return {
        "p50": round(float(p50), 3),
        "p95": round(float(p95), 3),
        "p99": round(float(p99), 3),
        "mean": round(float(values.mean()), 3),
    }


def _optional(values) -> np.ndarray:
    array = np.array([np.nan if v is None else v for v in values], dtype=np.float64)
    return array[~np.isnan(array)]


@dataclass(frozen=True)
class Usage:
    """What one job used over the window."""

    job: str
    team_id: int | None
    provider: str
    region: str
    instance_type: str
    samples: int
    gpus: int
    observed_s: float
    duty_cycle: Decimal
    util: dict
    memory_peak_gb: float | None
    memory_p95_gb: float | None
    card_gb: float | None
    card_source: str
    cpu_p95: float | None
    host_memory_peak_gb: float | None
    oom_count: int
    spot_only: bool

    def memory_percent(self, gb):
        if gb is None or not self.card_gb:
            return None
        return round(100 * gb / self.card_gb, 2)


def _usage(job, rows, table: OfferTable, window_s: float) -> Usage:
    columns = dict(zip(FIELDS, zip(*rows, strict=True), strict=True))
    latest = rows[-1]  # the instance it runs on now
    provider, region, instance_type = latest[2], latest[3], latest[4]
    gpu_index = np.array(columns["gpu_index"])
    seconds = np.array([at.timestamp() for at in columns["at"]])
    memory = _optional(columns["gpu_memory_used_gb"])
    totals = _optional(columns["gpu_memory_total_gb"])
    cpu = _optional(columns["cpu_utilization"])
    host_memory = _optional(columns["memory_used_gb"])
    card_gb, card_source = None, ""
    if totals.size:
        card_gb, card_source = float(totals.max()), "samples"
    else:
        instance = _instance(table, provider, instance_type)
        if instance is not None:
            card_gb, card_source = float(instance.accelerator.memory_gb), "catalogue"
    observed_s = round(_observed_seconds(gpu_index, seconds), 3)
    duty = min(Decimal(str(observed_s)) / Decimal(str(window_s)), Decimal(1))
    return Usage(
        job=job,
        team_id=latest[1],
        provider=provider,
        region=region,
        instance_type=instance_type,
        samples=len(rows),
        gpus=len(np.unique(gpu_index)),
        observed_s=observed_s,
        duty_cycle=duty,
        util=_percentiles(np.array(columns["gpu_utilization"], dtype=np.float64)),
        memory_peak_gb=round(float(memory.max()), 3) if memory.size else None,
        memory_p95_gb=round(float(np.percentile(memory, 95)), 3) if memory.size else None,
        card_gb=card_gb,
        card_source=card_source,
        cpu_p95=round(float(np.percentile(cpu, 95)), 3) if cpu.size else None,
        host_memory_peak_gb=round(float(host_memory.max()), 3) if host_memory.size else None,
        oom_count=sum(1 for oom in columns["oom"] if oom),
        spot_only=all(source == UtilizationSource.SPOT for source in columns["source"]),
    )


def _instance(table: OfferTable, provider: str, name: str):
    catalogue = table.catalogue
    return catalogue.instance_types.get(provider, {}).get(name) if catalogue else None


def classify(usage: Usage) -> tuple[str, list[str]]:
    """(classification, the reasons for it)."""
    p95 = usage.util["p95"]
    peak = usage.memory_percent(usage.memory_peak_gb)
    if p95 < IDLE_UTIL_P95:
        return IDLE, [f"GPU utilisation p95 {p95:g} % < {IDLE_UTIL_P95:g} %"]
    reasons = []
    if usage.oom_count:
        reasons.append(f"{usage.oom_count} out-of-memory event(s)")
    if peak is not None and peak >= UNDER_MEMORY_PEAK:
        reasons.append(f"GPU memory peak {peak:g} % of the card ≥ {UNDER_MEMORY_PEAK:g} %")
    if reasons:
        return UNDER, reasons
    if peak is not None and peak < OVER_MEMORY_PEAK and p95 < OVER_UTIL_P95:
        return OVER, [
            f"GPU memory peak {peak:g} % of the card < {OVER_MEMORY_PEAK:g} %",
            f"GPU utilisation p95 {p95:g} % < {OVER_UTIL_P95:g} %",
        ]
    if peak is None:
        return RIGHT, ["no GPU memory readings or card size: only OOMs and idling are checked"]
    return RIGHT, [f"GPU memory peak {peak:g} % of the card, utilisation p95 {p95:g} %"]


def _tflops(table: OfferTable, offer: Offer) -> float | None:
    instance = _instance(table, offer.provider, offer.instance_type)
    return instance.accelerator.peak_tflops if instance else None


def describe_offer(table: OfferTable, offer: Offer) -> dict:
    return {
        "provider": offer.provider,
        "region": offer.region,
        "instance_type": offer.instance_type,
        "accelerator": offer.accelerator,
        "gpus_per_node": offer.gpus_per_node,
        "gpu_memory_gb": offer.gpu_memory_gb,
        "peak_tflops": _tflops(table, offer),
        "purchase_option": offer.purchase_option,
        "price_per_hour": str(offer.price_per_hour),
        "currency": offer.currency,
        "source": offer.source,
        "as_of": offer.as_of.isoformat(),
    }


def _fits(table, current: Offer, candidate: Offer, usage: Usage, memory_gb, bigger_card):
    if candidate.gpus_per_node < usage.gpus or candidate.gpu_memory_gb < memory_gb:
        return False
    if bigger_card and candidate.gpu_memory_gb <= current.gpu_memory_gb:
        return False
    if candidate.accelerator == current.accelerator:
        ratio = 1.0
    else:
        mine, theirs = _tflops(table, current), _tflops(table, candidate)
        if not mine or not theirs:
            return False
        ratio = theirs / mine
    return ratio >= usage.util["p95"] / 100 * COMPUTE_HEADROOM


def _cheapest_fit(table, current, usage, memory_gb, bigger_card) -> Offer | None:
    same_place = np.flatnonzero(
        (table.provider == current.provider)
        & (table.region == current.region)
        & (table.option == current.purchase_option)
    )
    fits = [
        table.offers[i]
        for i in same_place
        if _fits(table, current, table.offers[i], usage, memory_gb, bigger_card)
    ]
    return min(fits, key=lambda o: (o.price_per_hour, o.instance_type), default=None)


def monthly(price_per_hour: Decimal, usage: Usage) -> Decimal:
    return (price_per_hour * HOURS_PER_MONTH * usage.duty_cycle).quantize(
        CENTS, rounding=ROUND_HALF_UP
    )


def recommend(table: OfferTable, usage: Usage, classification: str, purchase_option: str):
    """(current offer or None, recommendation dict, monthly saving or None)."""
    if not (usage.provider and usage.region and usage.instance_type):
        return None, _none("The samples do not name the provider, region and instance type."), None
    if _instance(table, usage.provider, usage.instance_type) is None:
        return (
            None,
            _none(f"Unknown {usage.provider} instance type {usage.instance_type!r}."),
            None,
        )
    option = PurchaseOption.SPOT if usage.spot_only else purchase_option
    current = table.get(usage.provider, usage.region, usage.instance_type, option)
    if current is None:
        return (
            None,
            _none(
                f"No {option} price for {usage.instance_type} in {usage.region} "
                "in your price table."
            ),
            None,
        )
    if classification == IDLE:
        return (
            current,
            {"action": "stop", "offer": None, "reason": "Stop it: its GPUs are idle."},
            monthly(current.price_per_hour, usage),
        )
    if classification == UNDER:  # without memory readings, only OOMs make a job under
        need = (usage.memory_peak_gb or 0.0) * UNDER_MEMORY_HEADROOM
        offer = _cheapest_fit(table, current, usage, need, bigger_card=usage.oom_count > 0)
        wanted = [f"≥ {need:.1f} GB per GPU"] if need else []
        wanted += ["a bigger card"] if usage.oom_count else []
        if offer is None:
            reason = f"No offer in {current.region} has {', '.join(wanted)} and enough compute."
            return current, _none(reason), None
        reason = ", ".join(wanted)
    elif usage.memory_peak_gb is None:
        return current, _none("No GPU memory readings: a smaller card cannot be checked."), None
    else:
        need = usage.memory_peak_gb * MEMORY_HEADROOM
        offer = _cheapest_fit(table, current, usage, need, bigger_card=False)
        if offer is None or offer.price_per_hour >= current.price_per_hour:
            reason = (
                f"No cheaper offer in {current.region} has ≥ {need:.1f} GB per GPU, "
                f"{usage.gpus} GPU(s) and enough compute."
            )
            return current, {"action": "keep", "offer": None, "reason": reason}, Decimal("0.0000")
        reason = f"the cheapest with ≥ {need:.1f} GB per GPU and enough compute"
    saving = monthly(current.price_per_hour - offer.price_per_hour, usage)
    switch = {"action": "switch", "offer": describe_offer(table, offer), "reason": reason}
    return current, switch, saving


def _none(reason: str) -> dict:
    return {"action": "none", "offer": None, "reason": reason}


def analyse_usage(table: OfferTable, usage: Usage, purchase_option: str) -> dict:
    classification, reasons = classify(usage)
    current, recommendation, saving = recommend(table, usage, classification, purchase_option)
    return {
        "job": usage.job,
        "team": usage.team_id,
        "provider": usage.provider,
        "region": usage.region,
        "instance_type": usage.instance_type,
        "samples": usage.samples,
        "gpus": usage.gpus,
        "hours_observed": round(usage.observed_s / 3600, 3),
        "duty_cycle": round(float(usage.duty_cycle), 4),
        "gpu_utilization": usage.util,
        "gpu_memory": {
            "peak_gb": usage.memory_peak_gb,
            "p95_gb": usage.memory_p95_gb,
            "card_gb": usage.card_gb,
            "card_source": usage.card_source,
            "peak_percent": usage.memory_percent(usage.memory_peak_gb),
            "p95_percent": usage.memory_percent(usage.memory_p95_gb),
        },
        "cpu_utilization_p95": usage.cpu_p95,
        "memory_peak_gb": usage.host_memory_peak_gb,
        "oom_count": usage.oom_count,
        "classification": classification,
        "reasons": reasons,
        "current": describe_offer(table, current) if current else None,
        "monthly_cost": str(monthly(current.price_per_hour, usage)) if current else None,
        "recommendation": recommendation,
        "monthly_savings": None if saving is None else str(saving),
        "currency": current.currency if current else CATALOGUE_CURRENCY,
    }


def analyse(
    organization,
    table: OfferTable,
    samples,
    start: datetime,
    end: datetime,
    purchase_option: str = PurchaseOption.ON_DEMAND,
) -> list[dict]:
    """Per job with samples in [start, end): usage, classification and recommendation.

    `samples`: a UtilizationSample queryset (narrowed by the caller, e.g. to one job). Jobs
    whose samples all came from spot fleets are priced at spot, the others at
    `purchase_option`. Sorted by monthly saving, largest first.
    """
    window_s = (end - start).total_seconds()
    results = [
        analyse_usage(table, _usage(job, rows, table, window_s), purchase_option)
        for job, rows in _rows(organization, samples, start, end).items()
    ]
    results.sort(
        key=lambda r: (r["monthly_savings"] is None, -Decimal(r["monthly_savings"] or 0), r["job"])
    )
    return results


def report(organization, table, samples, start, end, purchase_option=PurchaseOption.ON_DEMAND):
    """The analysis with its window and the total monthly saving (net of the extra cost of
    bigger instances for under-provisioned jobs)."""
    jobs = analyse(organization, table, samples, start, end, purchase_option)
    total = sum(
        (Decimal(job["monthly_savings"]) for job in jobs if job["monthly_savings"] is not None),
        Decimal(0),
    ).quantize(CENTS, rounding=ROUND_HALF_UP)
    return {
        "window": {
            "start": start.isoformat(),
            "end": end.isoformat(),
            "hours": round((end - start).total_seconds() / 3600, 3),
        },
        "purchase_option": purchase_option,
        "jobs": jobs,
        "total_monthly_savings": str(total),
        "currency": CATALOGUE_CURRENCY,
    }


def report_for(organization, days: int, end_day, job: str, purchase_option) -> dict:
    """The report of the page and the API: the `days` up to `end_day` (or now), one job or all."""
    start, end = window(days, end_day)
    samples = UtilizationSample.objects.for_org(organization)
    if job:
        samples = samples.filter(job=job)
    return report(organization, offer_table(organization), samples, start, end, purchase_option)
