"""Where a GPU workload is cheapest: every matching offer of the catalogue, costed at once with
numpy and sorted by total cost."""

from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from estimates import interruptions
from estimates.estimate import money
from estimates.offers import OfferTable


@dataclass
class Requirements:
    gpu_count: int
    hours: float
    accelerator_names: set[str] | None = None
    min_gpu_memory_gb: float | None = None
    providers: list[str] | None = None
    regions: list[str] | None = None
    purchase_options: list[str] | None = None
    max_results: int = 20
    interruption_rate: float | None = None
    # None: the job does not checkpoint; an interruption restarts it (CI runs).
    checkpoint_write_minutes: float | None = interruptions.DEFAULT_CHECKPOINT_WRITE_MINUTES


def matching(table: OfferTable, req: Requirements) -> np.ndarray:
    mask = np.ones(len(table), dtype=bool)
    if req.accelerator_names:
        mask &= table.is_in("accelerator", [n.lower() for n in req.accelerator_names])
    if req.min_gpu_memory_gb:
        mask &= table.gpu_memory_gb >= req.min_gpu_memory_gb
    if req.providers:
        mask &= table.is_in("provider", req.providers)
    if req.regions:
        mask &= table.is_in("region", req.regions)
    if req.purchase_options:
        mask &= table.is_in("option", req.purchase_options)
    return mask


def compare(table: OfferTable, req: Requirements) -> dict:
    if len(table) == 0:
        return {"results": [], "hours": req.hours, "matched": 0}
    mask = matching(table, req)
    idx = np.flatnonzero(mask)
    nodes = np.ceil(req.gpu_count / table.gpus_per_node[idx]).astype(np.int64)
    price = table.price[idx]
    hours = np.full(idx.size, float(req.hours))
    rate = (
        req.interruption_rate
        if req.interruption_rate is not None
        else interruptions.AWS_BUCKETS[interruptions.DEFAULT_BUCKET]
    )
    overhead = np.where(
        table.spot[idx],
        interruptions.overhead_fraction_vector(
            hours,
            nodes,
            rate,
            None if req.checkpoint_write_minutes is None else req.checkpoint_write_minutes / 60,
            interruptions.DEFAULT_RESTART_MINUTES / 60,
        ),
        0.0,
    )
    total = price * nodes * hours * (1 + overhead)
    on_demand_total = table.on_demand_price[idx] * nodes * hours
    order = np.argsort(total, kind="stable")[: req.max_results]
    results = []
    for k in order:
        offer = table.offers[idx[k]]
        gpus = int(nodes[k] * offer.gpus_per_node)
        exact_total = Decimal(repr(float(total[k])))
        savings = on_demand_total[k] - total[k]
        savings_text = None if np.isnan(savings) else money(Decimal(repr(float(savings))))
        results.append(
            {
                "provider": offer.provider,
                "region": offer.region,
                "region_name": offer.region_name,
                "instance_type": offer.instance_type,
                "accelerator": offer.accelerator,
                "purchase_option": offer.purchase_option,
                "nodes": int(nodes[k]),
                "gpus_per_node": offer.gpus_per_node,
                "gpu_count": gpus,
                "price_per_hour": str(offer.price_per_hour),
                "total_cost": money(exact_total),
                "cost_per_gpu_hour": money(exact_total / Decimal(gpus) / Decimal(repr(req.hours))),
                "interruption_overhead_fraction": round(float(overhead[k]), 4),
                "savings_vs_on_demand": savings_text,
                "currency": offer.currency,
                "price_origin": offer.origin,
                "source": offer.source,
                "as_of": offer.as_of.isoformat(),
            }
        )
    return {
        "results": results,
        "hours": req.hours,
        "matched": int(idx.size),
        "assumptions": [
            {
                "name": "spot interruption rate",
                "value": rate,
                "unit": "per instance-month",
                "basis": "given" if req.interruption_rate is not None else "default",
                "source": "spot totals include the expected overhead of interruptions "
                + (
                    "(runs restart from scratch"
                    if req.checkpoint_write_minutes is None
                    else f"(checkpoint write {req.checkpoint_write_minutes:g} min, optimal interval"
                )
                + f", restart {interruptions.DEFAULT_RESTART_MINUTES:g} min)",
            }
        ],
    }
