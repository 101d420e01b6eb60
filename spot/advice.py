"""Before launch: the expected cost of a checkpointed job on spot against on-demand, and the
checkpoint interval to use (the estimates app's Daly model, estimates/interruptions.py).

Interruption rate per instance-hour, first found of:
- given: `interruption_rate_per_hour`, or 1 / `mtbf_hours`;
- learned: the organization's own spot attempts on real providers, same instance type and
  region, else the region, else the provider, once they add up to at least
  MIN_LEARNING_HOURS instance-hours: (interruptions + ½) / instance-hours (the Jeffreys
  estimate of a Poisson rate: never zero after a lucky week);
- default: the AWS Spot Advisor >20% bucket (25%/month) the estimates use.
"""

import math
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, F, Q, Sum
from django.db.models.functions import Coalesce, Now

from estimates import interruptions
from estimates.estimate import money
from estimates.inputs import MAX_HOURS
from spot.models import Attempt, EndReason, FleetProvider, Market

MIN_LEARNING_HOURS = 10.0


class AdviceError(ValueError):
    """The inputs make spot hopeless; said as a field error on the interruption rate."""


@dataclass(frozen=True)
class Rate:
    per_hour: float  # per instance
    basis: str  # given | learned | default | simulated
    source: str


def learned_rate(organization, provider, region, instance_type) -> Rate | None:
    attempts = Attempt.objects.for_org(organization).filter(
        market=Market.SPOT, fleet__provider=provider
    )
    scopes = [
        (Q(fleet__region=region, instance_type=instance_type), f"{instance_type} in {region}"),
        (Q(fleet__region=region), f"all types in {region}"),
        (Q(), f"all {provider} spot attempts"),
    ]
    for scope, label in scopes:
        row = attempts.filter(scope).aggregate(
            interrupted=Count("pk", filter=Q(end_reason=EndReason.INTERRUPTED)),
            seconds=Sum(Coalesce(F("ended_at"), Now()) - F("launched_at")),
        )
        exposure = row["seconds"].total_seconds() / 3600 if row["seconds"] else 0.0
        if exposure >= MIN_LEARNING_HOURS:
            rate = (row["interrupted"] + 0.5) / exposure
            return Rate(
                rate,
                "learned",
                f"your fleets: {row['interrupted']} interruptions in {exposure:.1f} "
                f"spot instance-hours ({label}); (interruptions + ½) / hours",
            )
    return None


def default_rate() -> Rate:
    monthly = interruptions.AWS_BUCKETS[interruptions.DEFAULT_BUCKET]
    return Rate(
        interruptions.hourly_hazard(monthly),
        "default",
        f"AWS Spot Advisor bucket {interruptions.DEFAULT_BUCKET} taken as {monthly:.0%} per "
        "instance-month",
    )


def resolve_rate(organization, provider, region, instance_type, per_hour=None, mtbf_hours=None):
    if per_hour is not None:
        return Rate(per_hour, "given", "interruption_rate_per_hour")
    if mtbf_hours is not None:
        return Rate(1 / mtbf_hours, "given", f"1 / mtbf_hours ({mtbf_hours:g} h)")
    return learned_rate(organization, provider, region, instance_type) or default_rate()


def fleet_rate(fleet) -> Rate:
    if fleet.provider == FleetProvider.SIMULATED:
        return Rate(fleet.simulated_interruptions_per_hour, "simulated", "the fleet's hazard")
    first = (fleet.instance_types or [""])[0]
    return resolve_rate(fleet.organization, fleet.provider, fleet.region, first)


def checkpoint_interval_minutes(rate: Rate, nodes: int, write_minutes: float) -> float | None:
    """Daly's optimum for a job on `nodes` instances (None without interruptions)."""
    interval = interruptions.optimal_checkpoint_interval_hours(
        write_minutes / 60, rate.per_hour * nodes
    )
    return None if math.isinf(interval) else interval * 60


def advise(
    rate: Rate,
    *,
    hours: float,
    nodes: int,
    checkpoint_minutes: float,
    restart_minutes: float,
    spot_price: Decimal,
    on_demand_price: Decimal,
    deadline_hours: float | None = None,
    interval_minutes: float | None = None,
) -> dict:
    overhead = interruptions.overhead_for_hazard(
        hours,
        rate.per_hour * nodes,
        checkpoint_minutes / 60,
        restart_minutes / 60,
        None if interval_minutes is None else interval_minutes / 60,
    )
    total_hours = hours + overhead.hours
    if not total_hours <= MAX_HOURS:  # also inf and NaN
        raise AdviceError(
            "Interruptions this frequent, with this restart time, would not let the job finish "
            f"on spot within {MAX_HOURS:,} hours."
        )
    spot_cost = spot_price * nodes * Decimal(repr(total_hours))
    on_demand_cost = on_demand_price * nodes * Decimal(repr(hours))
    young = (
        math.sqrt(2 * checkpoint_minutes / 60 / overhead.job_hazard_per_hour) * 60
        if overhead.job_hazard_per_hour > 0
        else None
    )
    market, reason = recommend(total_hours, hours, spot_cost, on_demand_cost, deadline_hours)
    return {
        "checkpoint_interval_minutes": round(overhead.checkpoint_interval_hours * 60, 3),
        "interval_basis": "Daly (2006) optimum, capped at the job length"
        if overhead.interval_was_optimised
        else "given",
        "young_interval_minutes": None if young is None else round(young, 3),
        "expected_interruptions": round(overhead.expected_interruptions, 4),
        "expected_checkpoint_hours": round(overhead.checkpoint_hours, 4),
        "expected_restart_hours": round(overhead.restart_hours, 4),
        "expected_rework_hours": round(overhead.rework_hours, 4),
        "expected_total_hours": round(total_hours, 4),
        "expected_cost": money(spot_cost),
        "on_demand_cost": money(on_demand_cost),
        "expected_savings": money(on_demand_cost - spot_cost),
        "interruption_rate_per_hour": round(rate.per_hour, 8),
        "rate_basis": rate.basis,
        "rate_source": rate.source,
        "recommendation": market,
        "reason": reason,
    }


def recommend(total_hours, hours, spot_cost, on_demand_cost, deadline_hours) -> tuple[str, str]:
    if deadline_hours is not None and total_hours > deadline_hours:
        if hours <= deadline_hours:
            return "on_demand", (
                f"spot is expected to take {total_hours:.1f} h with interruptions, past the "
                f"{deadline_hours:g} h deadline; on-demand takes {hours:g} h"
            )
        return "on_demand", (
            f"neither meets the {deadline_hours:g} h deadline; on-demand is faster "
            f"({hours:g} h against {total_hours:.1f} h expected on spot)"
        )
    if spot_cost >= on_demand_cost:
        return "on_demand", "spot is not cheaper once interruptions and rework are counted"
    saved = on_demand_cost - spot_cost
    return "spot", (
        f"spot is expected to save {money(saved)} ({saved / on_demand_cost:.0%}) including "
        f"{total_hours - hours:.2f} h of checkpoints, restarts and rework"
        + (f", within the {deadline_hours:g} h deadline" if deadline_hours is not None else "")
    )
