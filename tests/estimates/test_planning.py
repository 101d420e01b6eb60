"""Training-time prediction (hand-computed), learning from recorded runs, scaling, trade-offs
(Pareto against brute force), ROI."""

import math

import numpy as np
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from estimates import pareto
from estimates.models import TrainingRun

API = "/api/v1/orgs/{}/estimates"
A100_PEAK = 312e12


@pytest.fixture
def api(client, alice, org_a, catalog):
    client.force_login(alice)

    def post(path, body):
        return client.post(API.format(org_a.slug) + path, body, content_type="application/json")

    return post


def hours(flops, peak, mfu):
    return flops / (peak * mfu * 3600)


def test_default_prediction_by_hand(api):
    result = api(
        "/training-time", {"params": 1e9, "tokens": 2e10, "accelerator": "A100", "gpu_count": 8}
    ).json()
    flops = 6 * 1e9 * 2e10
    mfu = 0.40 * 0.95**3  # default for data-centre GPUs, 95 % per doubling, 8 = 2³
    assert result["flops"] == flops
    assert result["efficiency"] == pytest.approx(mfu, rel=1e-5)
    assert result["gpu_hours"] == pytest.approx(hours(flops, A100_PEAK, mfu), rel=1e-5)
    assert result["wall_hours"] == pytest.approx(result["gpu_hours"] / 8, rel=1e-5)
    # No history: σ₀ = 0.25, n = 1 → efficiency × e^(±1.645·0.25·√2).
    half = 1.645 * 0.25 * math.sqrt(2)
    assert result["low_gpu_hours"] == pytest.approx(
        hours(flops, A100_PEAK, mfu * math.exp(half)), rel=1e-5
    )
    assert result["high_gpu_hours"] == pytest.approx(
        hours(flops, A100_PEAK, mfu * math.exp(-half)), rel=1e-5
    )
    assert (result["efficiency_basis"], result["learned_from_runs"]) == ("default", 0)


def test_cost_and_precision(api):
    result = api(
        "/training-time",
        {
            "flops": 1e20,
            "accelerator": "V100",
            "gpu_count": 1,
            "provider": "aws",
            "region": "us-east-1",
            "instance_type": "p3.2xlarge",
        },
    ).json()
    assert result["precision"] == "fp16"  # V100 has no bf16
    wall = hours(1e20, 125e12, 0.30)  # V100: not a data-centre training default → 0.30
    assert result["wall_hours"] == pytest.approx(wall, rel=1e-5)
    assert float(result["cost"]) == pytest.approx(3.06 * wall, abs=1e-3)
    assert result["offer"]["source"] and result["offer"]["as_of"]
    bad = api(
        "/training-time",
        {"flops": 1e20, "accelerator": "V100", "gpu_count": 1, "precision": "bf16"},
    )
    assert bad.status_code == 400 and "precision" in bad.json()


def test_a_family_name_is_costed_on_an_instance_of_that_family(api):
    body = {"flops": 1e20, "accelerator": "A100", "gpu_count": 8, "provider": "aws"}
    body |= {"region": "us-east-1", "instance_type": "p4de.24xlarge"}
    result = api("/training-time", body)
    assert result.status_code == 200, result.content
    assert result.json()["accelerator"] == "A100-80GB"
    assert result.json()["offer"]["instance_type"] == "p4de.24xlarge"
    other = api("/training-time", {**body, "accelerator": "V100"})
    assert other.status_code == 400
    assert "has A100-80GB GPUs, not V100" in other.json()["instance_type"][0]


def test_a_run_without_precision_is_recorded_in_the_precision_its_gpu_trains_in(api):
    v100 = record(api, "v100", "V100", 1, 1000)
    a100 = record(api, "a100", "A100-40GB", 1, 1000)
    assert (v100["precision"], a100["precision"]) == ("fp16", "bf16")
    assert v100["achieved_efficiency"] == pytest.approx(1e20 / (1000 * 3600 * 125e12), rel=1e-5)


