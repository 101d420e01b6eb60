"""The shipped carbon catalogue: every priced region has an intensity or a declared fallback,
every accelerator a power row, every figure a source."""

import csv

from carbon.catalog_loader import CATALOG_DIR, load
from carbon.models import GridIntensity
from estimates.catalog_loader import CATALOG_DIR as PRICE_DIR
from estimates.catalog_loader import load_catalog


def rows(directory, name):
    with (directory / name).open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_every_priced_region_has_an_intensity_or_a_country_fallback():
    regions = rows(PRICE_DIR, "regions.csv")
    grid = {(r["provider"], r["region"]) for r in rows(CATALOG_DIR, "grid_intensity.csv")}
    countries = {r["country_code"] for r in rows(CATALOG_DIR, "country_intensity.csv")}
    for region in regions:
        assert (region["provider"], region["code"]) in grid or region["country_code"] in countries


def test_every_accelerator_has_a_power_row_and_every_row_a_source():
    accelerators = {r["name"] for r in rows(PRICE_DIR, "accelerators.csv")}
    power = {r["accelerator"] for r in rows(CATALOG_DIR, "accelerator_power.csv")}
    assert accelerators <= power
    for name in (
        "grid_intensity.csv",
        "country_intensity.csv",
        "pue.csv",
        "accelerator_power.csv",
        "host_power.csv",
        "equivalents.csv",
    ):
        for row in rows(CATALOG_DIR, name):
            assert row["source"].strip(), (name, row)


def test_figures_are_plausible():
    for row in rows(CATALOG_DIR, "grid_intensity.csv"):
        assert 0 < float(row["intensity_g_per_kwh"]) < 1200, row
    for row in rows(CATALOG_DIR, "pue.csv"):
        assert 1.0 <= float(row["pue"]) < 2.0, row


def test_shipped_catalogue_loads(db):
    load_catalog()
    load()
    assert GridIntensity.objects.exists()
