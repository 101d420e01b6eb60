"""Pulling AWS Cost Explorer costs into expenses: stored once, re-pulls add nothing."""

from datetime import date
from decimal import Decimal

import boto3
import pytest
from botocore.stub import Stubber
from django.core.management import call_command
from django.core.management.base import CommandError

from budgets import cloud_costs, cost_explorer
from budgets.models import CloudCostSource, Expense


def answer(day: str, groups):
    return {
        "ResultsByTime": [
            {
                "TimePeriod": {"Start": day, "End": day},
                "Estimated": False,
                "Groups": [
                    {
                        "Keys": [service, region],
                        "Metrics": {"UnblendedCost": {"Amount": amount, "Unit": "USD"}},
                    }
                    for service, region, amount in groups
                ],
            }
        ],
        "DimensionValueAttributes": [],
    }


@pytest.fixture
def ce_client():
    client = boto3.client(
        "ce", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    stubber = Stubber(client)
    stubber.activate()
    yield client, stubber
    stubber.deactivate()


def test_pull_stores_each_day_service_region_once(org_a, ce_client):
    client, stubber = ce_client
    groups = [
        ("Amazon Elastic Compute Cloud - Compute", "us-east-1", "812.3400000000"),
        ("Amazon Simple Storage Service", "NoRegion", "3.1000000000"),
    ]
    for _ in range(2):
        stubber.add_response("get_cost_and_usage", answer("2026-11-20", groups))
    source = CloudCostSource.objects.create(organization=org_a, account_label="123456789012")
    first = cloud_costs.pull(source, 1, client=client, today=date(2026, 11, 21))
    second = cloud_costs.pull(source, 1, client=client, today=date(2026, 11, 21))
    assert first.startswith("2 new") and second.startswith("0 new, 2 already stored")
    expenses = Expense.objects.for_org(org_a).order_by("service")
    assert [(e.service, e.region, e.amount, e.source) for e in expenses] == [
        ("Amazon Elastic Compute Cloud - Compute", "us-east-1", Decimal("812.34"), "cloud"),
        ("Amazon Simple Storage Service", "", Decimal("3.1"), "cloud"),
    ]
    source.refresh_from_db()
    assert source.last_result == second


def test_a_refused_pull_is_recorded_not_raised(org_a, monkeypatch):
    def refuse(*args, **kwargs):
        raise cost_explorer.CostExplorerError("AWS refused: grant ce:GetCostAndUsage")

    monkeypatch.setattr(cost_explorer, "fetch_daily_costs", refuse)
    source = CloudCostSource.objects.create(organization=org_a)
    assert cloud_costs.pull(source, 3).startswith("failed: AWS refused")
    with pytest.raises(CommandError, match="failed"):
        call_command("pull_costs", "--provider", "aws", "--org", "org-a", "--days", "3")
    assert not Expense.objects.exists()
