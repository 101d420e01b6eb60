"""Energy and emissions against hand-computed cases; fallbacks, overrides, measured energy."""

import pytest

from carbon.footprint import Figure, FootprintError, Workload, accelerator_watts, compute
from tests.conftest import api_client

API = "/api/v1/orgs/org-a/carbon"


def test_explicit_figures():
    result = compute(
        Workload(
            gpu_count=8,
            hours=100,
            power_w=350,
            pue=Figure(1.1, "", "given", "given"),
            intensity=Figure(400, "g/kWh", "given", "given"),
        )
    )
    # 350 W × 800 GPU-h = 280 kWh; × 1.1 = 308 kWh; × 400 g/kWh = 123.2 kg
    assert (result["it_energy_kwh"], result["energy_kwh"], result["co2e_kg"]) == (280, 308, 123.2)


def test_power_from_idle_max_and_tdp():
    assert accelerator_watts(400, 46, 407, 0.5) == (226.5, "idle + utilisation × (max − idle)")
    assert accelerator_watts(300, None, None, 0.8) == (240.0, "utilisation × TDP")
    with pytest.raises(FootprintError):
        accelerator_watts(None, None, None, 1)


def test_catalogue_workload_adds_host_power(org_a, alice, carbon_catalog):
    body = {"provider": "aws", "region": "us-east-1", "instance_type": "p3.2xlarge", "hours": 10}
    result = api_client(user=alice).post(f"{API}/footprint", body, format="json").json()
    # V100 300 W × 10 h; host 8 vCPU × 3.5 W + 61 GiB × 0.392 W = 51.912 W × 10 h
    # IT 3.51912 kWh × PUE 1.135 = 3.994201 kWh × 379 g = 1.513802 kg
    assert result["it_energy_kwh"] == pytest.approx(3.51912)
    assert result["energy_kwh"] == pytest.approx(3.994201, abs=1e-6)
    assert result["co2e_kg"] == pytest.approx(1.513802, abs=1e-6)
    assert (result["pue"], result["intensity_g_per_kwh"], result["power_w"]) == (1.135, 379, 300)
    bases = {a["name"]: a["basis"] for a in result["assumptions"]}
    assert bases["grid intensity"] == "catalogue" and bases["PUE"] == "catalogue"
    assert bases["host power per instance"] == "derived"
    # equivalents and offset: 1.513802 kg / 0.25 kg/km ≈ 6.055 km; 10 USD/t → 0.02 USD
    car = next(e for e in result["equivalents"] if e["name"] == "car_km")
    assert car["value"] == pytest.approx(6.055, abs=0.001)
    assert result["offset"]["cost"] == "0.02"


def test_given_power_skips_host_overhead_and_overrides_catalogue(org_a, alice, carbon_catalog):
    body = {
        "provider": "aws",
        "region": "us-east-1",
        "instance_type": "p3.2xlarge",
        "hours": 10,
        "power_w": 250,
        "pue": 1.2,
        "intensity_g_per_kwh": 100,
    }
    result = api_client(user=alice).post(f"{API}/footprint", body, format="json").json()
    # 250 W × 10 GPU-h = 2.5 kWh × 1.2 = 3 kWh × 100 g = 0.3 kg
    assert (result["energy_kwh"], result["co2e_kg"]) == (3.0, 0.3)
    assert {a["basis"] for a in result["assumptions"]} == {"given"}


def test_measured_energy_takes_precedence(org_a, alice, carbon_catalog):
    body = {
        "provider": "gcp",
        "region": "us-central1",
        "accelerator": "A100-40GB",
        "gpu_count": 1,
        "hours": 999,
        "energy_kwh": 50,
    }
    result = api_client(user=alice).post(f"{API}/footprint", body, format="json").json()
    # 50 kWh × PUE 1.1 = 55 kWh × 413 g = 22.715 kg
    assert (result["energy_kwh"], result["co2e_kg"]) == (55.0, 22.715)
    assert "carbon-free energy 94%" in next(
        a["source"] for a in result["assumptions"] if a["name"] == "grid intensity"
    )


