"""GPU CI test plans: the cheapest right-sized instance for each kind of test, and what the
schedule costs per run and per month, on demand and on spot.

Test types and what they need by default (override any of it per test):
- unit: 1 GPU with at least 16 GB (kernels and small models);
- integration: 1 GPU with at least 24 GB (a real model end to end);
- benchmark: the accelerator you ship on (required), 1 GPU unless told otherwise;
- custom: exactly what you give.
CI jobs are short and restart from scratch when a spot instance is reclaimed: the spot cost
includes the expected rework λ·T·(T/2 + R) for a run of T hours.
"""

from dataclasses import dataclass
from decimal import Decimal

from estimates import interruptions
from estimates.compare import Requirements, compare
from estimates.estimate import WEEKS_PER_MONTH, EstimateError, money
from estimates.offers import OfferTable

PRESETS = {
    "unit": {"gpu_count": 1, "min_gpu_memory_gb": 16},
    "integration": {"gpu_count": 1, "min_gpu_memory_gb": 24},
    "benchmark": {"gpu_count": 1},
    "custom": {},
}


@dataclass
class TestJob:
    name: str
    test_type: str
    runs_per_week: float
    minutes_per_run: float
    shards: int = 1
    gpu_count: int | None = None
    min_gpu_memory_gb: float | None = None
    accelerator_names: set[str] | None = None
    current_instance_type: str | None = None


def needs(job: TestJob) -> tuple[int, float | None]:
    preset = PRESETS[job.test_type]
    gpu_count = job.gpu_count or preset.get("gpu_count")
    if not gpu_count:
        raise EstimateError("gpu_count", f"{job.name}: say how many GPUs a custom test needs.")
    if job.test_type == "benchmark" and not job.accelerator_names:
        raise EstimateError(
            "accelerator", f"{job.name}: benchmarks run on the accelerator you ship on; name it."
        )
    return gpu_count, job.min_gpu_memory_gb or preset.get("min_gpu_memory_gb")


def cost_of(offer_row: dict, job: TestJob) -> dict:
    per_run = Decimal(offer_row["total_cost"]) * job.shards
    monthly = per_run * Decimal(repr(job.runs_per_week)) * WEEKS_PER_MONTH
    return {**offer_row, "cost_per_run": money(per_run), "cost_per_month": money(monthly)}


def plan_job(table: OfferTable, job: TestJob, providers, regions, current=None) -> dict:
    gpu_count, min_memory = needs(job)
    hours = max(job.minutes_per_run, 1.0) / 60  # per-second billing, one-minute minimum
    best = {}
    for option in ("on_demand", "spot"):
        found = compare(
            table,
            Requirements(
                gpu_count=gpu_count,
                hours=hours,
                accelerator_names=job.accelerator_names,
                min_gpu_memory_gb=min_memory,
                providers=providers,
                regions=regions,
                purchase_options=[option],
                max_results=1,
                checkpoint_write_minutes=None,
            ),
        )["results"]
        best[option] = cost_of(found[0], job) if found else None
    if best["on_demand"] is None and best["spot"] is None:
        raise EstimateError("tests", f"{job.name}: no instance in the catalogue meets its needs.")
    result = {
        "name": job.name,
        "test_type": job.test_type,
        "gpu_count": gpu_count,
        "min_gpu_memory_gb": min_memory,
        "hours_per_run": round(hours, 4),
        "runs_per_week": job.runs_per_week,
        "shards": job.shards,
        "recommended_on_demand": best["on_demand"],
        "recommended_spot": best["spot"],
        "current": None,
    }
    if current is not None:
        current_cost = cost_of(current, job)
        cheapest = min((Decimal(b["cost_per_month"]) for b in best.values() if b), default=None)
        result["current"] = current_cost
        result["monthly_savings_vs_current"] = money(
            Decimal(current_cost["cost_per_month"]) - cheapest
        )
    return result


def current_offer_row(table: OfferTable, provider, region, instance_type, job, hours) -> dict:
    offer = table.get(provider, region, instance_type, "on_demand")
    if offer is None:
        raise EstimateError(
            "current_instance_type",
            f"{job.name}: {instance_type} has no on-demand price in {provider} {region}.",
        )
    total = offer.price_per_hour * Decimal(repr(hours))
    return {
        "provider": offer.provider,
        "region": offer.region,
        "instance_type": offer.instance_type,
        "accelerator": offer.accelerator,
        "purchase_option": "on_demand",
        "gpu_count": offer.gpus_per_node,
        "price_per_hour": str(offer.price_per_hour),
        "total_cost": money(total),
        "currency": offer.currency,
        "source": offer.source,
        "as_of": offer.as_of.isoformat(),
    }


def plan(table: OfferTable, jobs: list[TestJob], providers=None, regions=None, current_at=None):
    """`current_at` = (provider, region) where current_instance_type values are priced."""
    rows = []
    for job in jobs:
        current = None
        if job.current_instance_type:
            if current_at is None:
                raise EstimateError(
                    "region", "Give provider and region to price current_instance_type."
                )
            hours = max(job.minutes_per_run, 1.0) / 60
            current = current_offer_row(table, *current_at, job.current_instance_type, job, hours)
        rows.append(plan_job(table, job, providers, regions, current))
    monthly = {
        option: money(
            sum(
                (
                    Decimal(r[f"recommended_{option}"]["cost_per_month"])
                    for r in rows
                    if r[f"recommended_{option}"]
                ),
                Decimal(0),
            )
        )
        for option in ("on_demand", "spot")
    }
    return {
        "tests": rows,
        "currency": "USD",  # the catalogue's currency
        "monthly_total_on_demand": monthly["on_demand"],
        "monthly_total_spot": monthly["spot"],
        "assumptions": [
            {
                "name": "spot interruption rate",
                "value": interruptions.AWS_BUCKETS[interruptions.DEFAULT_BUCKET],
                "unit": "per instance-month",
                "basis": "default",
                "source": f"AWS Spot Advisor bucket {interruptions.DEFAULT_BUCKET}; an "
                "interrupted run restarts",
            },
            {
                "name": "billing",
                "value": 1,
                "unit": "minute minimum per run",
                "basis": "default",
                "source": "per-second billing, one-minute minimum (AWS, GCP, Azure Linux VMs)",
            },
        ],
    }
