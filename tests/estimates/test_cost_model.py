"""The cost model against hand-computed cases (fixture catalogue: p3.2xlarge $3.06/h on demand,
$0.40 spot, $2.00 1-year, $1.30 3-year in us-east-1; S3 $0.023/GB-month; egress $0.09/GB)."""

import math
from decimal import Decimal

import pytest

from estimates import interruptions
from estimates.commitments import Usage, analyse
from estimates.compare import Requirements, compare
from estimates.estimate import EstimateError, Workload, estimate
from estimates.offers import offer_table


def test_on_demand_compute_storage_and_egress(catalog):
    result = estimate(
        offer_table(None),
        Workload(
            provider="aws",
            region="us-east-1",
            instance_type="p3.2xlarge",
            hours=10,
            storage_gb=100,
            egress_gb=50,
        ),
    )
    # 3.06 × 10 = 30.60; 100 GB × 0.023 × 10/730 = 0.031507; 50 × 0.09 = 4.50
    assert result["breakdown"] == {
        "compute": "30.6000",
        "interruption_overhead": "0.0000",
        "storage": "0.0315",
        "egress": "4.5000",
    }
    assert result["total_cost"] == "35.1315"
    assert result["currency"] == "USD"
    assert {a["source"] for a in result["assumptions"]} == {"test fixture"}
    assert all(a["as_of"] == "2026-01-01" for a in result["assumptions"])


def test_nodes_multiply_compute(catalog):
    result = estimate(
        offer_table(None),
        Workload(
            provider="aws", region="us-east-1", instance_type="p4d.24xlarge", hours=2, nodes=3
        ),
    )
    assert result["total_cost"] == "196.6200"  # 32.77 × 2 × 3
    assert result["gpu_count"] == 24


def test_spot_includes_expected_interruption_overhead(catalog):
    result = estimate(
        offer_table(None),
        Workload(
            provider="aws",
            region="us-east-1",
            instance_type="p3.2xlarge",
            hours=10,
            purchase_option="spot",
        ),
    )
    # default rate 25%/month: λ = -ln(0.75)/730 = 0.00039409/h, M = 1/λ = 2537.5 h; δ = 5 min;
    # Daly's τ* ≈ 20.6 h, capped at the 10 h job; R = 10 min:
    # T_w = M·e^(R/M)·(e^((τ+δ)/M) − 1)·10/τ = 10.104058 h → overhead 0.104058 h × $0.40 = $0.0416
    assert result["breakdown"]["compute"] == "4.0000"
    assert result["breakdown"]["interruption_overhead"] == "0.0416"
    assert result["total_cost"] == "4.0416"
    assert result["interruption"]["checkpoint_interval_hours"] == 10.0
    basis = {a["name"]: a["basis"] for a in result["assumptions"]}
    assert basis["spot interruption rate"] == "default"
    assert basis["checkpoint interval"] == "derived"


def test_spot_with_given_rate_and_interval(catalog):
    result = estimate(
        offer_table(None),
        Workload(
            provider="aws",
            region="us-east-1",
            instance_type="p3.2xlarge",
            hours=100,
            purchase_option="spot",
            interruption_rate=0.5,
            checkpoint_interval_hours=2,
            checkpoint_write_minutes=6,
            restart_minutes=12,
        ),
    )
    hazard = -math.log(0.5) / 730
    mtbf = 1 / hazard
    overhead_hours = mtbf * math.exp(0.2 / mtbf) * math.expm1(2.1 / mtbf) * 100 / 2 - 100
    assert result["interruption"]["extra_hours"] == round(overhead_hours, 4)
    expected = (Decimal("0.40") * Decimal(repr(overhead_hours))).quantize(Decimal("0.0001"))
    assert result["breakdown"]["interruption_overhead"] == str(expected)


def test_optimal_interval_is_dalys_higher_order_formula():
    hazard = interruptions.hourly_hazard(0.25) * 8
    mtbf = 1 / hazard  # 317.2 h
    x = 0.1 / (2 * mtbf)
    daly = math.sqrt(2 * 0.1 * mtbf) * (1 + math.sqrt(x) / 3 + x / 9) - 0.1
    assert interruptions.optimal_checkpoint_interval_hours(0.1, hazard) == pytest.approx(daly)
    # Close to Young's first-order √(2δM) when δ ≪ M, and M itself when δ ≥ 2M.
    assert daly == pytest.approx(math.sqrt(2 * 0.1 * mtbf), rel=0.02)
    assert interruptions.optimal_checkpoint_interval_hours(10, 1.0) == 1.0
    assert interruptions.hourly_hazard(0) == 0
    with pytest.raises(ValueError):
        interruptions.hourly_hazard(1)


def test_accelerator_and_gpu_count_picks_the_cheapest_way(catalog):
    result = estimate(
        offer_table(None),
        Workload(
            provider="aws",
            region="us-east-1",
            accelerator_names={"A100-40GB", "A100-80GB"},
            gpu_count=12,
            hours=1,
        ),
    )
    # 12 A100 → 2 × p4d.24xlarge ($32.77) beats 2 × p4de.24xlarge ($40.96)
    assert (result["instance_type"], result["nodes"], result["total_cost"]) == (
        "p4d.24xlarge",
        2,
        "65.5400",
    )


