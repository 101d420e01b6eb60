"""Job carbon records: measured energy, power samples, cumulative reports, totals."""

from datetime import UTC, datetime, timedelta

import pytest

from carbon.models import CarbonBudget, CarbonRecord
from carbon.records import energy_from_samples
from costsite.orgs.models import Team
from tests.conftest import api_client

API = "/api/v1/orgs/org-a/carbon/records"
START = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


def test_trapezoid_energy():
    samples = [
        (START, 1000.0),
        (START + timedelta(hours=1), 3000.0),
        (START + timedelta(hours=2), 3000.0),
    ]
    assert energy_from_samples(samples) == pytest.approx(2.0 + 3.0)  # kWh


def test_measured_energy_report_and_cumulative_updates(org_a, alice, carbon_catalog):
    client = api_client(user=alice)
    body = {
        "name": "llama-ft",
        "external_id": "job-7",
        "started_at": START.isoformat(),
        "provider": "gcp",
        "region": "us-central1",
        "energy_kwh": 10,
    }
    first = client.post(f"{API}/", body, format="json")
    assert first.status_code == 201
    # 10 kWh × PUE 1.1 × 413 g = 4.543 kg
    assert first.json()["co2e_kg"] == pytest.approx(4.543)
    first_updated_at = CarbonRecord.objects.get().updated_at
    again = client.post(f"{API}/", {**body, "energy_kwh": 30}, format="json")
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    assert CarbonRecord.objects.get().updated_at > first_updated_at
    assert again.json()["co2e_kg"] == pytest.approx(13.629)
    assert CarbonRecord.objects.for_org(org_a).count() == 1


def test_power_samples_are_integrated(org_a, alice, carbon_catalog):
    samples = [
        {"at": (START + timedelta(minutes=30 * i)).isoformat(), "power_w": 2000} for i in range(5)
    ]  # 2 kW for 2 h = 4 kWh
    response = api_client(user=alice).post(
        f"{API}/",
        {
            "name": "eval",
            "started_at": START.isoformat(),
            "samples": samples,
            "pue": 1.2,
            "intensity_g_per_kwh": 250,
        },
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["energy_kwh"] == pytest.approx(4.8)  # 4 kWh × 1.2
    assert response.json()["co2e_kg"] == pytest.approx(1.2)


def test_bad_reports_are_400(org_a, alice, carbon_catalog):
    client = api_client(user=alice)
    base = {"name": "x", "started_at": START.isoformat(), "pue": 1.1, "intensity_g_per_kwh": 1}
    assert (
        client.post(
            f"{API}/", {**base, "samples": [{"at": START.isoformat(), "power_w": 1}]}, format="json"
        ).status_code
        == 400
    )
    assert client.post(f"{API}/", {**base, "energy_kwh": -1}, format="json").status_code == 400
    assert (
        client.post(
            f"{API}/", {**base, "ended_at": "2020-01-01T00:00:00Z", "energy_kwh": 1}, format="json"
        ).status_code
        == 400
    )
    assert client.post(f"{API}/", {"name": "x", "energy_kwh": 1}, format="json").status_code == 400
    assert not CarbonRecord.objects.exists()


def test_summary_by_month_and_region(org_a, alice, carbon_catalog):
    client = api_client(user=alice)
    for region, kwh, when in (
        ("us-central1", 10, START),
        ("us-central1", 5, START),
        ("us-central1", 1, START - timedelta(days=40)),
    ):
        client.post(
            f"{API}/",
            {
                "name": "j",
                "started_at": when.isoformat(),
                "provider": "gcp",
                "region": region,
                "energy_kwh": kwh,
            },
            format="json",
        )
    by_month = client.get(f"{API}/summary?group_by=month").json()
    assert [g["key"] for g in by_month["groups"]] == ["2026-10-01", "2026-11-01"]
    assert by_month["groups"][1]["co2e_kg"] == pytest.approx(15 * 1.1 * 0.413)
    assert client.get(f"{API}/summary?group_by=colour").status_code == 400


@pytest.fixture
def tokyo_job(org_a):
    """A job of a Tokyo organization started on 1 March at 08:00 local: 28 February in UTC."""
    org_a.time_zone = "Asia/Tokyo"
    org_a.save()
    return CarbonRecord.objects.create(
        organization=org_a,
        name="tokyo-job",
        started_at=datetime(2026, 2, 28, 23, 0, tzinfo=UTC),
        energy_kwh=1,
        co2e_kg=5,
        intensity_g_per_kwh=1,
        pue=1,
    )


def test_summary_months_and_days_are_the_organizations(tokyo_job, alice):
    client = api_client(user=alice)
    by_month = client.get(f"{API}/summary?group_by=month").json()
    assert [g["key"] for g in by_month["groups"]] == ["2026-03-01"]
    march = client.get(f"{API}/summary?start=2026-03-01&end=2026-03-01").json()
    february = client.get(f"{API}/summary?start=2026-02-01&end=2026-02-28").json()
    assert (march["co2e_kg"], february["co2e_kg"]) == (5, 0)


def test_dashboard_months_are_the_organizations(client, tokyo_job, alice):
    client.force_login(alice)
    response = client.get("/o/org-a/carbon/dashboard/")
    assert [g["key"] for g in response.context["by_month"]] == ["2026-03-01"]


@pytest.mark.parametrize("query", ["end=9999-12-31", "start=0001-01-01", "start=2026-02-30"])
def test_summary_refuses_days_it_cannot_use(org_a, alice, query):
    response = api_client(user=alice).get(f"{API}/summary?{query}")
    assert response.status_code == 400 and query.split("=")[0] in response.json()


def test_dashboard_and_overview_show_emissions(client, org_a, alice, carbon_catalog):
    from django.utils import timezone

    api_client(user=alice).post(
        f"{API}/",
        {
            "name": "big-run",
            "started_at": timezone.now().isoformat(),
            "provider": "gcp",
            "region": "us-central1",
            "energy_kwh": 100,
        },
        format="json",
    )
    client.force_login(alice)
    dashboard = client.get("/o/org-a/carbon/dashboard/").content.decode()
    assert "big-run" in dashboard and "45.430" in dashboard and 'id="carbon-chart"' in dashboard
    assert "45.430 kg CO2e" in client.get("/o/org-a/").content.decode()


def test_carbon_budget_alerts_once_per_threshold_and_period(
    org_a, alice, carbon_catalog, receiver, django_capture_on_commit_callbacks
):
    import json

    from django.utils import timezone

    from carbon.models import CarbonAlert
    from costsite.notify.channels import create_channel

    channel = create_channel(org_a, "hook", "webhook", receiver.url)
    client = api_client(user=alice)
    budget = client.post(
        "/api/v1/orgs/org-a/carbon/budgets/",
        {
            "name": "Monthly",
            "limit_kg": 10,
            "thresholds": [50, 100],
            "channels": [channel.pk],
        },
        format="json",
    )
    assert budget.status_code == 201
    now = timezone.now().isoformat()
    for kwh in (5, 7, 10):  # 5 kWh × 1.1 × 0.413 = 2.27 kg each 5 kWh...
        with django_capture_on_commit_callbacks(execute=True):
            client.post(
                f"{API}/",
                {
                    "name": f"job{kwh}",
                    "started_at": now,
                    "provider": "gcp",
                    "region": "us-central1",
                    "energy_kwh": kwh,
                },
                format="json",
            )
    # 22 kWh × 1.1 × 413 g = 9.99 kg: 99.9% → only the 50% threshold
    assert list(CarbonAlert.objects.values_list("percent", flat=True)) == [50]
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            f"{API}/",
            {
                "name": "last",
                "started_at": now,
                "provider": "gcp",
                "region": "us-central1",
                "energy_kwh": 1,
            },
            format="json",
        )
    assert sorted(CarbonAlert.objects.values_list("percent", flat=True)) == [50, 100]
    events = [json.loads(r["body"])["event"] for r in receiver.requests]
    assert events == ["carbon.threshold_crossed", "carbon.threshold_crossed"]
    figures = client.get(f"/api/v1/orgs/org-a/carbon/budgets/{budget.json()['id']}/").json()
    assert figures["figures"]["percent_used"] > 100


