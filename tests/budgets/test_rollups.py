"""The daily roll-ups stay equal to the expenses through every way of writing them."""

import dataclasses
import io
import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.admin.sites import site
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import RequestFactory

from budgets import cloud_costs, rollups, summary
from budgets.cost_explorer import DailyCost, DailyCosts
from budgets.models import Budget, DailySpend, Expense
from budgets.periods import current_period
from budgets.spend import _daily_from_expenses, daily_spend, period_total
from budgets.summary import SummaryQuery
from costsite.orgs.models import Team
from tests.conftest import api_client

API = "/api/v1/orgs/org-a/expenses"
SAMPLE = Path(__file__).resolve().parent / "data" / "focus_1.0_sample_1000.csv"
LATE_EVENING_UTC = datetime(2026, 11, 10, 23, 30, tzinfo=UTC)


def expense(org, amount="10", when=LATE_EVENING_UTC, **fields):
    return Expense.objects.create(
        organization=org, amount=Decimal(amount), source="manual", incurred_at=when, **fields
    )


def spent(org, day):
    return DailySpend.objects.for_org(org).filter(day=day).values_list("amount", "expenses")


def test_save_change_and_delete_follow(org_a):
    team = Team.objects.create(organization=org_a, name="Research")
    first = expense(org_a, "10.5", provider="aws", team=team)
    expense(org_a, "2", provider="aws", team=team)
    row = DailySpend.objects.for_org(org_a).get()
    assert (row.day, row.team_key, row.provider, row.amount, row.expenses) == (
        date(2026, 11, 10),
        team.pk,
        "aws",
        Decimal("12.5"),
        2,
    )
    first.amount = Decimal("1")
    first.provider = "gcp"
    first.save()
    assert rollups.drift(org_a) == []
    assert sorted(DailySpend.objects.for_org(org_a).values_list("provider", "amount")) == [
        ("aws", Decimal("2")),
        ("gcp", Decimal("1")),
    ]
    first.delete()
    assert rollups.drift(org_a) == []
    assert DailySpend.objects.for_org(org_a).count() == 1


def test_days_are_the_organizations_local_days_and_follow_a_time_zone_change(org_a):
    expense(org_a)  # 23:30 UTC on the 10th
    assert list(spent(org_a, date(2026, 11, 10))) == [(Decimal("10"), 1)]
    org_a.time_zone = "Asia/Tokyo"  # 08:30 on the 11th
    org_a.save()
    assert list(spent(org_a, date(2026, 11, 10))) == []
    assert list(spent(org_a, date(2026, 11, 11))) == [(Decimal("10"), 1)]
    assert rollups.drift(org_a) == []


def test_bulk_insert_queryset_delete_and_team_deletion(org_a, org_b):
    team = Team.objects.create(organization=org_a, name="Platform")
    Expense.objects.bulk_create(
        Expense(
            organization=org,
            amount=Decimal("1.25"),
            source="api",
            incurred_at=LATE_EVENING_UTC,
            team=team if org == org_a else None,
            region=f"r{n % 3}",
        )
        for n in range(30)
        for org in (org_a, org_b)
    )
    assert rollups.drift(org_a) == [] and rollups.drift(org_b) == []
    deleted, _ = Expense.objects.for_org(org_a).filter(region="r0").delete()
    assert deleted == 10
    team.delete()
    assert rollups.drift(org_a) == [] and rollups.drift(org_b) == []
    assert set(DailySpend.objects.for_org(org_a).values_list("team_key", flat=True)) == {0}


def test_writes_that_would_bypass_the_rollups_are_refused(org_a):
    made = expense(org_a)
    with pytest.raises(ValueError, match="one by one"):
        Expense.objects.filter(pk=made.pk).update(amount=5)
    with pytest.raises(ValueError, match="inserted whole"):
        Expense.objects.bulk_create([Expense(organization=org_a)], ignore_conflicts=True)
    Expense.objects.filter(pk=made.pk).update(description="notes are not rolled up")


def test_api_single_bulk_and_delete(org_a, alice):
    client = api_client(user=alice)
    body = {"amount": "3.5", "incurred_at": "2026-11-10T12:00:00Z", "provider": "aws"}
    assert client.post(f"{API}/", body, format="json").status_code == 201
    bulk = [{**body, "external_id": f"b{n}", "region": "eu-west-1"} for n in range(5)]
    assert client.post(f"{API}/bulk", {"expenses": bulk}, format="json").status_code == 201
    assert rollups.drift(org_a) == []
    one = Expense.objects.for_org(org_a).filter(region="eu-west-1").first()
    assert client.delete(f"{API}/{one.pk}/").status_code == 204
    assert rollups.drift(org_a) == []
    assert sum(DailySpend.objects.for_org(org_a).values_list("expenses", flat=True)) == 5


def test_admin_edit_and_bulk_delete(org_a, alice):
    alice.is_staff = alice.is_superuser = True
    alice.save()
    made = [expense(org_a, str(n)) for n in range(1, 4)]
    model_admin = site._registry[Expense]
    request = RequestFactory().post("/admin/")
    request.user = alice
    made[0].amount = Decimal("100")
    model_admin.save_model(request, made[0], form=None, change=True)
    model_admin.delete_queryset(request, Expense.objects.filter(pk=made[1].pk))
    assert rollups.drift(org_a) == []
    assert list(spent(org_a, date(2026, 11, 10))) == [(Decimal("103"), 2)]


