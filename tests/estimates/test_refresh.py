"""Refreshing AWS prices: stored over older catalogue rows, never over org prices."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from estimates import pricing_aws, refresh, tasks
from estimates.models import Price


def record(option, amount, as_of=date(2026, 11, 20), instance="p3.2xlarge", region="us-east-1"):
    return pricing_aws.FetchedPrice(
        provider="aws",
        region=region,
        instance_type=instance,
        purchase_option=option,
        price_per_hour=Decimal(amount),
        currency="USD",
        source="AWS API (test)",
        as_of=as_of,
    )


def test_fetched_prices_replace_older_catalogue_rows(catalog, org_a, monkeypatch):
    public = Price.objects.public().get(
        instance_type__name="p3.2xlarge", region__code="us-east-1", purchase_option="spot"
    )
    Price.objects.create(
        organization=org_a,
        instance_type=public.instance_type,
        region=public.region,
        purchase_option="spot",
        price_per_hour="0.11",
        source="mine",
        as_of=date(2026, 1, 1),
    )
    monkeypatch.setattr(
        pricing_aws,
        "fetch_on_demand_prices",
        lambda region, names, client=None: [record("on_demand", "3.10")],
    )
    monkeypatch.setattr(
        pricing_aws,
        "fetch_spot_prices",
        lambda region, names, client=None: [
            record("spot", "0.55"),
            record("spot", "0.66", as_of=date(2025, 1, 1), instance="g5.xlarge"),
            record("spot", "9.99", instance="not-in-catalogue"),
        ],
    )
    report, errors = refresh.refresh_aws(["us-east-1"])
    assert errors == {}
    spot = Price.objects.public().get(pk=public.pk)
    assert (spot.price_per_hour, spot.source, spot.as_of) == (
        Decimal("0.55"),
        "AWS API (test)",
        date(2026, 11, 20),
    )
    assert Price.objects.for_org(org_a).get().price_per_hour == Decimal("0.11")
    g5 = Price.objects.public().get(instance_type__name="g5.xlarge", purchase_option="spot")
    assert g5.price_per_hour == Decimal("0.43")  # the fetched figure was older
    assert report.kept_newer == {"prices": 1} and report.updated == {"prices": 2}


def test_a_failing_region_is_reported_and_others_stored(catalog, monkeypatch):
    def on_demand(region, names, client=None):
        if region == "eu-west-1":
            raise pricing_aws.PriceFetchError("AWS refused: AccessDenied")
        return [record("on_demand", "3.20")]

    monkeypatch.setattr(pricing_aws, "fetch_on_demand_prices", on_demand)
    monkeypatch.setattr(pricing_aws, "fetch_spot_prices", lambda region, names, client=None: [])
    _, errors = refresh.refresh_aws()
    assert errors == {"eu-west-1": "AWS refused: AccessDenied"}
    assert Price.objects.public().get(
        instance_type__name="p3.2xlarge", region__code="us-east-1", purchase_option="on_demand"
    ).price_per_hour == Decimal("3.2")


def test_without_credentials_the_command_refuses_and_the_task_skips(catalog, monkeypatch):
    monkeypatch.setattr(refresh, "aws_configured", lambda: False)
    with pytest.raises(CommandError, match="No AWS credentials"):
        call_command("refresh_prices", "--provider", "aws")
    assert tasks.refresh_aws_prices().startswith("skipped")
