"""Cost, time and carbon of every candidate way to run a training workload — instance × region
× purchase option × GPU count — evaluated at once with numpy; the Pareto frontier of the three;
recommendations (cheapest meeting a deadline, fastest within a budget, lowest carbon within
both); the ROI of faster options against the cheapest; and the scaling curve of the cheapest.

A candidate uses whole instances: GPU counts that are multiples of the instance's GPUs. Time
comes from the training-time model with the organization's learned efficiency per accelerator
(training.py); spot adds the expected interruption overhead at the default rate; carbon is the
catalogue footprint per instance-hour at full load (carbon app, through annotations).
"""

from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from estimates import annotations, interruptions, pareto, planning, training
from estimates.models import PurchaseOption
from estimates.offers import OfferTable

MAX_FRONTIER_ROWS = 200
# A one-off run buys on demand or spot; commitments only when asked for (`purchase_options`).
TRAINING_OPTIONS = [PurchaseOption.ON_DEMAND, PurchaseOption.SPOT]


@dataclass
class Question:
    flops: float
    precision: str | None = None
    efficiency: float | None = None  # given MFU; default learned per accelerator
    gpu_counts: tuple = planning.DEFAULT_COUNTS
    accelerator_names: set | None = None
    providers: list | None = None
    regions: list | None = None
    purchase_options: list | None = None
    deadline_hours: float | None = None
    budget: Decimal | None = None
    hour_value: Decimal | None = None  # what an hour of the team's waiting is worth


def _accelerators(table: OfferTable) -> dict:
    """The accelerators of the table's instance types, by lower-case name (as in its masks)."""
    return {
        instance.accelerator.name.lower(): instance.accelerator
        for types in table.catalogue.instance_types.values()
        for instance in types.values()
    }


def candidates(runs: list[training.RunFigure], table: OfferTable, q: Question) -> dict:
    """Arrays (one entry per candidate) of offer index, GPUs, nodes, wall hours, cost, co2e."""
    accelerators = table.derived("accelerators", _accelerators)
    peak = np.full(len(table), np.nan)
    mfu = np.full(len(table), np.nan)
    scaling = np.full(len(table), np.nan)
    for name, rows in table.masks["accelerator"].items():
        accelerator = accelerators[name]
        try:
            precision = planning.resolve_precision(accelerator, q.precision)
            flops_per_s = training.peak_flops(accelerator, precision)
        except training.TrainingError:
            continue  # no peak figure, or this precision is not supported
        efficiency = training.learn(accelerator, runs, q.efficiency)
        peak[rows], mfu[rows], scaling[rows] = (
            flops_per_s,
            efficiency.mfu_one_gpu,
            efficiency.scaling,
        )
    mask = ~np.isnan(peak) & table.is_in("option", q.purchase_options or TRAINING_OPTIONS)
    if q.accelerator_names:
        mask &= table.is_in("accelerator", [n.lower() for n in q.accelerator_names])
    if q.providers:
        mask &= table.is_in("provider", q.providers)
    if q.regions:
        mask &= table.is_in("region", q.regions)
    offer_idx = np.flatnonzero(mask)
    counts = np.asarray(q.gpu_counts, dtype=np.int64)
    o, n = np.meshgrid(offer_idx, counts, indexing="ij")
    o, n = o.ravel(), n.ravel()
    whole = (n % table.gpus_per_node[o] == 0) & (n >= table.gpus_per_node[o])
    o, n = o[whole], n[whole]
    nodes = n // table.gpus_per_node[o]
    efficiency = mfu[o] * scaling[o] ** np.log2(n)
    wall = q.flops / (n * peak[o] * efficiency * 3600)
    spot = table.option[o] == PurchaseOption.SPOT
    if spot.any():
        fraction = interruptions.overhead_fraction_vector(
            wall[spot],
            nodes[spot],
            planning.DEFAULT_SPOT_RATE,
            interruptions.DEFAULT_CHECKPOINT_WRITE_MINUTES / 60,
            interruptions.DEFAULT_RESTART_MINUTES / 60,
        )
        wall[spot] = wall[spot] * (1 + fraction)
    cost = table.price[o] * nodes * wall
    co2e = hourly_co2e_per_offer(table, np.unique(o))[o] if o.size else np.zeros(0)
    co2e = co2e * nodes * wall
    return {
        "offer": o,
        "gpus": n,
        "nodes": nodes,
        "wall": wall,
        "cost": cost,
        "co2e": co2e,
        "efficiency": efficiency,
    }


