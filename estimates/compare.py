"""Where a GPU workload is cheapest: every matching offer of the catalogue, costed at once with
numpy and sorted by total cost."""

import math
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


def _offer_fields(table: OfferTable) -> list[tuple[dict, dict]]:
    """Per offer, the result fields that depend on the offer alone: those shown before the
    costs and those after."""
    return [
        (
            {
                "provider": offer.provider,
                "region": offer.region,
                "region_name": offer.region_name,
                "instance_type": offer.instance_type,
                "accelerator": offer.accelerator,
                "purchase_option": offer.purchase_option,
                "gpus_per_node": offer.gpus_per_node,
                "price_per_hour": str(offer.price_per_hour),
            },
            {
                "currency": offer.currency,
                "price_origin": offer.origin,
                "source": offer.source,
                "as_of": offer.as_of.isoformat(),
            },
        )
        for offer in table.offers
    ]


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
    # Spot offers whose run would practically never finish are left out.
    kept = interruptions.practical(overhead)
    impractical = int(idx.size - np.count_nonzero(kept))
    if impractical:
        idx, nodes, price, hours, overhead = (a[kept] for a in (idx, nodes, price, hours, overhead))
    total = price * nodes * hours * (1 + overhead)
    on_demand_total = table.on_demand_price[idx] * nodes * hours
    order = np.argsort(total, kind="stable")[: req.max_results]
    # Python numbers for the rows shown: numpy scalars cost a conversion at every use.
    rows = zip(
        idx[order].tolist(),
        nodes[order].tolist(),
        total[order].tolist(),
        (on_demand_total[order] - total[order]).tolist(),
        overhead[order].tolist(),
        strict=True,
    )
    hours_exact = Decimal(repr(float(req.hours)))
    fields = table.derived("compare_fields", _offer_fields)
    results = []
    for i, node_count, row_total, savings, row_overhead in rows:
        before, after = fields[i]
        gpus_per_node = before["gpus_per_node"]
        exact_total = Decimal(repr(row_total))
        results.append(
            {
                **before,
                "nodes": node_count,
                "gpu_count": node_count * gpus_per_node,
                "total_cost": money(exact_total),
                "cost_per_gpu_hour": money(
                    exact_total / (node_count * gpus_per_node) / hours_exact
                ),
                "interruption_overhead_fraction": round(row_overhead, 4),
                "savings_vs_on_demand": None
                if math.isnan(savings)
                else money(Decimal(repr(savings))),
                **after,
            }
        )
    assumptions = [
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
    ]
    if impractical:
        assumptions.append(
            {
                "name": "spot offers left out",
                "value": impractical,
                "unit": "offers",
                "basis": "derived",
                "source": "at this interruption rate and node count the expected run time is "
                f"over {interruptions.MAX_PRACTICAL_OVERHEAD:g} times the work",
            }
        )
    return {
        "results": results,
        "hours": req.hours,
        "matched": int(idx.size) + impractical,
        "assumptions": assumptions,
    }
