"""Loading the shipped carbon catalogue (`carbon/catalog/*.csv`); idempotent.

Runs after the price catalogue is loaded: region and accelerator rows hang off it.
"""

import csv
from pathlib import Path

from django.db import transaction

from carbon.models import AcceleratorPower, CarbonFactor, CountryIntensity, GridIntensity, Pue
from estimates.catalog_loader import CatalogueFileError, LoadReport
from estimates.models import Accelerator, Region

CATALOG_DIR = Path(__file__).resolve().parent / "catalog"


def rows(directory: Path, name: str) -> list[dict]:
    with (directory / name).open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def number(row, name, path, line, required=True):
    raw = (row.get(name) or "").strip()
    if not raw:
        if required:
            raise CatalogueFileError(f"{path} line {line}: {name} is empty")
        return None
    try:
        value = float(raw)
    except ValueError as exc:
        raise CatalogueFileError(f"{path} line {line}: {name}={raw!r}") from exc
    if value < 0 or value != value:
        raise CatalogueFileError(f"{path} line {line}: {name} must be a positive number")
    return value


@transaction.atomic
def load(directory: Path = CATALOG_DIR) -> LoadReport:
    report = LoadReport()
    regions = {(r.provider, r.code): r for r in Region.objects.all()}

    def count(created, what):
        report.count("created" if created else "updated", what)

    for line, row in enumerate(rows(directory, "grid_intensity.csv"), start=2):
        region = regions.get((row["provider"], row["region"]))
        if region is None:
            continue  # a region the price catalogue does not list
        _, created = GridIntensity.objects.update_or_create(
            region=region,
            defaults={
                "intensity_g_per_kwh": number(row, "intensity_g_per_kwh", "grid_intensity", line),
                "year": int(row["year"]),
                "cfe_percent": number(row, "cfe_percent", "grid_intensity", line, required=False),
                "source": row["source"],
            },
        )
        count(created, "grid intensities")
    for line, row in enumerate(rows(directory, "country_intensity.csv"), start=2):
        _, created = CountryIntensity.objects.update_or_create(
            country_code=row["country_code"].upper(),
            defaults={
                "intensity_g_per_kwh": number(row, "intensity_g_per_kwh", "country", line),
                "year": int(row["year"]),
                "source": row["source"],
            },
        )
        count(created, "country intensities")
    for line, row in enumerate(rows(directory, "pue.csv"), start=2):
        region = regions.get((row["provider"], row["region"])) if row["region"] else None
        if row["region"] and region is None:
            continue
        _, created = Pue.objects.update_or_create(
            provider=row["provider"],
            region=region,
            defaults={
                "pue": number(row, "pue", "pue", line),
                "year": int(row["year"]),
                "source": row["source"],
            },
        )
        count(created, "PUE")
    accelerators = {a.name: a for a in Accelerator.objects.all()}
    for line, row in enumerate(rows(directory, "accelerator_power.csv"), start=2):
        accelerator = accelerators.get(row["accelerator"])
        if accelerator is None:
            raise CatalogueFileError(f"accelerator_power line {line}: unknown accelerator")
        _, created = AcceleratorPower.objects.update_or_create(
            accelerator=accelerator,
            defaults={
                "tdp_w": number(row, "tdp_w", "accelerator_power", line, required=False),
                "idle_w": number(row, "idle_w", "accelerator_power", line, required=False),
                "max_w": number(row, "max_w", "accelerator_power", line, required=False),
                "source": row["source"],
            },
        )
        count(created, "accelerator power")
    world = rows(directory, "world_intensity.csv")[0]
    factors = [
        ("world_intensity_g_per_kwh", world["intensity_g_per_kwh"], "g/kWh", world["source"], "")
    ]
    factors += [
        (r["component"], r["value"], r["unit"], r["source"], "")
        for r in rows(directory, "host_power.csv")
    ]
    factors += [
        (r["name"], r["value"], r["unit"], r["source"], r.get("as_of", ""))
        for r in rows(directory, "equivalents.csv")
    ]
    for name, value, unit, source, as_of in factors:
        _, created = CarbonFactor.objects.update_or_create(
            name=name,
            defaults={
                "value": float(value),
                "unit": unit,
                "source": source,
                "as_of": as_of,
            },
        )
        count(created, "factors")
    return report
