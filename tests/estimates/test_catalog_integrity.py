"""The shipped catalogue (estimates/catalog/*.csv): complete, sourced, dated, no placeholders."""

import csv
from collections import defaultdict
from datetime import date
from decimal import Decimal

import pytest

from estimates.catalog_loader import CATALOG_DIR, load_catalog
from estimates.models import Price

REQUIRED_INSTANCES = {
    "aws": [
        "p3.2xlarge",
        "p3.8xlarge",
        "p3.16xlarge",
        "p4d.24xlarge",
        "p4de.24xlarge",
        "p5.48xlarge",
        "g4dn.xlarge",
        "g5.xlarge",
        "g5.4xlarge",
        "g5.12xlarge",
        "g6.xlarge",
        "g6e.12xlarge",
    ],
    "gcp": [
        "a2-highgpu-1g",
        "a2-highgpu-8g",
        "a3-highgpu-8g",
        "g2-standard-4",
        "n1-standard-8+1xV100",
        "n1-standard-32+4xV100",
        "n1-standard-4+1xT4",
        "tpu-v5litepod-8",
    ],
    "azure": [
        "Standard_NC6s_v3",
        "Standard_NC24s_v3",
        "Standard_ND96asr_v4",
        "Standard_ND96amsr_A100_v4",
        "Standard_NC4as_T4_v3",
        "Standard_NC24ads_A100_v4",
        "Standard_ND96isr_H100_v5",
    ],
}
REQUIRED_REGIONS = {
    "aws": [
        "us-east-1",
        "us-east-2",
        "us-west-2",
        "eu-west-1",
        "eu-central-1",
        "ap-southeast-1",
        "ap-northeast-1",
    ],
    "gcp": ["us-central1", "us-east4", "europe-west4", "asia-southeast1"],
    "azure": ["eastus", "westus2", "northeurope", "westeurope"],
}
REQUIRED_ACCELERATORS = {
    "V100",
    "T4",
    "A10G",
    "L4",
    "L40S",
    "A100-40GB",
    "A100-80GB",
    "H100-80GB",
    "H200",
    "TPU v5e",
}


def rows(name):
    with (CATALOG_DIR / name).open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


PRICED_FILES = [
    ("prices.csv", "price_per_hour"),
    ("storage_rates.csv", "price_per_gb_month"),
    ("egress_rates.csv", "price_per_gb"),
]


@pytest.mark.parametrize(("name", "column"), PRICED_FILES)
def test_every_figure_is_positive_sourced_and_dated(name, column):
    for row in rows(name):
        amount = Decimal(row[column])
        assert amount.is_finite() and amount > 0, row
        assert row["currency"] == "USD", row
        assert row["source"].strip(), row
        assert date(2015, 1, 1) <= date.fromisoformat(row["as_of"]) <= date.today(), row


def test_accelerators_and_instance_types_are_sourced():
    for name in ("accelerators.csv", "instance_types.csv"):
        for row in rows(name):
            assert row["source"].strip() and date.fromisoformat(row["as_of"]), row
    specs = {row["name"]: row for row in rows("accelerators.csv")}
    assert set(specs) >= REQUIRED_ACCELERATORS
    for row in specs.values():
        assert Decimal(row["memory_gb"]) > 0
        if row["peak_tflops"]:
            assert 10 < float(row["peak_tflops"]) < 2000, row  # dense, not a sparsity figure
    for row in rows("instance_types.csv"):
        assert row["accelerator"] in specs, row
        assert int(row["accelerator_count"]) > 0


def test_required_instances_and_regions_are_covered():
    regions = {(r["provider"], r["code"]) for r in rows("regions.csv")}
    for provider, codes in REQUIRED_REGIONS.items():
        assert {(provider, code) for code in codes} <= regions
    on_demand = defaultdict(set)
    for row in rows("prices.csv"):
        if row["purchase_option"] == "on_demand":
            on_demand[(row["provider"], row["instance_type"])].add(row["region"])
    for provider, names in REQUIRED_INSTANCES.items():
        for name in names:
            assert on_demand[(provider, name)], f"{provider} {name} has no on-demand price"


def test_no_placeholder_spot_or_commitment_prices():
    """A spot or commitment price at or above on-demand is a placeholder (a reference defect)."""
    on_demand = {
        (r["provider"], r["region"], r["instance_type"]): Decimal(r["price_per_hour"])
        for r in rows("prices.csv")
        if r["purchase_option"] == "on_demand"
    }
    seen = set()
    for row in rows("prices.csv"):
        key = (row["provider"], row["region"], row["instance_type"], row["purchase_option"])
        assert key not in seen, f"duplicate {key}"
        seen.add(key)
        if row["purchase_option"] != "on_demand":
            reference = on_demand.get(key[:3])
            assert reference is not None, f"{key} has no on-demand price to compare with"
            assert Decimal(row["price_per_hour"]) < reference, row


def test_derived_figures_say_so():
    for row in rows("prices.csv"):
        if row["purchase_option"] == "spot" and row["provider"] in {"aws", "gcp"}:
            assert row["source"].startswith("derived:") or "whole-machine" in row["source"], row
        if row["provider"] == "gcp" and row["instance_type"].startswith(("a2-", "a3-", "n1-")):
            assert "derived" in row["source"] or "pricing.yml" in row["source"], row


def test_azure_h100_count_is_fixed():
    h100 = next(r for r in rows("instance_types.csv") if r["name"] == "Standard_ND96isr_H100_v5")
    assert h100["accelerator_count"] == "8"


def test_shipped_catalogue_loads(db):
    report = load_catalog()
    assert report.created["prices"] == len(rows("prices.csv"))
    assert Price.objects.public().count() == len(rows("prices.csv"))
