"""CO2e beside cost in estimate and compare results (registered in CarbonConfig.ready)."""

from django.db.models.signals import post_delete, post_save

from carbon import lookups
from carbon.footprint import FootprintError, facility_emissions, host_watts, it_energy_kwh
from carbon.models import AcceleratorPower, CarbonFactor, CountryIntensity, GridIntensity, Pue
from costsite.cache import VersionedMemo, bump, version
from estimates.models import Accelerator, Region
from estimates.offers import CATALOGUE_VERSION


class Memo:
    """Catalogue rows and figures looked up once per catalogue version and process, however
    many offers and requests (see `current_memo`)."""

    def __init__(self):
        self.regions = {(r.provider, r.code): r for r in Region.objects.all()}
        self.accelerators = {a.pk: a for a in Accelerator.objects.all()}
        self.hosts = {p: lookups.host_model(p) for p in ("aws", "gcp", "azure")}
        self.figures = {}
        self.offers = {}

    def figure(self, key, lookup):
        """`lookup()` once per key; None if the catalogue lacks the figure (FootprintError)."""
        if key not in self.figures:
            try:
                self.figures[key] = lookup()
            except FootprintError:
                self.figures[key] = None
        return self.figures[key]

    def offer(self, table, provider, region_code, instance_type) -> dict | None:
        """The figures of an instance type in a region that do not depend on the work (None:
        unknown instance type or region, or a figure the catalogue lacks)."""
        key = (provider, region_code, instance_type)
        if key not in self.offers:
            self.offers[key] = self._offer(table, provider, region_code, instance_type)
        return self.offers[key]

    def _offer(self, table, provider, region_code, instance_type) -> dict | None:
        instance = table.catalogue.instance_types.get(provider, {}).get(instance_type)
        region = self.regions.get((provider, region_code))
        accelerator = instance and self.accelerators.get(instance.accelerator_id)
        if accelerator is None or region is None:
            return None
        fields = {
            "gpus_per_node": instance.accelerator_count,
            "vcpus": instance.vcpus,
            "memory_gib": float(instance.memory_gib) if instance.memory_gib else None,
            "accelerator_power": self.figure(
                ("power", accelerator.pk), lambda: lookups.accelerator_power(accelerator, 1.0)
            ),
            "pue": self.figure(("pue", region.pk), lambda: lookups.pue(provider, region)),
            "intensity": self.figure(("intensity", region.pk), lambda: lookups.intensity(region)),
            "host_model": self.hosts[provider] if instance.vcpus else {},
        }
        if None in (fields["accelerator_power"], fields["pue"], fields["intensity"]):
            return None  # the carbon catalogue is not loaded or lacks this accelerator
        return fields

    def co2e(self, table, provider, region_code, instance_type, gpu_count, hours) -> dict | None:
        """footprint.compute's figures at full load, from the kept per-offer fields (through
        the same footprint functions), without the assumption texts the annotation does not
        show."""
        fields = self.offer(table, provider, region_code, instance_type)
        gpu_hours = gpu_count * hours
        if fields is None or not gpu_hours:
            return None
        host_w = 0.0
        if fields["vcpus"] and fields["host_model"]:
            host_w = host_watts(fields["vcpus"], fields["memory_gib"], 1.0, fields["host_model"])
        it_kwh = it_energy_kwh(
            fields["accelerator_power"].value, gpu_hours, host_w, fields["gpus_per_node"]
        )
        pue, intensity = fields["pue"], fields["intensity"]
        energy_kwh, co2e_kg = facility_emissions(it_kwh, pue.value, intensity.value)
        return {
            "co2e_kg": round(co2e_kg, 6),
            "energy_kwh": round(energy_kwh, 6),
            "intensity_g_per_kwh": intensity.value,
            "intensity_basis": intensity.basis,
            "pue": pue.value,
        }


# Without a shared cache, another process's change reaches this one within 30 s.
_memos = VersionedMemo(size=1, local_max_age=30.0)


def current_memo() -> Memo:
    """This process's Memo for the current catalogue version."""
    return _memos.get("carbon", version(CATALOGUE_VERSION), Memo)


def _catalogue_changed(**kwargs):
    bump(CATALOGUE_VERSION)


for _model in (AcceleratorPower, CarbonFactor, CountryIntensity, GridIntensity, Pue):
    post_save.connect(_catalogue_changed, sender=_model, dispatch_uid="carbon-catalogue-save")
    post_delete.connect(_catalogue_changed, sender=_model, dispatch_uid="carbon-catalogue-delete")


def hourly_co2e(table, keys) -> dict:
    """kg CO2e per instance-hour at full load for each (provider, region, instance type)."""
    memo = current_memo()
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
    memo = current_memo()
    for row, hours in rows:
        row["carbon"] = memo.co2e(
            table, row["provider"], row["region"], row["instance_type"], row["gpu_count"], hours
        )