def record(api, name, accelerator, gpus, gpu_hours, flops=1e20):
    response = api(
        "/runs/",
        {
            "name": name,
            "flops": flops,
            "accelerator": accelerator,
            "gpu_count": gpus,
            "gpu_hours": gpu_hours,
        },
    )
    assert response.status_code == 201, response.content
    return response.json()


def test_runs_teach_the_efficiency_and_the_interval_narrows(api):
    predict = {"flops": 1e21, "accelerator": "A100-40GB", "gpu_count": 1}
    widths = []
    for i, mfu in enumerate([0.50, 0.52, 0.48, 0.51, 0.49, 0.50]):
        run = record(api, f"r{i}", "A100-40GB", 1, hours(1e20, A100_PEAK, mfu))
        assert run["achieved_efficiency"] == pytest.approx(mfu, rel=1e-5)
        result = api("/training-time", predict).json()
        widths.append(result["high_gpu_hours"] - result["low_gpu_hours"])
    assert result["learned_from_runs"] == 6 and result["efficiency_basis"] == "learned"
    geometric = math.exp(np.mean(np.log([0.50, 0.52, 0.48, 0.51, 0.49, 0.50])))
    assert result["efficiency"] == pytest.approx(geometric, rel=1e-5)
    assert widths[-1] < widths[1] < widths[0]


def test_efficiency_transfers_to_another_accelerator_relative_to_its_peak(api):
    record(api, "on a100", "A100-40GB", 1, hours(1e20, A100_PEAK, 0.5))
    result = api(
        "/training-time",
        {"flops": 1e20, "accelerator": "V100", "gpu_count": 1, "precision": "fp16"},
    ).json()
    assert result["efficiency_basis"] == "transferred"
    assert result["efficiency"] == pytest.approx(0.5, rel=1e-5)
    assert result["gpu_hours"] == pytest.approx(hours(1e20, 125e12, 0.5), rel=1e-5)


def test_scaling_is_learned_from_runs_at_several_gpu_counts(api):
    for gpus, mfu in ((1, 0.5), (8, 0.5 * 0.8**3), (64, 0.5 * 0.8**6)):
        record(api, f"g{gpus}", "A100-40GB", gpus, hours(1e20, A100_PEAK, mfu))
    curve = api(
        "/scaling", {"flops": 1e20, "accelerator": "A100-40GB", "gpu_counts": [8, 64]}
    ).json()["curve"]
    assert curve[1]["efficiency"] == pytest.approx(0.5 * 0.8**6, rel=1e-4)
    # 8 → 64 GPUs: 8× the GPUs, 8 × 0.8³ = 4.1× faster.
    assert curve[1]["speedup"] == pytest.approx(8 * 0.8**3, rel=1e-4)


@pytest.mark.parametrize(
    "body,field",
    [
        ({"accelerator": "A1OO"}, "accelerator"),
        ({"gpu_hours": 0.0001}, "gpu_hours"),  # faster than the accelerator's peak
        ({"gpu_count": -1}, "gpu_count"),
        ({"flops": None, "params": 1e9}, "flops"),
        ({"accelerator": "A10G"}, "accelerator"),  # no peak figure
        (
            {"flops": 84000},
            "gpu_hours",
        ),  # a typo (7 and 2000 for 7e9 and 2e12): too slow to be real
    ],
)
def test_bad_runs_are_400(api, body, field):
    run = {"name": "x", "flops": 1e20, "accelerator": "A100-40GB", "gpu_count": 1, "gpu_hours": 500}
    response = api("/runs/", {k: v for k, v in {**run, **body}.items() if v is not None})
    assert response.status_code == 400
    assert field in response.json()
    assert not TrainingRun.objects.exists()


def test_configurations_side_by_side_fastest_first(api):
    rows = api(
        "/configurations",
        {
            "flops": 1e20,
            "configurations": [
                {"accelerator": "V100", "gpu_count": 8},
                {"accelerator": "A100", "gpu_count": 8},
            ],
        },
    ).json()["configurations"]
    assert [r["accelerator"] for r in rows] == ["A100-40GB", "V100"]


