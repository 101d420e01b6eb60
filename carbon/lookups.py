"""Catalogue figures for a footprint, with the fallbacks the assumptions report."""

from carbon.footprint import Figure, FootprintError, accelerator_watts
from carbon.models import AcceleratorPower, CarbonFactor, CountryIntensity, GridIntensity, Pue


def factor(name: str) -> CarbonFactor:
    found = CarbonFactor.objects.filter(name=name).first()
    if found is None:
        raise FootprintError("catalogue", f"The carbon catalogue has no {name}; load it.")
    return found


def intensity(region) -> Figure:
    """Region figure, else the region's country, else the world average."""
    grid = GridIntensity.objects.filter(region=region).first()
    if grid is not None:
        cfe = f"; Google carbon-free energy {grid.cfe_percent:g}%" if grid.cfe_percent else ""
        return Figure(
            grid.intensity_g_per_kwh, "g CO2e/kWh", f"{grid.source} ({grid.year}){cfe}", "catalogue"
        )
    country = CountryIntensity.objects.filter(country_code=region.country_code).first()
    if country is not None:
        return Figure(
            country.intensity_g_per_kwh,
            "g CO2e/kWh",
            f"no figure for {region.code}; its country {country.country_code}: "
            f"{country.source} ({country.year})",
            "fallback: country",
        )
    world = factor("world_intensity_g_per_kwh")
    return Figure(
        world.value,
        "g CO2e/kWh",
        f"no figure for {region.code} or its country; world average: {world.source}",
        "fallback: world",
    )


def pue(provider: str, region=None) -> Figure:
    row = None
    if region is not None:
        row = Pue.objects.filter(provider=provider, region=region).first()
    if row is None:
        row = Pue.objects.filter(provider=provider, region__isnull=True).first()
    if row is None:
        raise FootprintError("pue", f"No PUE for {provider}; give pue.")
    scope = row.region.code if row.region_id else f"{provider} fleet"
    return Figure(row.pue, "", f"{scope}: {row.source} ({row.year})", "catalogue")


def accelerator_power(accelerator, utilization: float) -> Figure:
    power = AcceleratorPower.objects.filter(accelerator=accelerator).first()
    tdp = power.tdp_w if power else None
    watts, method = accelerator_watts(
        tdp, power.idle_w if power else None, power.max_w if power else None, utilization
    )
    return Figure(
        watts,
        "W",
        f"{accelerator.name}: {method} at utilisation {utilization:g} "
        f"({power.source if power else 'no source'})",
        "catalogue",
    )


def host_model(provider: str) -> dict:
    """The provider's per-vCPU idle/max watts and the memory coefficient ({} if unknown)."""
    names = {
        "vcpu_idle_w": f"{provider}_vcpu_min_w",
        "vcpu_max_w": f"{provider}_vcpu_max_w",
        "memory_w_per_gib": "memory_w_per_gib",
    }
    rows = {f.name: f for f in CarbonFactor.objects.filter(name__in=names.values())}
    if len(rows) < len(names):
        return {}
    model = {key: rows[name].value for key, name in names.items()}
    model["source"] = "Cloud Carbon Footprint host model, carbon catalogue host_power"
    return model
