"""The cost of running a workload on one offer: compute, storage, egress and, for spot, the
expected overhead of interruptions. Every figure used is returned as an assumption with its
source and date."""

import math
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from estimates import interruptions
from estimates.models import EgressRate, PurchaseOption, StorageRate
from estimates.offers import Offer, OfferTable

HOURS_PER_MONTH = Decimal(730)  # 8,760 / 12, as providers bill monthly
WEEKS_PER_MONTH = HOURS_PER_MONTH / 168  # so 168 hours a week is exactly one month
CENTS = Decimal("0.0001")


def money(value: Decimal) -> str:
    return str(value.quantize(CENTS, rounding=ROUND_HALF_UP))


def dec(value: float) -> Decimal:
    return Decimal(repr(float(value)))


class EstimateError(ValueError):
    def __init__(self, field_name: str, message: str):
        super().__init__(message)
        self.field = field_name


@dataclass
class Workload:
    provider: str
    region: str
    hours: float
    instance_type: str | None = None
    accelerator_names: set[str] | None = None  # with gpu_count, instead of instance_type
    gpu_count: int | None = None
    nodes: int = 1
    purchase_option: str = PurchaseOption.ON_DEMAND
    storage_gb: float = 0.0
    storage_class: str = "object-standard"
    egress_gb: float = 0.0
    egress_kind: str = "internet"
    interruption_rate: float | None = None  # monthly fraction
    interruption_bucket: str | None = None
    checkpoint_interval_hours: float | None = None
    checkpoint_write_minutes: float | None = None
    restart_minutes: float | None = None


@dataclass
class Assumptions:
    items: list = field(default_factory=list)

    def add(self, name, value, unit, basis, source="", as_of=None):
        self.items.append(
            {
                "name": name,
                "value": value,
                "unit": unit,
                "basis": basis,  # given | catalogue | default | derived
                "source": source,
                "as_of": as_of.isoformat() if as_of else None,
            }
        )


def pick_offer(table: OfferTable, w: Workload) -> tuple[Offer, int]:
    """The offer and node count: the named instance type, or the cheapest way to get
    `gpu_count` accelerators of the asked kind in the region."""
    if w.instance_type:
        offer = table.get(w.provider, w.region, w.instance_type, w.purchase_option)
        if offer is None:
            available = sorted(
                o.purchase_option
                for o in table.offers
                if (o.provider, o.region, o.instance_type)
                == (w.provider, w.region, w.instance_type)
            )
            if available:
                raise EstimateError(
                    "purchase_option",
                    f"{w.instance_type} in {w.region} has no {w.purchase_option} price; "
                    f"available: {', '.join(available)}.",
                )
            regions = sorted({o.region for o in table.offers if o.instance_type == w.instance_type})
            raise EstimateError(
                "region",
                f"{w.instance_type} is not offered in {w.region}"
                + (f"; it is offered in {', '.join(regions)}." if regions else "."),
            )
        return offer, w.nodes
    candidates = [
        o
        for o in table.offers
        if o.provider == w.provider
        and o.region == w.region
        and o.purchase_option == w.purchase_option
        and o.accelerator in w.accelerator_names
    ]
    if not candidates:
        raise EstimateError(
            "accelerator",
            f"No {w.purchase_option} offer with {'/'.join(sorted(w.accelerator_names))} "
            f"in {w.provider} {w.region}.",
        )

    def cost(o):
        return math.ceil(w.gpu_count / o.gpus_per_node) * o.price_per_hour

    best = min(candidates, key=lambda o: (cost(o), o.instance_type))
    return best, math.ceil(w.gpu_count / best.gpus_per_node)


def monthly_rate(w: Workload, assumptions: Assumptions) -> float:
    if w.interruption_rate is not None:
        assumptions.add(
            "spot interruption rate", w.interruption_rate, "per instance-month", "given"
        )
        return w.interruption_rate
    bucket = w.interruption_bucket or interruptions.DEFAULT_BUCKET
    rate = interruptions.AWS_BUCKETS[bucket]
    assumptions.add(
        "spot interruption rate",
        rate,
        "per instance-month",
        "given" if w.interruption_bucket else "default",
        f"AWS Spot Advisor frequency bucket {bucket} (this model uses the bucket midpoint; 25% "
        "for >20%)"
        + (
            ""
            if w.interruption_bucket
            else "; default for GPU spot capacity, pass a rate or a bucket to change it"
        ),
    )
    return rate


