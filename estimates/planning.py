"""Planning a training run: predicted time with an interval and its cost on an offer, the same
workload on several configurations, the cost/time/carbon trade-offs of every candidate (Pareto),
the ROI of faster options and the scaling curve. The maths is in training.py and pareto.py;
this module brings in the organization's runs and prices."""

import math
from dataclasses import dataclass
from decimal import Decimal

from estimates import annotations, interruptions, training
from estimates.estimate import money
from estimates.models import Accelerator, PurchaseOption, TrainingRun
from estimates.offers import OfferTable
from estimates.training import TrainingError

DEFAULT_COUNTS = (1, 2, 4, 8, 16, 32, 64)
DEFAULT_SPOT_RATE = interruptions.AWS_BUCKETS[interruptions.DEFAULT_BUCKET]


def run_figures(organization) -> list[training.RunFigure]:
    """Every run's achieved utilisation. Left out: runs whose precision the catalogue cannot
    price, and implausible ones (stored before the rule, or edited in the admin)."""
    figures = []
    for run in TrainingRun.objects.for_org(organization).select_related("accelerator"):
        try:
            peak = training.peak_flops(run.accelerator, run.precision)
            training.check_plausible_run(run.flops, run.gpu_hours, peak)
        except TrainingError:
            continue
        mfu = training.achieved_mfu(run.flops, run.gpu_hours, peak)
        figures.append(training.RunFigure(run.accelerator_id, run.gpu_count, mfu))
    return figures


def resolve_precision(accelerator, precision: str | None) -> str:
    """`None` means bf16, or fp16 where the accelerator has no bf16."""
    if precision:
        return precision
    return "fp16" if accelerator.family in training.NO_BF16_FAMILIES else "bf16"


@dataclass
class Plan:
    flops: float
    accelerator: Accelerator
    gpu_count: int
    precision: str | None = None
    efficiency: float | None = None  # given MFU


def predict(runs: list[training.RunFigure], plan: Plan) -> dict:
    """`runs`: what the organization's runs teach (run_figures)."""
    precision = resolve_precision(plan.accelerator, plan.precision)
    peak = training.peak_flops(plan.accelerator, precision)
    efficiency = training.learn(plan.accelerator, runs, plan.efficiency)
    result = training.predict(plan.flops, peak, plan.gpu_count, efficiency)
    return {
        "accelerator": plan.accelerator.name,
        "gpu_count": plan.gpu_count,
        "precision": precision,
        "peak_tflops_per_gpu": peak / 1e12,
        "peak_source": plan.accelerator.source,
        "peak_as_of": plan.accelerator.as_of.isoformat(),
        **{k: round(v, 6) if isinstance(v, float) else v for k, v in result.items()},
        "efficiency_interval": [round(x, 6) for x in result["efficiency_interval"]],
        "efficiency_basis": efficiency.basis,
        "efficiency_one_gpu": round(efficiency.mfu_one_gpu, 6),
        "scaling_per_doubling": round(efficiency.scaling, 6),
        "scaling_basis": efficiency.scaling_basis,
        "learned_from_runs": efficiency.runs,
    }


def offer_cost(table: OfferTable, offer, gpu_count: int, wall_hours: float) -> dict:
    """Cost of `wall_hours` on enough instances of `offer` for `gpu_count` GPUs (spot: with the
    expected interruption overhead at the default rate)."""
    nodes = math.ceil(gpu_count / offer.gpus_per_node)
    hours = wall_hours
    if offer.purchase_option == PurchaseOption.SPOT:
        fraction = interruptions.overhead_fraction_vector(
            [wall_hours],
            [nodes],
            DEFAULT_SPOT_RATE,
            interruptions.DEFAULT_CHECKPOINT_WRITE_MINUTES / 60,
            interruptions.DEFAULT_RESTART_MINUTES / 60,
        )[0]
        hours = wall_hours * (1 + float(fraction))
    cost = offer.price_per_hour * nodes * Decimal(repr(hours))
    return {
        "provider": offer.provider,
        "region": offer.region,
        "instance_type": offer.instance_type,
        "purchase_option": offer.purchase_option,
        "nodes": nodes,
        "gpu_count": gpu_count,
        "hours": round(hours, 6),
        "price_per_hour": str(offer.price_per_hour),
        "currency": offer.currency,
        "source": offer.source,
        "as_of": offer.as_of.isoformat(),
        "cost": money(cost),
    }


def training_time(runs, table: OfferTable, plan: Plan, offer=None) -> dict:
    result = predict(runs, plan)
    if offer is not None:
        if offer.accelerator != plan.accelerator.name:
            raise TrainingError(
                "instance_type",
                f"{offer.instance_type} has {offer.accelerator} GPUs, not {plan.accelerator.name}.",
            )
        result["offer"] = offer_cost(table, offer, plan.gpu_count, result["wall_hours"])
        result["cost"] = result["offer"]["cost"]
        result["currency"] = offer.currency
    annotations.apply("training_time", result, table)
    if offer is not None:
        result["co2e_kg"] = (result["offer"].get("carbon") or {}).get("co2e_kg")
    return result


def configurations(runs, flops: float, configs, precision=None, efficiency=None):
    """The same workload on several (accelerator, GPU count) choices, fastest first."""
    rows = [
        predict(runs, Plan(flops, accelerator, count, precision, efficiency))
        for accelerator, count in configs
    ]
    return sorted(rows, key=lambda r: r["wall_hours"])


def curve(runs, plan: Plan, counts=DEFAULT_COUNTS) -> list[dict]:
    precision = resolve_precision(plan.accelerator, plan.precision)
    peak = training.peak_flops(plan.accelerator, precision)
    efficiency = training.learn(plan.accelerator, runs, plan.efficiency)
    return training.scaling_curve(plan.flops, peak, counts, efficiency)