def test_pareto_front_matches_brute_force():
    rng = np.random.default_rng(7)
    for n in (1, 5, 60, 700):
        points = rng.integers(0, 12, size=(n, 3)).astype(float)  # ties included
        mask = pareto.front(points)
        for i, p in enumerate(points):
            dominated = any((q <= p).all() and (q < p).any() for q in points)
            assert mask[i] == (not dominated)


def test_tradeoffs_recommendations_meet_the_constraints(api, carbon_catalog):
    body = {"flops": 5e20, "deadline_hours": 100, "budget": 2000, "hour_value": 50}
    result = api("/tradeoffs", body).json()
    assert result["candidates"] > 10
    frontier = result["frontier"]
    points = np.array(
        [[float(r["cost"]), r["wall_hours"], r["co2e_kg"] or np.inf] for r in frontier]
    )
    assert pareto.front(points).all()  # the frontier is mutually non-dominated
    cheap = result["recommendations"]["cheapest_meeting_deadline"]
    fast = result["recommendations"]["fastest_within_budget"]
    assert cheap["wall_hours"] <= 100 and float(fast["cost"]) <= 2000
    assert {r["purchase_option"] for r in frontier} <= {"on_demand", "spot"}
    for option in result["roi"]:
        saved = cheap["wall_hours"] - option["wall_hours"]
        extra = float(option["cost"]) - float(cheap["cost"])
        assert option["hours_saved"] == pytest.approx(saved, abs=1e-3)
        assert option["worth_it"] == (saved * 50 > extra)
    assert [s["gpu_count"] for s in result["scaling"]] == sorted(
        s["gpu_count"] for s in result["scaling"]
    )


def test_batch_size_endpoint_uses_the_catalogue_memory(api):
    body = {
        "params": 7e9,
        "seq_len": 4096,
        "accelerator": "A100-80GB",
        "gpus": 8,
        "global_batch": 512,
    }
    plan = api("/batch-size", body).json()
    # 16 bytes/param × 7e9 = 112 GB of states: nothing fits on one 80 GB card without ZeRO.
    assert plan["micro_batch"] == 0 and plan["suggestion"]["changes"]
    sharded = api("/batch-size", {**body, "zero_stage": 3, "recompute": "full"}).json()
    assert sharded["fits"] and sharded["micro_batch"] >= 1
    steps = math.ceil(512 / (sharded["micro_batch"] * 8))
    assert sharded["accumulation_steps"] == steps
    assert api("/batch-size", {**body, "heads": 7, "hidden": 4096}).status_code == 400


def test_planner_page_shows_prediction_frontier_and_scaling(client, alice, org_a, carbon_catalog):
    client.force_login(alice)
    response = client.post(
        f"/o/{org_a.slug}/estimates/planner/",
        {
            "params": "1e9",
            "tokens": "2e10",
            "accelerator": "A100",
            "gpu_count": "8",
            "provider": "aws",
            "region": "us-east-1",
            "instance_type": "p4d.24xlarge",
            "purchase_option": "on_demand",
            "gpu_counts": "1, 8, 16",
            "configurations": "A100×8, V100×16",
            "seq_len": "2048",
            "global_batch": "256",
            "hour_value": "100",
        },
    )
    assert response.status_code == 200
    result = response.context["result"]
    html = response.content.decode()
    assert result["prediction"]["offer"]["instance_type"] == "p4d.24xlarge"
    assert 'data-chart="frontier-chart"' in html and 'data-chart="scaling-chart"' in html
    assert [c["accelerator"] for c in result["configurations"]] == ["A100-40GB", "V100"]
    assert result["batch"]["fits"]
    colours = result["frontier_chart"]["datasets"][0]["backgroundColor"]
    assert len(colours) == len(result["tradeoffs"]["frontier"])


def test_planner_reads_the_organizations_runs_once(client, alice, org_a, catalog):
    client.force_login(alice)
    body = {
        "params": "1e9",
        "tokens": "2e10",
        "accelerator": "A100",
        "gpu_count": "8",
        "purchase_option": "on_demand",
        "configurations": "A100×8, V100×16",
    }
    with CaptureQueriesContext(connection) as queries:
        response = client.post(f"/o/{org_a.slug}/estimates/planner/", body)
    result = response.context["result"]
    assert result["prediction"] and result["tradeoffs"] and result["configurations"]
    run_reads = [q for q in queries.captured_queries if "estimates_trainingrun" in q["sql"]]
    assert len(run_reads) == 1