def hourly_co2e_per_offer(table, offers: np.ndarray) -> np.ndarray:
    """kg CO2e per instance-hour indexed by offer (NaN where unknown or not asked for)."""

    def key(i):
        return table.offers[i].provider, table.offers[i].region, table.offers[i].instance_type

    hourly = annotations.hourly_co2e(table, sorted({key(i) for i in offers.tolist()}))
    per_offer = np.full(len(table), np.nan)
    for i in offers.tolist():
        value = hourly.get(key(i))
        per_offer[i] = np.nan if value is None else value
    return per_offer


def pick(mask: np.ndarray, key: np.ndarray) -> int | None:
    idx = np.flatnonzero(mask & ~np.isnan(key))
    return None if not idx.size else int(idx[np.argmin(key[idx])])


def row(table, c: dict, i: int) -> dict:
    offer = table.offers[int(c["offer"][i])]
    return {
        "provider": offer.provider,
        "region": offer.region,
        "instance_type": offer.instance_type,
        "accelerator": offer.accelerator,
        "purchase_option": offer.purchase_option,
        "gpu_count": int(c["gpus"][i]),
        "nodes": int(c["nodes"][i]),
        "wall_hours": round(float(c["wall"][i]), 4),
        "cost": f"{c['cost'][i]:.4f}",
        "co2e_kg": None if np.isnan(c["co2e"][i]) else round(float(c["co2e"][i]), 4),
        "efficiency": round(float(c["efficiency"][i]), 4),
        "price_per_hour": str(offer.price_per_hour),
        "currency": offer.currency,
        "source": offer.source,
        "as_of": offer.as_of.isoformat(),
    }


def evaluate(runs, table: OfferTable, q: Question) -> dict:
    """`runs`: what the organization's runs teach (planning.run_figures)."""
    c = candidates(runs, table, q)
    total = len(c["wall"])
    if not total:
        return {"candidates": 0, "frontier": [], "recommendations": {}, "roi": [], "scaling": []}
    on_front = pareto.front(np.column_stack([c["cost"], c["wall"], c["co2e"]]))
    in_time = c["wall"] <= q.deadline_hours if q.deadline_hours else np.ones(total, bool)
    in_budget = c["cost"] <= float(q.budget) if q.budget is not None else np.ones(total, bool)
    chosen = {
        "cheapest_meeting_deadline": pick(in_time, c["cost"]),
        "fastest_within_budget": pick(in_budget, c["wall"]),
        "lowest_carbon_within_both": pick(in_time & in_budget, c["co2e"]),
    }
    recommendations = {k: None if i is None else row(table, c, i) for k, i in chosen.items()}
    frontier = np.flatnonzero(on_front)
    frontier = frontier[np.argsort(c["cost"][frontier])][:MAX_FRONTIER_ROWS]
    baseline = chosen["cheapest_meeting_deadline"]
    return {
        "candidates": total,
        "frontier_size": int(on_front.sum()),
        "frontier": [row(table, c, int(i)) for i in frontier],
        "recommendations": recommendations,
        "roi": roi(table, c, baseline, frontier, q.hour_value),
        "scaling": scaling_of(table, c, baseline),
    }


def roi(table, c, baseline, frontier, hour_value) -> list[dict]:
    """Faster frontier options against the baseline: hours saved × the value of an hour of the
    team's time, against the extra cost."""
    if baseline is None:
        return []
    rows = []
    for i in frontier:
        saved = float(c["wall"][baseline] - c["wall"][i])
        extra = float(c["cost"][i] - c["cost"][baseline])
        if saved <= 0 or extra <= 0:
            continue
        item = {
            **row(table, c, int(i)),
            "hours_saved": round(saved, 4),
            "extra_cost": f"{extra:.4f}",
        }
        if hour_value is not None:
            value = saved * float(hour_value)
            item |= {
                "value_of_time_saved": f"{value:.4f}",
                "net_benefit": f"{value - extra:.4f}",
                "roi": round((value - extra) / extra, 4),
                "worth_it": value > extra,
            }
        rows.append(item)
    return rows


def scaling_of(table, c, baseline) -> list[dict]:
    """Cost and time against GPU count for the baseline's offer."""
    if baseline is None:
        return []
    same = np.flatnonzero(c["offer"] == c["offer"][baseline])
    same = same[np.argsort(c["gpus"][same])]
    return [
        {
            "gpu_count": int(c["gpus"][i]),
            "wall_hours": round(float(c["wall"][i]), 4),
            "cost": f"{c['cost'][i]:.4f}",
            "efficiency": round(float(c["efficiency"][i]), 4),
        }
        for i in same
    ]
