"""Should a recurring workload be committed (1- or 3-year), run on spot, or stay on demand?

For a steady weekly usage of one instance type in one region:
- average concurrent instances a = hours used per month / 730;
- a commitment costs its hourly price for every hour of the term, used or not, so it beats
  on-demand for an instance used more than price_commit / price_on_demand of the time (the
  break-even utilisation), and beats spot above price_commit / (price_spot × (1 + overhead));
- the cheapest plan commits ⌊a⌋ instances, plus one more if the remaining fraction is above the
  break-even utilisation, and runs the rest on demand.
Spot overhead for long checkpointed jobs at the optimal interval is √(2Cλ) + λR of the work
(see interruptions.py), with the default rate unless one is given.
"""

from dataclasses import dataclass
from decimal import Decimal

from estimates import interruptions
from estimates.estimate import HOURS_PER_MONTH, WEEKS_PER_MONTH, EstimateError, money
from estimates.models import PurchaseOption
from estimates.offers import OfferTable

TERMS = {PurchaseOption.COMMIT_1Y: "1 year", PurchaseOption.COMMIT_3Y: "3 years"}


@dataclass
class Usage:
    provider: str
    region: str
    instance_type: str
    instance_hours_per_week: float
    interruption_rate: float | None = None


def long_job_spot_overhead(rate: float) -> float:
    return interruptions.long_run_overhead_fraction(
        interruptions.hourly_hazard(rate),
        interruptions.DEFAULT_CHECKPOINT_WRITE_MINUTES / 60,
        interruptions.DEFAULT_RESTART_MINUTES / 60,
    )


def analyse(table: OfferTable, usage: Usage) -> dict:
    on_demand = table.get(usage.provider, usage.region, usage.instance_type, "on_demand")
    if on_demand is None:
        raise EstimateError(
            "instance_type",
            f"{usage.instance_type} has no on-demand price in {usage.region} to compare with.",
        )
    used = Decimal(repr(usage.instance_hours_per_week)) * WEEKS_PER_MONTH
    average_instances = used / HOURS_PER_MONTH
    od_price = on_demand.price_per_hour
    if od_price <= 0:  # a 99.99% discount on a tiny price can round to zero
        raise EstimateError(
            "instance_type", f"{usage.instance_type} has no positive on-demand price to compare."
        )
    plans = [
        {
            "plan": "on_demand",
            "monthly_cost": money(used * od_price),
            "price_per_hour": str(od_price),
            "source": on_demand.source,
            "as_of": on_demand.as_of.isoformat(),
        }
    ]
    rate = (
        usage.interruption_rate
        if usage.interruption_rate is not None
        else interruptions.AWS_BUCKETS[interruptions.DEFAULT_BUCKET]
    )
    spot = table.get(usage.provider, usage.region, usage.instance_type, "spot")
    spot_effective = None
    if spot is not None:
        overhead = Decimal(repr(long_job_spot_overhead(rate)))
        spot_effective = spot.price_per_hour * (1 + overhead)
        plans.append(
            {
                "plan": "spot",
                "monthly_cost": money(used * spot_effective),
                "price_per_hour": str(spot.price_per_hour),
                "interruption_overhead_fraction": round(float(overhead), 4),
                "source": spot.source,
                "as_of": spot.as_of.isoformat(),
            }
        )
    for option, term in TERMS.items():
        commit = table.get(usage.provider, usage.region, usage.instance_type, option)
        if commit is None:
            continue
        break_even = commit.price_per_hour / od_price
        committed = int(average_instances)  # floor
        if average_instances - committed > break_even:
            committed += 1
        uncovered = max(Decimal(0), used - committed * HOURS_PER_MONTH)
        monthly = committed * HOURS_PER_MONTH * commit.price_per_hour + uncovered * od_price
        plans.append(
            {
                "plan": option,
                "term": term,
                "committed_instances": committed,
                "monthly_cost": money(monthly),
                "price_per_hour": str(commit.price_per_hour),
                "break_even_utilisation_vs_on_demand": round(float(break_even), 4),
                "break_even_utilisation_vs_spot": round(
                    float(commit.price_per_hour / spot_effective), 4
                )
                if spot_effective
                else None,
                "source": commit.source,
                "as_of": commit.as_of.isoformat(),
            }
        )
    best = min(plans, key=lambda p: Decimal(p["monthly_cost"]))
    on_demand_monthly = Decimal(plans[0]["monthly_cost"])
    savings = on_demand_monthly - Decimal(best["monthly_cost"])
    return {
        "instance_type": usage.instance_type,
        "region": usage.region,
        "provider": usage.provider,
        "currency": on_demand.currency,
        "instance_hours_per_month": round(float(used), 2),
        "average_concurrent_instances": round(float(average_instances), 3),
        "plans": plans,
        "recommended": best["plan"],
        "monthly_savings_vs_on_demand": money(savings),
        "recommendation": recommendation(best, usage, savings, on_demand.currency),
    }


def recommendation(best: dict, usage: Usage, savings: Decimal, currency: str) -> str:
    if best["plan"] == "on_demand":
        return (
            f"Stay on demand: at {usage.instance_hours_per_week:g} instance-hours a week no "
            f"commitment or spot plan of {usage.instance_type} costs less."
        )
    if best["plan"] == "spot":
        return (
            f"Run {usage.instance_type} on spot: it saves {money(savings)} {currency}/month "
            "against on-demand, including the expected interruption overhead, if your jobs "
            "checkpoint and resume."
        )
    return (
        f"Commit {best['committed_instances']} × {usage.instance_type} for {best['term']}: "
        f"it saves {money(savings)} {currency}/month at your usage "
        f"(break-even utilisation {best['break_even_utilisation_vs_on_demand']:.0%} "
        "against on-demand)."
    )