def test_planner_errors_stay_beside_the_field(client, alice, org_a, catalog):
    client.force_login(alice)
    response = client.post(
        f"/o/{org_a.slug}/estimates/planner/",
        {
            "params": "1e9",
            "tokens": "2e10",
            "accelerator": "A1OO",
            "gpu_count": "8",
            "purchase_option": "on_demand",
            "configurations": "A100 8",
        },
    )
    form = response.context["form"]
    assert "configurations" in form.errors
    assert response.context["result"] is None


def test_runs_page_records_and_shows_the_learned_efficiency(client, alice, bob, org_a, catalog):
    client.force_login(alice)
    body = {
        "name": "pretrain",
        "flops": "1e20",
        "accelerator": "A100-40GB",
        "gpu_count": "1",
        "precision": "bf16",
        "gpu_hours": str(hours(1e20, A100_PEAK, 0.45)),
    }
    assert client.post(f"/o/{org_a.slug}/estimates/runs/", body).status_code == 302
    page = client.get(f"/o/{org_a.slug}/estimates/runs/")
    a100 = next(e for e in page.context["efficiencies"] if e["accelerator"] == "A100-40GB")
    assert a100["efficiency_one_gpu"] == pytest.approx(0.45, rel=1e-4) and a100["runs"] == 1
    bad = client.post(f"/o/{org_a.slug}/estimates/runs/", {**body, "gpu_hours": "0.001"})
    assert "gpu_hours" in bad.context["form"].errors
    # a run names the accelerator it used: a family or a near miss says which ones there are
    for name, message in (
        ("A100", "'A100' is a family: name the accelerator, one of A100-40GB, A100-80GB."),
        ("A100-80G", "Unknown accelerator 'A100-80G'; did you mean A100-80GB"),
    ):
        bad = client.post(f"/o/{org_a.slug}/estimates/runs/", {**body, "accelerator": name})
        assert bad.context["form"].errors["accelerator"][0].startswith(message)
    client.force_login(bob)  # a viewer sees, cannot record
    assert client.get(f"/o/{org_a.slug}/estimates/runs/").context["form"] is None
    assert client.post(f"/o/{org_a.slug}/estimates/runs/", body).status_code == 403


def test_workloads_and_plans_refuse_what_cannot_be_computed(api, client, org_a):
    huge = api(
        "/training-time", {"params": 1e14, "tokens": 1e16, "accelerator": "A100", "gpu_count": 1}
    )
    assert huge.status_code == 400 and "flops" in huge.json()
    page = client.post(
        f"/o/{org_a.slug}/estimates/planner/",
        {
            "flops": "1e20",
            "accelerator": "A100",
            "gpu_count": "8",
            "purchase_option": "on_demand",
            "configurations": "A100×²",
        },
    )
    assert "configurations" in page.context["form"].errors


def test_tradeoffs_use_a_given_efficiency(api):
    body = {
        "flops": 1e20,
        "accelerators": ["A100"],
        "gpu_counts": [8],
        "purchase_options": ["on_demand"],
    }
    learned = api("/tradeoffs", body).json()["frontier"][0]
    given = api("/tradeoffs", {**body, "efficiency": 0.2}).json()["frontier"][0]
    assert given["efficiency"] == pytest.approx(0.2 * 0.95**3, rel=1e-3)
    assert given["wall_hours"] > learned["wall_hours"]


def test_a_steady_tradeoffs_request_reads_only_the_runs(api, carbon_catalog):
    body = {"flops": 5e20}
    assert api("/tradeoffs", body).status_code == 200  # builds the per-process tables
    with CaptureQueriesContext(connection) as queries:
        assert api("/tradeoffs", body).json()["candidates"] > 10
    tables = [q["sql"] for q in queries.captured_queries if "estimates_" in q["sql"]]
    assert len(tables) == 1 and "estimates_trainingrun" in tables[0]
