"""CO2e beside cost in estimate and compare results (registered in CarbonConfig.ready)."""

from carbon import lookups
from carbon.footprint import FootprintError, Workload, compute
from estimates.models import Accelerator, Region


class Memo:
    """Catalogue rows and figures looked up once per computation, however many offers."""

    def __init__(self):
        self.regions = {(r.provider, r.code): r for r in Region.objects.all()}
        self.accelerators = {a.pk: a for a in Accelerator.objects.all()}
        self.hosts = {p: lookups.host_model(p) for p in ("aws", "gcp", "azure")}
        self.figures = {}

    def figure(self, key, lookup):
        """`lookup()` once per key; a FootprintError is remembered and raised again."""
        if key not in self.figures:
            try:
                self.figures[key] = lookup()
            except FootprintError as exc:
                self.figures[key] = exc
        found = self.figures[key]
        if isinstance(found, FootprintError):
            raise found
        return found

    def co2e(self, table, provider, region_code, instance_type, gpu_count, hours) -> dict | None:
        instance = table.catalogue.instance_types.get(provider, {}).get(instance_type)
        region = self.regions.get((provider, region_code))
        if instance is None or region is None:
            return None
        accelerator = self.accelerators[instance.accelerator_id]
        try:
            result = compute(
                Workload(
                    hours=hours,
                    gpu_count=gpu_count,
                    utilization=1.0,
                    gpus_per_node=instance.accelerator_count,
                    vcpus=instance.vcpus,
                    memory_gib=float(instance.memory_gib) if instance.memory_gib else None,
                    accelerator_power=self.figure(
                        ("power", accelerator.pk),
                        lambda: lookups.accelerator_power(accelerator, 1.0),
                    ),
                    pue=self.figure(("pue", region.pk), lambda: lookups.pue(provider, region)),
                    intensity=self.figure(
                        ("intensity", region.pk), lambda: lookups.intensity(region)
                    ),
                    host_model=self.hosts[provider] if instance.vcpus else {},
                )
            )
        except FootprintError:
            return None  # the carbon catalogue is not loaded or lacks this accelerator
        basis = next(a["basis"] for a in result["assumptions"] if a["name"] == "grid intensity")
        return {
            "co2e_kg": result["co2e_kg"],
            "energy_kwh": result["energy_kwh"],
            "intensity_g_per_kwh": result["intensity_g_per_kwh"],
            "intensity_basis": basis,
            "pue": result["pue"],
        }


def hourly_co2e(table, keys) -> dict:
    """kg CO2e per instance-hour at full load for each (provider, region, instance type)."""
    memo = Memo()
    hourly = {}
    for provider, region_code, instance_type in keys:
        instance = table.catalogue.instance_types.get(provider, {}).get(instance_type)
        figures = instance and memo.co2e(
            table, provider, region_code, instance_type, instance.accelerator_count, 1.0
        )
        hourly[(provider, region_code, instance_type)] = figures["co2e_kg"] if figures else None
    return hourly


def annotate(kind: str, result: dict, table) -> None:
    """Add `carbon` (co2e_kg, energy_kwh, intensity) to an estimate, each compared offer and a
    training-time prediction's offer, for the hours actually run (spot: including the expected
    interruption overhead)."""
    if kind not in ("estimate", "compare", "training_time"):
        return
    if kind == "training_time":
        rows = [(result["offer"], result["offer"]["hours"])] if result.get("offer") else []
    elif kind == "estimate":
        hours = result["hours"] + (result.get("interruption") or {}).get("extra_hours", 0)
        rows = [(result, hours)]
    else:
        rows = [
            (row, result["hours"] * (1 + row["interruption_overhead_fraction"]))
            for row in result["results"]
        ]
    if not rows:
        return
    memo = Memo()
    for row, hours in rows:
        row["carbon"] = memo.co2e(
            table, row["provider"], row["region"], row["instance_type"], row["gpu_count"], hours
        )