def test_instance_not_offered_in_region_names_where_it_is(catalog):
    with pytest.raises(EstimateError) as error:
        estimate(
            offer_table(None),
            Workload(provider="aws", region="eu-west-1", instance_type="p4d.24xlarge", hours=1),
        )
    assert error.value.field == "region" and "us-east-1" in str(error.value)


def test_missing_purchase_option_lists_the_available_ones(catalog):
    with pytest.raises(EstimateError) as error:
        estimate(
            offer_table(None),
            Workload(
                provider="aws",
                region="eu-west-1",
                instance_type="p3.2xlarge",
                hours=1,
                purchase_option="spot",
            ),
        )
    assert error.value.field == "purchase_option" and "on_demand" in str(error.value)


def test_compare_sorts_by_total_and_computes_savings(catalog):
    result = compare(
        offer_table(None),
        Requirements(gpu_count=8, hours=10, accelerator_names={"A100-40GB", "A100-80GB"}),
    )
    rows = result["results"]
    totals = [Decimal(r["total_cost"]) for r in rows]
    assert totals == sorted(totals)
    by_key = {(r["instance_type"], r["purchase_option"], r["provider"]): r for r in rows}
    p4d = by_key[("p4d.24xlarge", "on_demand", "aws")]
    assert p4d["total_cost"] == "327.7000" and p4d["savings_vs_on_demand"] == "0.0000"
    assert p4d["cost_per_gpu_hour"] == "4.0963"  # 327.70 / 80 GPU-hours
    a2 = by_key[("a2-highgpu-1g", "on_demand", "gcp")]
    assert a2["nodes"] == 8 and a2["total_cost"] == "293.6000"  # 8 × 3.67 × 10
    spot = by_key[("p4d.24xlarge", "spot", "aws")]
    assert Decimal(spot["total_cost"]) > Decimal("100.0000")  # 10 × 10 plus overhead
    assert Decimal(spot["savings_vs_on_demand"]) == Decimal("327.7000") - Decimal(
        spot["total_cost"]
    )
    assert result["matched"] == len(rows)


def test_compare_filters(catalog):
    table = offer_table(None)
    gcp = compare(
        table, Requirements(gpu_count=1, hours=1, min_gpu_memory_gb=40, providers=["gcp"])
    )
    assert {r["provider"] for r in gcp["results"]} == {"gcp"}
    memory = compare(table, Requirements(gpu_count=1, hours=1, min_gpu_memory_gb=80))
    assert {r["instance_type"] for r in memory["results"]} == {"p4de.24xlarge"}
    top = compare(
        table,
        Requirements(
            gpu_count=1,
            hours=1,
            min_gpu_memory_gb=16,
            max_results=2,
            purchase_options=["on_demand"],
        ),
    )
    assert [r["instance_type"] for r in top["results"]] == ["g4dn.xlarge", "g5.xlarge"]


def test_commitment_break_even_and_recommendation(catalog):
    # 2.5 instances busy on average: 420 instance-hours a week
    result = analyse(offer_table(None), Usage("aws", "us-east-1", "p3.2xlarge", 420))
    plans = {p["plan"]: p for p in result["plans"]}
    used = Decimal(420) * Decimal(730) / Decimal(168)  # 1825 h/month: 2.5 of 730 h
    assert plans["on_demand"]["monthly_cost"] == str(
        (used * Decimal("3.06")).quantize(Decimal("0.0001"))
    )
    one_year = plans["commit_1y"]
    assert one_year["break_even_utilisation_vs_on_demand"] == round(2.00 / 3.06, 4)
    # 2.5 instances: commit 2, the 0.5 remainder is below the 65% break-even → on demand
    assert one_year["committed_instances"] == 2
    expected = 2 * 730 * Decimal("2.00") + (used - 1460) * Decimal("3.06")
    assert one_year["monthly_cost"] == str(expected.quantize(Decimal("0.0001")))
    # 3-year: break-even 42% < 0.5 → 3 committed
    assert plans["commit_3y"]["committed_instances"] == 3
    assert result["recommended"] == "spot"  # $0.40 spot beats every commitment here
    assert "spot" in result["recommendation"]


def test_commitment_recommended_without_spot(catalog):
    result = analyse(offer_table(None), Usage("aws", "us-east-1", "p4d.24xlarge", 168 * 3))
    assert result["recommended"] in {"spot", "commit_1y"}
    without_spot = [p for p in result["plans"] if p["plan"] != "spot"]
    assert min(without_spot, key=lambda p: Decimal(p["monthly_cost"]))["plan"] == "commit_1y"


def test_light_usage_stays_on_demand(catalog):
    result = analyse(offer_table(None), Usage("aws", "eu-west-1", "p3.2xlarge", 5))
    assert result["recommended"] == "on_demand"
    assert result["monthly_savings_vs_on_demand"] == "0.0000"