def spot_overhead(w: Workload, nodes: int, assumptions: Assumptions):
    rate = monthly_rate(w, assumptions)
    write_minutes = w.checkpoint_write_minutes
    if write_minutes is None:
        write_minutes = interruptions.DEFAULT_CHECKPOINT_WRITE_MINUTES
        assumptions.add("checkpoint write time", write_minutes, "minutes", "default")
    else:
        assumptions.add("checkpoint write time", write_minutes, "minutes", "given")
    restart_minutes = w.restart_minutes
    if restart_minutes is None:
        restart_minutes = interruptions.DEFAULT_RESTART_MINUTES
        assumptions.add("restart after an interruption", restart_minutes, "minutes", "default")
    else:
        assumptions.add("restart after an interruption", restart_minutes, "minutes", "given")
    overhead = interruptions.expected_overhead(
        work_hours=w.hours,
        nodes=nodes,
        monthly_rate=rate,
        checkpoint_write_hours=write_minutes / 60,
        restart_hours=restart_minutes / 60,
        checkpoint_interval_hours=w.checkpoint_interval_hours,
    )
    assumptions.add(
        "checkpoint interval",
        round(overhead.checkpoint_interval_hours, 4),
        "hours",
        "derived" if overhead.interval_was_optimised else "given",
        "Daly (2006) higher-order optimum for the write time and the job's mean time between "
        "interruptions, capped at the job length"
        if overhead.interval_was_optimised
        else "",
    )
    assumptions.add(
        "expected interruptions", round(overhead.expected_interruptions, 4), "per job", "derived"
    )
    return overhead


def storage_cost(w: Workload, assumptions: Assumptions) -> Decimal:
    if not w.storage_gb:
        return Decimal(0)
    rate = StorageRate.objects.filter(
        region__provider=w.provider, region__code=w.region, storage_class=w.storage_class
    ).first()
    if rate is None:
        classes = sorted(
            StorageRate.objects.filter(
                region__provider=w.provider, region__code=w.region
            ).values_list("storage_class", flat=True)
        )
        raise EstimateError(
            "storage_class",
            f"No {w.storage_class!r} storage rate for {w.provider} {w.region}"
            + (f"; available: {', '.join(classes)}." if classes else "."),
        )
    assumptions.add(
        f"storage {w.storage_class}",
        str(rate.price_per_gb_month),
        f"{rate.currency}/GB-month",
        "catalogue",
        rate.source,
        rate.as_of,
    )
    return dec(w.storage_gb) * rate.price_per_gb_month * dec(w.hours) / HOURS_PER_MONTH


def egress_cost(w: Workload, assumptions: Assumptions) -> Decimal:
    if not w.egress_gb:
        return Decimal(0)
    rate = EgressRate.objects.filter(
        region__provider=w.provider, region__code=w.region, kind=w.egress_kind
    ).first()
    if rate is None:
        raise EstimateError(
            "egress_gb", f"No {w.egress_kind} egress rate for {w.provider} {w.region}."
        )
    assumptions.add(
        f"egress ({w.egress_kind})",
        str(rate.price_per_gb),
        f"{rate.currency}/GB",
        "catalogue",
        rate.source,
        rate.as_of,
    )
    return dec(w.egress_gb) * rate.price_per_gb


def estimate(table: OfferTable, w: Workload) -> dict:
    assumptions = Assumptions()
    offer, nodes = pick_offer(table, w)
    assumptions.add(
        f"{offer.purchase_option} price {offer.instance_type} {offer.region}",
        str(offer.price_per_hour),
        f"{offer.currency}/hour",
        "catalogue",
        offer.source,
        offer.as_of,
    )
    hours = dec(w.hours)
    compute = offer.price_per_hour * hours * nodes
    overhead_cost = Decimal(0)
    overhead_detail = None
    if offer.purchase_option == PurchaseOption.SPOT:
        overhead = spot_overhead(w, nodes, assumptions)
        if not interruptions.practical(overhead.hours / w.hours):
            raise EstimateError(
                "purchase_option",
                f"On spot, {nodes} node(s) at this interruption rate and restart time would "
                f"take over {interruptions.MAX_PRACTICAL_OVERHEAD:g} times the "
                f"{w.hours:g} hours of work (expected): use on-demand, fewer nodes, a lower "
                "interruption rate or a shorter restart.",
            )
        overhead_cost = offer.price_per_hour * dec(overhead.hours) * nodes
        overhead_detail = {
            "extra_hours": round(overhead.hours, 4),
            "checkpoint_hours": round(overhead.checkpoint_hours, 4),
            "rework_hours": round(overhead.rework_hours, 4),
            "expected_interruptions": round(overhead.expected_interruptions, 4),
            "checkpoint_interval_hours": round(overhead.checkpoint_interval_hours, 4),
        }
    storage = storage_cost(w, assumptions)
    egress = egress_cost(w, assumptions)
    total = compute + overhead_cost + storage + egress
    return {
        "provider": offer.provider,
        "region": offer.region,
        "instance_type": offer.instance_type,
        "accelerator": offer.accelerator,
        "gpus_per_node": offer.gpus_per_node,
        "nodes": nodes,
        "gpu_count": nodes * offer.gpus_per_node,
        "purchase_option": offer.purchase_option,
        "hours": w.hours,
        "price_per_hour": str(offer.price_per_hour),
        "price_origin": offer.origin,
        "total_cost": money(total),
        "currency": offer.currency,
        "breakdown": {
            "compute": money(compute),
            "interruption_overhead": money(overhead_cost),
            "storage": money(storage),
            "egress": money(egress),
        },
        "interruption": overhead_detail,
        "assumptions": assumptions.items,
    }
