"""Pulling AWS Cost Explorer costs into expenses: stored once, re-pulls add nothing but take
up Cost Explorer's revisions; each day counts in the organization's own local day."""

import zoneinfo
from datetime import UTC, date, datetime
from decimal import Decimal

import boto3
import pytest
from botocore.stub import Stubber
from django.core.management import call_command
from django.core.management.base import CommandError

from budgets import cloud_costs, cost_explorer, rollups
from budgets.figures import figures
from budgets.models import Budget, CloudCostSource, Expense


def answer(day: str, groups, estimated=False):
    return {
        "ResultsByTime": [
            {
                "TimePeriod": {"Start": day, "End": day},
                "Estimated": estimated,
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
    assert first.startswith("2 new") and second.startswith("0 new, 2 already stored, 0 of them")
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


EC2 = "Amazon Elastic Compute Cloud - Compute"


def test_a_refresh_takes_up_revised_amounts(org_a, ce_client):
    client, stubber = ce_client
    stubber.add_response(
        "get_cost_and_usage", answer("2026-11-20", [(EC2, "us-east-1", "10")], True)
    )
    stubber.add_response("get_cost_and_usage", answer("2026-11-20", [(EC2, "us-east-1", "25")]))
    source = CloudCostSource.objects.create(organization=org_a, account_label="1")
    cloud_costs.pull(source, 1, client=client, today=date(2026, 11, 21))
    again = cloud_costs.pull(source, 1, client=client, today=date(2026, 11, 21))
    assert again.startswith("0 new, 1 already stored, 1 of them revised")
    stored = Expense.objects.for_org(org_a).get()
    assert (stored.amount, stored.description) == (Decimal("25"), "AWS Cost Explorer")
    assert rollups.drift(org_a) == []
    budget = Budget.objects.create(organization=org_a, name="Nov", amount=1000)
    assert figures(budget, datetime(2026, 11, 21, 12, tzinfo=UTC)).spent == Decimal("25")


def test_a_day_counts_in_the_organizations_own_day(org_a, ce_client):
    org_a.time_zone = "America/New_York"
    org_a.save()
    client, stubber = ce_client
    for _ in range(2):
        stubber.add_response("get_cost_and_usage", answer("2026-11-01", [(EC2, "", "100")]))
    source = CloudCostSource.objects.create(organization=org_a, account_label="1")
    cloud_costs.pull(source, 1, client=client, today=date(2026, 11, 2))
    new_york = zoneinfo.ZoneInfo("America/New_York")
    stored = Expense.objects.for_org(org_a).get()
    assert stored.incurred_at == datetime(2026, 11, 1, tzinfo=new_york)
    assert stored.charge_period_end == datetime(2026, 11, 2, tzinfo=new_york)
    budget = Budget.objects.create(organization=org_a, name="Monthly", amount=1000)
    november = figures(budget, datetime(2026, 11, 15, 12, tzinfo=UTC))
    october = figures(budget, datetime(2026, 11, 1, 3, 30, tzinfo=UTC))  # 31 Oct in New York
    assert (november.spent, october.spent) == (Decimal("100"), Decimal("0"))
    # a day stored at UTC midnight (before days were local) moves, keeping its external id
    stored.incurred_at = datetime(2026, 11, 1, tzinfo=UTC)
    stored.save()
    assert "1 of them revised" in cloud_costs.pull(
        source, 1, client=client, today=date(2026, 11, 2)
    )
    assert Expense.objects.for_org(org_a).get().incurred_at == datetime(
        2026, 11, 1, tzinfo=new_york
    )
    assert rollups.drift(org_a) == []


def test_a_cost_revised_to_zero_is_removed_and_nothing_else(org_a, org_b, ce_client):
    client, stubber = ce_client
    s3 = "Amazon Simple Storage Service"
    stubber.add_response(
        "get_cost_and_usage", answer("2026-11-20", [(EC2, "us-east-1", "10"), (s3, "", "2")])
    )
    # Cost Explorer leaves out a cost revised to zero, or answers it as zero
    stubber.add_response("get_cost_and_usage", answer("2026-11-20", [(s3, "", "0")]))
    source = CloudCostSource.objects.create(organization=org_a, account_label="acc")
    cloud_costs.pull(source, 1, client=client, today=date(2026, 11, 21))
    day = Expense.objects.for_org(org_a).get(service=EC2).incurred_at

    def stored(org, amount, external_id="", source="cloud"):
        return Expense.objects.create(
            organization=org, amount=amount, incurred_at=day, source=source, external_id=external_id
        )

    ec2 = f"{EC2}:us-east-1"
    kept = [
        # another account's (one differing only in case too), another metric's and a manual
        # expense of the same day
        stored(org_a, 5, f"aws-ce:222:2026-11-20:{ec2}:UnblendedCost"),
        stored(org_a, 4, f"aws-ce:ACC:2026-11-20:{ec2}:UnblendedCost"),
        stored(org_a, 6, f"aws-ce:acc:2026-11-20:{ec2}:AmortizedCost"),
        stored(org_a, 7, source="api"),
        # the same account's cost of a day the answer does not cover
        stored(org_a, 8, f"aws-ce:acc:2026-11-19:{ec2}:UnblendedCost"),
        # another organization's cost with the same id
        stored(org_b, 9, f"aws-ce:acc:2026-11-20:{ec2}:UnblendedCost"),
    ]
    again = cloud_costs.pull(source, 1, client=client, today=date(2026, 11, 21))
    assert again.startswith("0 new, 0 already stored, 0 of them revised, 2 removed")
    assert sorted(Expense.objects.values_list("pk", flat=True)) == sorted(e.pk for e in kept)
    assert rollups.drift(org_a) == [] and rollups.drift(org_b) == []
    budget = Budget.objects.create(organization=org_a, name="Nov", amount=1000)
    assert figures(budget, datetime(2026, 11, 21, 12, tzinfo=UTC)).spent == Decimal("30")


def test_a_day_left_unanswered_keeps_its_costs(org_a, ce_client):
    client, stubber = ce_client
    stubber.add_response("get_cost_and_usage", answer("2026-11-20", [(EC2, "us-east-1", "10")]))
    stubber.add_response("get_cost_and_usage", {"ResultsByTime": []})
    source = CloudCostSource.objects.create(organization=org_a, account_label="1")
    cloud_costs.pull(source, 1, client=client, today=date(2026, 11, 21))
    assert "0 removed" in cloud_costs.pull(source, 1, client=client, today=date(2026, 11, 21))
    assert Expense.objects.for_org(org_a).get().amount == Decimal("10")
