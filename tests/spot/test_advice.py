"""Expected cost before launch (Daly's model), learned interruption rates, savings accounting."""

import math
from datetime import timedelta
from decimal import Decimal

import numpy as np
import pytest
from django.utils import timezone

from budgets.models import Expense
from estimates import interruptions
from spot import accounting, advice, deadlines, orchestrator
from spot.models import Attempt, EndReason, Fleet

ADVICE = "/api/v1/orgs/{}/spot/advice"


def daly_wall(work, tau, delta, restart, mtbf):
    return mtbf * math.exp(restart / mtbf) * (math.exp((tau + delta) / mtbf) - 1) * work / tau


def test_advice_by_hand(client, alice, org_a, catalog):
    client.force_login(alice)
    body = {
        "provider": "aws",
        "region": "us-east-1",
        "instance_type": "p3.2xlarge",
        "count": 2,
        "hours": 100,
        "mtbf_hours": 20,
        "checkpoint_minutes": 6,
        "restart_minutes": 12,
    }
    result = client.post(ADVICE.format(org_a.slug), body, content_type="application/json").json()
    # Job MTBF = 20 / 2 nodes = 10 h; δ = 0.1 h: x = δ/2M = 0.005;
    # τ* = √(2·0.1·10)·(1 + √0.005/3 + 0.005/9) − 0.1 = 1.3449 h
    tau = math.sqrt(2) * (1 + math.sqrt(0.005) / 3 + 0.005 / 9) - 0.1
    assert result["checkpoint_interval_minutes"] == pytest.approx(tau * 60, abs=1e-3)
    assert result["young_interval_minutes"] == pytest.approx(math.sqrt(2) * 60, abs=1e-3)
    wall = daly_wall(100, tau, 0.1, 0.2, 10)
    assert result["expected_total_hours"] == pytest.approx(wall, abs=1e-4)
    assert result["expected_interruptions"] == pytest.approx(wall / 10, abs=1e-4)
    assert result["expected_checkpoint_hours"] == pytest.approx(100 / tau * 0.1, abs=1e-4)
    assert result["expected_restart_hours"] == pytest.approx(wall / 10 * 0.2, abs=1e-4)
    rework = wall - 100 - 100 / tau * 0.1 - wall / 10 * 0.2
    assert result["expected_rework_hours"] == pytest.approx(rework, abs=1e-4)
    spot_cost = Decimal("0.40") * 2 * Decimal(repr(round(wall, 10)))
    assert Decimal(result["expected_cost"]) == pytest.approx(spot_cost, abs=Decimal("0.001"))
    assert result["on_demand_cost"] == "612.0000"  # 3.06 × 2 × 100
    assert result["recommendation"] == "spot"
    assert result["rate_basis"] == "given"
    assert result["prices"]["spot"]["price_per_hour"] == "0.400000"


def test_a_deadline_spot_cannot_meet_recommends_on_demand(client, alice, org_a, catalog):
    client.force_login(alice)
    body = {
        "provider": "aws",
        "region": "us-east-1",
        "instance_type": "p3.2xlarge",
        "hours": 10,
        "interruption_rate_per_hour": 0.5,
        "deadline_hours": 10.5,
    }
    result = client.post(ADVICE.format(org_a.slug), body, content_type="application/json").json()
    assert result["expected_total_hours"] > 10.5
    assert result["recommendation"] == "on_demand"
    assert "past the 10.5 h deadline" in result["reason"]


@pytest.mark.parametrize(
    "change,field",
    [
        ({"instance_type": "p3.2xlarg"}, "instance_type"),
        ({"region": "eu-west-1"}, "instance_type"),  # no spot price there
        ({"hours": -1}, "hours"),
        ({"mtbf_hours": 5, "interruption_rate_per_hour": 0.1}, "mtbf_hours"),
        ({"provider": "aws2"}, "provider"),
        # So frequent that spot never finishes: a field error, not an overflow.
        ({"interruption_rate_per_hour": 100, "restart_minutes": 60}, "interruption_rate_per_hour"),
    ],
)
def test_advice_input_errors_are_400(client, alice, org_a, catalog, change, field):
    client.force_login(alice)
    body = {"provider": "aws", "region": "us-east-1", "instance_type": "p3.2xlarge", "hours": 10}
    response = client.post(
        ADVICE.format(org_a.slug), {**body, **change}, content_type="application/json"
    )
    assert response.status_code == 400
    assert field in response.json()


def spot_fleet(org, provider="aws"):
    return Fleet.objects.create(
        organization=org,
        name="history",
        provider=provider,
        region="us-east-1",
        instance_types=["p3.2xlarge"],
        target_count=1,
        total_steps=10,
        image_id="ami-1",
        status="completed",
    )


def attempt(fleet, n, hours, interrupted, **fields):
    start = timezone.now() - timedelta(days=10)
    return Attempt.objects.create(
        organization=fleet.organization,
        fleet=fleet,
        slot=0,
        provider_instance_id=f"i-{fleet.pk}-{n}",
        market="spot",
        instance_type=fields.pop("instance_type", "p3.2xlarge"),
        price_per_hour=fields.pop("price", Decimal("0.40")),
        on_demand_price_per_hour=Decimal("3.06"),
        launched_at=start,
        ended_at=start + timedelta(hours=hours),
        end_reason=EndReason.INTERRUPTED if interrupted else EndReason.COMPLETED,
        state="interrupted" if interrupted else "terminated",
        **fields,
    )