def test_country_then_world_fallback(org_a, alice, carbon_catalog):
    body = {"provider": "aws", "region": "eu-west-1", "gpu_count": 1, "hours": 10, "power_w": 100}
    result = api_client(user=alice).post(f"{API}/footprint", body, format="json").json()
    assert result["intensity_g_per_kwh"] == 290
    intensity = next(a for a in result["assumptions"] if a["name"] == "grid intensity")
    assert intensity["basis"] == "fallback: country" and "IE" in intensity["source"]
    from carbon.models import CountryIntensity

    CountryIntensity.objects.filter(country_code="IE").delete()
    result = api_client(user=alice).post(f"{API}/footprint", body, format="json").json()
    assert result["intensity_g_per_kwh"] == 475
    assert (
        next(a for a in result["assumptions"] if a["name"] == "grid intensity")["basis"]
        == "fallback: world"
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"gpu_count": 1, "hours": 1, "power_w": 300}, "pue"),
        ({"gpu_count": 1, "hours": 1, "power_w": 300, "pue": 1.1}, "intensity_g_per_kwh"),
        ({"gpu_count": 1, "hours": 1, "pue": 1.1, "intensity_g_per_kwh": 300}, "power_w"),
        ({"power_w": 300, "pue": 1.1, "intensity_g_per_kwh": 300}, "hours"),
        ({"hours": 1, "power_w": 300, "pue": 1.1, "intensity_g_per_kwh": 300}, "gpu_count"),
        (
            {"gpu_count": 1, "hours": -1, "power_w": 300, "pue": 1, "intensity_g_per_kwh": 1},
            "hours",
        ),
        (
            {"gpu_count": 1, "hours": 1, "power_w": "NaN", "pue": 1, "intensity_g_per_kwh": 1},
            "power_w",
        ),
        ({"gpu_count": 1, "hours": 1, "power_w": 300, "pue": 0.5, "intensity_g_per_kwh": 1}, "pue"),
        (
            {"provider": "aws", "region": "us-east1", "gpu_count": 1, "hours": 1, "power_w": 1},
            "region",
        ),
        (
            {"provider": "aws", "region": "us-east-1", "instance_type": "p3.2xl", "hours": 1},
            "instance_type",
        ),
        (
            {"accelerator": "A100", "gpu_count": 1, "hours": 1, "pue": 1, "intensity_g_per_kwh": 1},
            "accelerator",
        ),
    ],
)
def test_bad_input_is_a_400_naming_the_field(org_a, alice, carbon_catalog, body, field):
    response = api_client(user=alice).post(f"{API}/footprint", body, format="json")
    assert response.status_code == 400 and field in response.json(), response.json()


def test_green_regions_rank_by_emissions_with_cost(org_a, alice, carbon_catalog):
    body = {"accelerator": "V100", "gpu_count": 1, "hours": 100}
    result = api_client(user=alice).post(f"{API}/green-regions", body, format="json").json()
    regions = [(r["region"], r["intensity_g_per_kwh"]) for r in result["results"]]
    assert regions == [("eu-west-1", 290), ("us-east-1", 379)]
    assert result["baseline"] == {"basis": "cheapest", "provider": "aws", "region": "us-east-1"}
    greener = result["results"][0]
    assert greener["co2e_change_percent"] < 0 and greener["cost_change"] == "24.5000"
    assert result["summary"].startswith("Moving from aws us-east-1 to aws eu-west-1 cuts 23%")


def test_pages_show_results_and_keep_errors(client, org_a, alice, carbon_catalog):
    client.force_login(alice)
    page = client.post(
        "/o/org-a/carbon/",
        {"provider": "aws", "region": "us-east-1", "instance_type": "p3.2xlarge", "hours": "10"},
    )
    assert "1.514 kg CO2e" in page.content.decode()
    bad = client.post("/o/org-a/carbon/", {"provider": "aws", "region": "us-east1", "hours": "1"})
    assert "did you mean us-east-1" in str(bad.context["form"].errors["region"])
    green = client.post(
        "/o/org-a/carbon/green-regions/",
        {"accelerator": "V100", "gpu_count": "1", "hours": "100", "purchase_option": "on_demand"},
    )
    html = green.content.decode()
    assert "cuts 23%" in html and 'id="green-chart"' in html


def test_estimate_and_compare_show_co2e_beside_cost(org_a, alice, carbon_catalog):
    client = api_client(user=alice)
    estimate = client.post(
        "/api/v1/orgs/org-a/estimates/estimate",
        {
            "provider": "aws",
            "region": "us-east-1",
            "instance_type": "p3.2xlarge",
            "hours": 10,
        },
        format="json",
    ).json()
    assert estimate["total_cost"] == "30.6000"
    assert estimate["carbon"]["co2e_kg"] == pytest.approx(1.513802, abs=1e-6)
    compared = client.post(
        "/api/v1/orgs/org-a/estimates/compare",
        {
            "accelerator": "V100",
            "gpu_count": 1,
            "hours": 10,
            "purchase_options": ["on_demand"],
        },
        format="json",
    ).json()
    by_region = {r["region"]: r["carbon"]["intensity_g_per_kwh"] for r in compared["results"]}
    assert by_region == {"us-east-1": 379, "eu-west-1": 290}


def test_without_a_carbon_catalogue_estimates_still_work(org_a, alice, catalog):
    estimate = (
        api_client(user=alice)
        .post(
            "/api/v1/orgs/org-a/estimates/estimate",
            {
                "provider": "aws",
                "region": "us-east-1",
                "instance_type": "p3.2xlarge",
                "hours": 10,
            },
            format="json",
        )
        .json()
    )
    assert estimate["total_cost"] == "30.6000" and estimate["carbon"] is None


def test_offset_price_can_be_given(org_a, alice, carbon_catalog):
    body = {
        "gpu_count": 8,
        "hours": 100,
        "power_w": 350,
        "pue": 1.1,
        "intensity_g_per_kwh": 400,
        "offset_price_per_tonne": 50,
    }
    result = api_client(user=alice).post(f"{API}/footprint", body, format="json").json()
    # 123.2 kg = 0.1232 t × 50 USD/t = 6.16 USD
    assert result["offset"] == {
        "cost": "6.16",
        "currency": "USD",
        "price_per_tonne": 50,
        "source": "given",
        "as_of": "",
    }
