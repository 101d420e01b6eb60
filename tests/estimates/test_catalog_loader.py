"""Loading catalogue files: idempotent, validated, never clobbering newer or org prices."""

import shutil
from datetime import date
from decimal import Decimal

import pytest
from django.core.management import call_command

from estimates.catalog_loader import CatalogueFileError, load_catalog
from estimates.models import InstanceType, Price, Region
from tests.conftest import FIXTURE_CATALOG


def public(instance="p3.2xlarge", option="on_demand", region="us-east-1"):
    return Price.objects.public().get(
        instance_type__name=instance, purchase_option=option, region__code=region
    )


def test_loading_twice_changes_nothing(catalog):
    before = list(Price.objects.order_by("pk").values())
    report = load_catalog(FIXTURE_CATALOG)
    assert list(Price.objects.order_by("pk").values_list("pk", "price_per_hour")) == [
        (row["id"], row["price_per_hour"]) for row in before
    ]
    assert report.created == {}


def test_newer_refreshed_prices_are_kept_and_org_prices_untouched(catalog, org_a):
    refreshed = public()
    refreshed.price_per_hour, refreshed.as_of = Decimal("2.99"), date(2026, 6, 1)
    refreshed.source = "AWS Price List API"
    refreshed.save()
    own = Price.objects.create(
        organization=org_a,
        instance_type=refreshed.instance_type,
        region=refreshed.region,
        purchase_option="on_demand",
        price_per_hour="1.23",
        source="mine",
        as_of=date(2020, 1, 1),
    )
    report = load_catalog(FIXTURE_CATALOG)
    assert public().price_per_hour == Decimal("2.99")
    assert report.kept_newer == {"prices": 1}
    own.refresh_from_db()
    assert own.price_per_hour == Decimal("1.23")


def test_a_bad_file_loads_nothing(tmp_path, db):
    for name in FIXTURE_CATALOG.iterdir():
        shutil.copy(name, tmp_path / name.name)
    prices = tmp_path / "prices.csv"
    prices.write_text(prices.read_text() + "aws,us-east-1,g5.xlarge,commit_1y,0,USD,x,2026-01-01\n")
    with pytest.raises(CatalogueFileError, match="must be positive"):
        load_catalog(tmp_path)
    assert not Region.objects.exists() and not InstanceType.objects.exists()


def test_load_catalog_command_loads_the_shipped_files(db, capsys):
    call_command("load_catalog")
    assert "prices:" in capsys.readouterr().out
    assert Price.objects.public().exists()