def test_rate_is_learned_from_the_orgs_own_real_fleets(org_a, org_b, catalog):
    assert advice.resolve_rate(org_a, "aws", "us-east-1", "p3.2xlarge").basis == "default"
    fleet = spot_fleet(org_a)
    for n in range(3):
        attempt(fleet, n, 4, interrupted=True)
    attempt(fleet, 3, 8, interrupted=False)
    # Simulated fleets and other organizations do not count.
    attempt(spot_fleet(org_a, provider="simulated"), 9, 100, interrupted=True)
    attempt(spot_fleet(org_b), 10, 100, interrupted=True)
    rate = advice.resolve_rate(org_a, "aws", "us-east-1", "p3.2xlarge")
    assert rate.basis == "learned"
    assert rate.per_hour == pytest.approx((3 + 0.5) / 20)
    assert "3 interruptions in 20.0 spot instance-hours" in rate.source
    # Another type in the region falls back to the region's history.
    other = advice.resolve_rate(org_a, "aws", "us-east-1", "g5.xlarge")
    assert other.basis == "learned" and "all types in us-east-1" in other.source


def test_savings_are_net_of_rework(org_a, catalog):
    fleet = spot_fleet(org_a)
    fleet.target_count = 2
    first = attempt(fleet, 1, 10, interrupted=True, lost_hours=1.0)
    second = attempt(fleet, 2, 10, interrupted=False)
    totals = accounting.totals(fleet, [first, second], timezone.now())
    # 20 instance-hours × $0.40 = $8; on-demand 20 × $3.06 = $61.20; rework 1 h × 2 nodes = 2
    # instance-hours → useful share 18/20 → equivalent $55.08; savings $47.08.
    assert totals.cost == Decimal("8.0")
    assert totals.on_demand_equivalent_cost.quantize(Decimal("0.01")) == Decimal("55.08")
    assert totals.savings.quantize(Decimal("0.01")) == Decimal("47.08")
    assert totals.rework_instance_hours == 2.0


def test_fleet_money_is_in_the_prices_currency_not_the_organizations(
    api, alice, org_a, make_fleet, commit
):
    """Prices are the catalogue's (USD): the fleet's figures and its expense say USD, without
    conversion, whatever the organization's currency."""
    org_a.currency = "EUR"
    org_a.save()
    fleet = make_fleet()
    attempt = fleet.attempts.get()
    commit(orchestrator.interrupt, attempt, timezone.now())
    expense = Expense.objects.get(external_id=f"spot-attempt-{attempt.pk}")
    body = api(user=alice).get(f"/api/v1/orgs/{org_a.slug}/spot/fleets/{fleet.pk}/").json()
    assert expense.currency == body["currency"] == body["accounting"]["currency"] == "USD"


def test_fleet_carbon_matches_the_footprint_per_instance_hour(org_a, carbon_catalog):
    fleet = spot_fleet(org_a)
    one = attempt(fleet, 1, 3, interrupted=False)
    per_hour = accounting.Footprints(org_a).per_hour("p3.2xlarge", "us-east-1")
    totals = accounting.totals(fleet, [one], timezone.now())
    assert totals.co2e_kg == pytest.approx(per_hour["co2e_kg"] * 3)
    assert per_hour["intensity_g_per_kwh"] == 379  # the fixture's us-east-1 figure


def test_deadline_at_risk_from_measured_speed(org_a, catalog):
    fleet = spot_fleet(org_a)
    fleet.status, fleet.total_steps = "running", 1000
    now = timezone.now()
    fleet.deadline = now + timedelta(hours=5)
    fleet.save()
    attempt(fleet, 1, 0, interrupted=False)
    Attempt.objects.update(launched_at=now - timedelta(hours=3), ended_at=None, state="running")
    fleet.progress_reports.create(organization=org_a, step=0, at=now - timedelta(hours=2))
    fleet.progress_reports.create(organization=org_a, step=200, at=now)
    fleet.progress_step = 200
    # 100 steps/h, 800 left → 8 h > 5 h left.
    assert deadlines.steps_per_hour(fleet) == pytest.approx(100)
    assert deadlines.at_risk(fleet, now)
    fleet.deadline = now + timedelta(hours=20)
    assert not deadlines.at_risk(fleet, now)


def test_vectorised_overhead_matches_the_scalar_model():
    work = np.array([1.0, 10.0, 100.0, 1000.0])
    nodes = np.array([1, 8, 2, 64])
    vector = interruptions.overhead_fraction_vector(work, nodes, 0.25, 5 / 60, 10 / 60)
    for w, n, fraction in zip(work, nodes, vector, strict=True):
        scalar = interruptions.expected_overhead(w, int(n), 0.25, 5 / 60, 10 / 60)
        assert fraction == pytest.approx(scalar.hours / w)