def test_carbon_budget_on_the_dashboard(client, org_a, org_b, alice, bob, carbon_catalog):
    client.force_login(alice)
    team = Team.objects.create(organization=org_a, name="Research")
    response = client.post(
        "/o/org-a/carbon/dashboard/",
        {
            "name": "Quarter",
            "limit_kg": "500",
            "period": "quarterly",
            "thresholds": "100, 75",
            "team": team.pk,
        },
    )
    assert response.status_code == 302
    made = CarbonBudget.objects.for_org(org_a).get()
    assert (made.team, made.thresholds) == (team, [75, 100])
    assert "Quarter (Research)" in client.get("/o/org-a/carbon/dashboard/").content.decode()
    bad = client.post(
        "/o/org-a/carbon/dashboard/",
        {"name": "X", "limit_kg": "-1", "period": "monthly", "thresholds": "abc"},
    )
    assert {"limit_kg", "thresholds"} <= set(bad.context["form"].errors)
    foreign = Team.objects.create(organization=org_b, name="Theirs")
    refused = client.post(
        "/o/org-a/carbon/dashboard/",
        {
            "name": "X",
            "limit_kg": "1",
            "period": "monthly",
            "thresholds": "80, 80",
            "team": foreign.pk,
        },
    )
    errors = refused.context["form"].errors
    assert set(errors) == {"team", "thresholds"} and "once" in errors["thresholds"][0]
    assert CarbonBudget.objects.count() == 1
    client.force_login(bob)
    assert (
        client.post(
            "/o/org-a/carbon/dashboard/",
            {"name": "Y", "limit_kg": "1", "period": "monthly", "thresholds": "80"},
        ).status_code
        == 403
    )
