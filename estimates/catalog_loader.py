"""Loading the shipped catalogue files (`estimates/catalog/*.csv`) into the database.

Idempotent: rows are matched on their natural keys and updated in place. A public price or
rate is replaced only by one at least as recent (`as_of`), so prices refreshed from a provider's
API are not rolled back by an older shipped file. Organizations' own prices are never touched.
"""

import csv
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.db import transaction

from estimates.models import (
    Accelerator,
    EgressRate,
    InstanceType,
    Price,
    Region,
    StorageRate,
)

CATALOG_DIR = Path(__file__).resolve().parent / "catalog"


class CatalogueFileError(ValueError):
    pass


@dataclass
class LoadReport:
    created: dict = field(default_factory=dict)
    updated: dict = field(default_factory=dict)
    kept_newer: dict = field(default_factory=dict)

    def count(self, kind, what):
        bucket = getattr(self, kind)
        bucket[what] = bucket.get(what, 0) + 1

    def summary(self) -> str:
        parts = []
        for what in sorted(set(self.created) | set(self.updated) | set(self.kept_newer)):
            parts.append(
                f"{what}: {self.created.get(what, 0)} created, {self.updated.get(what, 0)} "
                f"updated, {self.kept_newer.get(what, 0)} newer kept"
            )
        return "; ".join(parts) or "nothing to load"


def read_rows(path: Path) -> list[dict]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _decimal(row, name, path, line) -> Decimal:
    try:
        value = Decimal(row[name])
    except (InvalidOperation, TypeError) as exc:
        raise CatalogueFileError(f"{path.name} line {line}: {name}={row.get(name)!r}") from exc
    if not value.is_finite() or value <= 0:
        raise CatalogueFileError(f"{path.name} line {line}: {name} must be positive")
    return value


def _date(row, path, line) -> date:
    try:
        return date.fromisoformat(row["as_of"])
    except (ValueError, TypeError) as exc:
        raise CatalogueFileError(f"{path.name} line {line}: as_of={row.get('as_of')!r}") from exc


def _source(row, path, line) -> str:
    if not (row.get("source") or "").strip():
        raise CatalogueFileError(f"{path.name} line {line}: source is empty")
    return row["source"].strip()


def upsert_dated(model, lookup: dict, values: dict, report: LoadReport, what: str):
    """Create the row, or update it if `values["as_of"]` is at least as recent as its own."""
    existing = model.objects.filter(**lookup).first()
    if existing is None:
        model.objects.create(**lookup, **values)
        report.count("created", what)
    elif values["as_of"] >= existing.as_of:
        for name, value in values.items():
            setattr(existing, name, value)
        existing.save()
        report.count("updated", what)
    else:
        report.count("kept_newer", what)


def _optional_number(row, name, path, line):
    if row.get(name) in (None, ""):
        return None
    return _decimal(row, name, path, line)


def _optional_int(row, name, path, line):
    value = _optional_number(row, name, path, line)
    return None if value is None else int(value)


@transaction.atomic
def load_catalog(directory: Path = CATALOG_DIR) -> LoadReport:
    report = LoadReport()
    regions = {}
    path = directory / "regions.csv"
    for row in read_rows(path):
        region, created = Region.objects.update_or_create(
            provider=row["provider"],
            code=row["code"],
            defaults={
                "name": row["name"],
                "location": row.get("location", ""),
                "country_code": row.get("country_code", ""),
            },
        )
        regions[(region.provider, region.code)] = region
        report.count("created" if created else "updated", "regions")

    accelerators = {}
    path = directory / "accelerators.csv"
    for line, row in enumerate(read_rows(path), start=2):
        accelerator, created = Accelerator.objects.update_or_create(
            name=row["name"],
            defaults={
                "family": row["family"],
                "memory_gb": _decimal(row, "memory_gb", path, line),
                "peak_tflops": float(row["peak_tflops"]) if row.get("peak_tflops") else None,
                "tdp_w": _optional_int(row, "tdp_w", path, line),
                "source": _source(row, path, line),
                "as_of": _date(row, path, line),
            },
        )
        accelerators[accelerator.name] = accelerator
        report.count("created" if created else "updated", "accelerators")

    instance_types = {}
    path = directory / "instance_types.csv"
    for line, row in enumerate(read_rows(path), start=2):
        if row["accelerator"] not in accelerators:
            raise CatalogueFileError(f"{path.name} line {line}: unknown accelerator")
        instance, created = InstanceType.objects.update_or_create(
            provider=row["provider"],
            name=row["name"],
            defaults={
                "vcpus": _optional_int(row, "vcpus", path, line),
                "memory_gib": _optional_number(row, "memory_gib", path, line),
                "accelerator": accelerators[row["accelerator"]],
                "accelerator_count": int(_decimal(row, "accelerator_count", path, line)),
                "source": _source(row, path, line),
                "as_of": _date(row, path, line),
            },
        )
        instance_types[(instance.provider, instance.name)] = instance
        report.count("created" if created else "updated", "instance types")

    path = directory / "prices.csv"
    for line, row in enumerate(read_rows(path), start=2):
        key = (row["provider"], row["instance_type"])
        region = regions.get((row["provider"], row["region"]))
        if key not in instance_types or region is None:
            raise CatalogueFileError(f"{path.name} line {line}: unknown instance type or region")
        upsert_dated(
            Price,
            {
                "organization": None,
                "instance_type": instance_types[key],
                "region": region,
                "purchase_option": row["purchase_option"],
            },
            {
                "price_per_hour": _decimal(row, "price_per_hour", path, line),
                "currency": row["currency"],
                "source": _source(row, path, line),
                "as_of": _date(row, path, line),
            },
            report,
            "prices",
        )

    for filename, model, kind_field, amount_field, what in (
        ("storage_rates.csv", StorageRate, "storage_class", "price_per_gb_month", "storage rates"),
        ("egress_rates.csv", EgressRate, "kind", "price_per_gb", "egress rates"),
    ):
        path = directory / filename
        if not path.exists():
            continue
        for line, row in enumerate(read_rows(path), start=2):
            region = regions.get((row["provider"], row["region"]))
            if region is None:
                raise CatalogueFileError(f"{path.name} line {line}: unknown region")
            upsert_dated(
                model,
                {"region": region, kind_field: row[kind_field]},
                {
                    amount_field: _decimal(row, amount_field, path, line),
                    "currency": row["currency"],
                    "source": _source(row, path, line),
                    "as_of": _date(row, path, line),
                },
                report,
                what,
            )
    return report
