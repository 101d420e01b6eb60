"""Where the same GPU work would emit less: every region with an equivalent offer, ranked by
emissions, with its cost (the organization's own prices honoured) and the change against the
current region or the cheapest choice."""

from decimal import Decimal

from carbon import lookups
from carbon.footprint import Workload, compute
from estimates.compare import Requirements, compare
from estimates.estimate import money
from estimates.models import Accelerator, Region


def rank(table, req: Requirements, current: tuple[str, str] | None = None) -> dict:
    offers = compare(table, req)["results"]
    best_per_region = {}
    for offer in offers:  # sorted by cost: keep each region's cheapest offer
        best_per_region.setdefault((offer["provider"], offer["region"]), offer)
    regions = {(r.provider, r.code): r for r in Region.objects.all()}
    accelerators = {a.name: a for a in Accelerator.objects.all()}
    rows = []
    for (provider, code), offer in best_per_region.items():
        region = regions[(provider, code)]
        instance = table.catalogue.instance_types[provider][offer["instance_type"]]
        footprint = compute(
            Workload(
                hours=req.hours,
                gpu_count=offer["gpu_count"],
                utilization=1.0,
                gpus_per_node=offer["gpus_per_node"],
                vcpus=instance.vcpus,
                memory_gib=float(instance.memory_gib) if instance.memory_gib else None,
                accelerator_power=lookups.accelerator_power(
                    accelerators[offer["accelerator"]], 1.0
                ),
                pue=lookups.pue(provider, region),
                intensity=lookups.intensity(region),
                host_model=lookups.host_model(provider) if instance.vcpus else {},
            )
        )
        intensity_basis = next(
            a["basis"] for a in footprint["assumptions"] if a["name"] == "grid intensity"
        )
        rows.append(
            {
                "provider": provider,
                "region": code,
                "region_name": region.name,
                "instance_type": offer["instance_type"],
                "purchase_option": offer["purchase_option"],
                "gpu_count": offer["gpu_count"],
                "co2e_kg": footprint["co2e_kg"],
                "energy_kwh": footprint["energy_kwh"],
                "intensity_g_per_kwh": footprint["intensity_g_per_kwh"],
                "intensity_basis": intensity_basis,
                "total_cost": offer["total_cost"],
                "currency": offer["currency"],
                "price_as_of": offer["as_of"],
            }
        )
    rows.sort(key=lambda row: (row["co2e_kg"], Decimal(row["total_cost"])))
    if not rows:
        return {"results": [], "baseline": None}
    baseline = next((r for r in rows if (r["provider"], r["region"]) == current), None)
    basis = "current" if baseline else "cheapest"
    if baseline is None:
        baseline = min(rows, key=lambda row: Decimal(row["total_cost"]))
    for row in rows:
        row["co2e_change_percent"] = (
            round((row["co2e_kg"] - baseline["co2e_kg"]) / baseline["co2e_kg"] * 100, 1)
            if baseline["co2e_kg"]
            else None
        )
        row["cost_change"] = money(Decimal(row["total_cost"]) - Decimal(baseline["total_cost"]))
    greenest = rows[0]
    return {
        "results": rows,
        "baseline": {
            "basis": basis,
            "provider": baseline["provider"],
            "region": baseline["region"],
        },
        "summary": summary(baseline, greenest),
    }


def summary(baseline: dict, greenest: dict) -> str:
    if greenest is baseline or greenest["co2e_kg"] >= baseline["co2e_kg"]:
        return f"{baseline['region']} already emits the least for this work."
    cut = round((1 - greenest["co2e_kg"] / baseline["co2e_kg"]) * 100)
    delta = Decimal(greenest["total_cost"]) - Decimal(baseline["total_cost"])
    sign = "+" if delta >= 0 else "−"
    return (
        f"Moving from {baseline['provider']} {baseline['region']} to {greenest['provider']} "
        f"{greenest['region']} cuts {cut}% CO2e for {sign}{money(abs(delta))} "
        f"{greenest['currency']}."
    )