def test_cloud_cost_pull_counts_each_day_once(org_a):
    records = [
        DailyCost(date(2026, 11, 9), "Amazon EC2", "us-east-1", Decimal("7"), "USD", False, "k1"),
        DailyCost(date(2026, 11, 9), "Amazon S3", "us-east-1", Decimal("1"), "USD", False, "k2"),
    ]
    day = frozenset({date(2026, 11, 9)})
    answer = DailyCosts(records, day, "UnblendedCost")
    assert cloud_costs.store(org_a, answer, "") == (2, 0, 0)  # (created, revised, removed)
    twice = DailyCosts(records + records, day, "UnblendedCost")
    assert cloud_costs.store(org_a, twice, "") == (0, 0, 0)
    assert list(spent(org_a, date(2026, 11, 9))) == [(Decimal("8"), 2)]


def test_the_import_rolls_up_what_it_inserted(
    org_a, alice, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path
    client = api_client(user=alice)
    for _ in range(2):  # the second import inserts nothing and must add nothing
        upload = SimpleUploadedFile("focus.csv", SAMPLE.read_bytes())
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(f"{API}/import", {"file": upload}, format="multipart")
        assert response.status_code == 202
    assert rollups.drift(org_a) == []
    assert sum(DailySpend.objects.for_org(org_a).values_list("expenses", flat=True)) == 1000


def test_budget_figures_from_rollups_equal_figures_from_expenses(org_a):
    team = Team.objects.create(organization=org_a, name="Research")
    for n in range(12):
        expense(
            org_a,
            f"{n}.{n}",
            when=datetime(2026, 11, 1 + n, 15, tzinfo=UTC),
            team=team if n % 2 else None,
            provider=("aws", "gcp")[n % 3 == 0],
            service_category="Compute",
        )
    now = datetime(2026, 11, 20, tzinfo=UTC)
    for scope in ({}, {"team": team}, {"scope_provider": "aws"}, {"scope_region": "nowhere"}):
        budget = Budget.objects.create(organization=org_a, name=str(scope), amount=100, **scope)
        period = current_period(budget, now)
        assert daily_spend(budget, period) == _daily_from_expenses(budget, period)
        assert daily_spend(budget, period) or scope == {"scope_region": "nowhere"}


@pytest.mark.parametrize("group_by", ["", "day", "provider", "region", "team"])
def test_summaries_from_rollups_equal_summaries_from_expenses(org_a, group_by):
    teams = [Team.objects.create(organization=org_a, name=name) for name in ("A", "B", "C")]
    rng = random.Random(5)  # noqa: S311 - reproducible test data
    for _ in range(60):
        expense(
            org_a,
            f"{rng.randrange(1, 10_000) / 100}",
            when=datetime(2026, 10, 25, tzinfo=UTC) + timedelta(hours=rng.randrange(30 * 24)),
            team=rng.choice([*teams, None]),
            provider=rng.choice(["aws", "gcp"]),
            region=rng.choice(["us-east-1", "eu-west-1", ""]),
        )
    for filters in ({}, {"provider": "aws"}, {"team": teams[0].pk}):
        query = SummaryQuery(date(2026, 11, 1), date(2026, 11, 15), "USD", **filters)
        query = dataclasses.replace(query, group_by=group_by)
        rolled_totals, rolled = summary._from_rollups(org_a, query)
        raw_totals, raw = summary._from_expenses(org_a, query)
        assert rolled_totals == raw_totals
        assert sorted(rolled, key=str) == sorted(raw, key=str)
        assert rolled_totals["count"] > 0


def test_period_totals_for_alerts_union_rollups_and_tag_scoped_expenses(org_a):
    expense(org_a, "4", when=datetime(2026, 11, 3, tzinfo=UTC), tags={"job": "ci"})
    expense(org_a, "6", when=datetime(2026, 11, 4, tzinfo=UTC), tags={"job": "train"})
    expense(org_a, "50", when=datetime(2026, 10, 31, tzinfo=UTC), tags={"job": "ci"})
    whole = Budget.objects.create(organization=org_a, name="all", amount=100)
    ci = Budget.objects.create(
        organization=org_a, name="ci", amount=100, scope_tag_key="job", scope_tag_value="ci"
    )
    now = datetime(2026, 11, 20, tzinfo=UTC)
    parts = [period_total(b, current_period(b, now)) for b in (whole, ci)]
    assert dict(parts[0].union(parts[1], all=True)) == {
        whole.pk: Decimal("10"),
        ci.pk: Decimal("4"),
    }


def test_saving_fields_the_rollups_ignore_leaves_them_alone(org_a, django_assert_num_queries):
    made = expense(org_a, "3")
    made.description = "re-labelled"
    with django_assert_num_queries(1):
        made.save(update_fields=["description"])
    assert rollups.drift(org_a) == []


def test_check_rollups_reports_and_repairs_what_differs(org_a, org_b):
    expense(org_a, "10")
    expense(org_b, "4")
    out = io.StringIO()
    call_command("check_rollups", stdout=out)
    assert out.getvalue().splitlines() == [
        "org-a: roll-ups match the expenses",
        "org-b: roll-ups match the expenses",
    ]
    # a write that went around the roll-ups (raw SQL, a restored backup)
    DailySpend.objects.filter(organization=org_a).update(amount=Decimal("99"))
    out = io.StringIO()
    with pytest.raises(CommandError, match="differ from the expenses for org-a; run again"):
        call_command("check_rollups", stdout=out)
    assert "org-a: 1 roll-up key(s) differ" in out.getvalue()
    assert "stored (Decimal('99" in out.getvalue()
    call_command("check_rollups", "--org", "org-a", "--repair", stdout=io.StringIO())
    assert rollups.drift(org_a) == [] and list(spent(org_a, date(2026, 11, 10))) == [
        (Decimal("10"), 1)
    ]
    assert list(spent(org_b, date(2026, 11, 10))) == [(Decimal("4"), 1)]
    with pytest.raises(CommandError, match="No organization 'nope'"):
        call_command("check_rollups", "--org", "nope")
