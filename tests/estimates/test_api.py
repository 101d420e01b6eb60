"""Estimates API: validation with helpful errors, org prices everywhere, saved estimates."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from estimates.models import Price, ProviderDiscount, SavedEstimate
from tests.conftest import api_client

BASE = "/api/v1/orgs/org-a"
ESTIMATE = {"provider": "aws", "region": "us-east-1", "instance_type": "p3.2xlarge", "hours": 10}


@pytest.fixture
def client(org_a, alice, catalog):
    return api_client(user=alice)


def post(client, path, body):
    return client.post(f"{BASE}{path}", body, format="json")


def test_estimate_returns_decimal_strings_and_assumptions(client):
    response = post(client, "/estimates/estimate", ESTIMATE)
    assert response.status_code == 200
    body = response.json()
    assert body["total_cost"] == "30.6000" and body["currency"] == "USD"
    assert set(body["breakdown"]) == {"compute", "storage", "egress", "interruption_overhead"}
    assert body["assumptions"][0]["source"] == "test fixture"


@pytest.mark.parametrize(
    ("change", "field", "text"),
    [
        ({"instance_type": "p4d.24xlarg"}, "instance_type", "did you mean p4d.24xlarge"),
        ({"instance_type": "p3.2xl"}, "instance_type", "did you mean"),
        ({"region": "us-east1"}, "region", "did you mean us-east-1"),
        ({"region": "mars-1"}, "region", "Valid: eu-west-1, us-east-1"),
        ({"provider": "oracle"}, "provider", "not a valid choice"),
        ({"hours": 0}, "hours", "greater than or equal"),
        ({"hours": -5}, "hours", "greater than or equal"),
        ({"hours": 10_000_000}, "hours", "less than or equal"),
        ({"hours": "NaN"}, "hours", "valid number"),
        ({"hours": "Infinity"}, "hours", "valid number"),
        ({"hours": "ten"}, "hours", "valid number"),
        ({"nodes": 1.5}, "nodes", "valid integer"),
        ({"purchase_option": "reserved"}, "purchase_option", "not a valid choice"),
        (
            {"region": "eu-west-1", "instance_type": "p4d.24xlarge"},
            "region",
            "offered in us-east-1",
        ),
        ({"region": "eu-west-1", "purchase_option": "spot"}, "purchase_option", "on_demand"),
        ({"storage_gb": 10, "storage_class": "glacier"}, "storage_class", "object-standard"),
        ({"instance_type": None, "accelerator": "A100"}, "gpu_count", "Required"),
        ({"instance_type": None, "accelerator": "B300", "gpu_count": 8}, "accelerator", "Unknown"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(client, change, field, text):
    body = {**ESTIMATE, **change}
    body = {k: v for k, v in body.items() if v is not None}
    response = post(client, "/estimates/estimate", body)
    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()
    assert text.lower() in " ".join(response.json()[field]).lower()


def test_wrong_json_types_are_400_not_500(client):
    assert post(client, "/estimates/estimate", ["not", "an", "object"]).status_code == 400
    assert post(client, "/estimates/compare", {"gpu_count": "x", "hours": {}}).status_code == 400
    bad = client.post(f"{BASE}/estimates/estimate", "{not json", content_type="application/json")
    assert bad.status_code == 400


def test_compare_needs_a_gpu_requirement_and_known_regions(client):
    response = post(client, "/estimates/compare", {"gpu_count": 1, "hours": 1})
    assert response.status_code == 400 and "accelerator" in response.json()
    response = post(
        client,
        "/estimates/compare",
        {"accelerator": "A100", "gpu_count": 1, "hours": 1, "regions": ["nowhere"]},
    )
    assert response.status_code == 400 and "regions" in response.json()


def test_compare_family_matches_every_memory_size(client):
    response = post(
        client,
        "/estimates/compare",
        {"accelerator": "a100", "gpu_count": 8, "hours": 1, "purchase_options": ["on_demand"]},
    )
    types = {r["instance_type"] for r in response.json()["results"]}
    assert types == {"p4d.24xlarge", "p4de.24xlarge", "a2-highgpu-1g"}


def test_org_prices_and_discounts_apply_everywhere(client, org_a, org_b, charlie):
    upload = post(
        client,
        "/estimates/price-list/prices/upload",
        {
            "prices": [
                {
                    "provider": "aws",
                    "region": "us-east-1",
                    "instance_type": "p3.2xlarge",
                    "purchase_option": "on_demand",
                    "price_per_hour": "2.50",
                }
            ],
            "discounts": [{"provider": "aws", "percent": "10"}],
        },
    )
    assert upload.status_code == 200 and upload.json() == {
        "prices": 1,
        "discounts": 1,
        "replaced": False,
    }
    assert post(client, "/estimates/estimate", ESTIMATE).json()["total_cost"] == "25.0000"
    g4dn = {**ESTIMATE, "instance_type": "g4dn.xlarge"}
    result = post(client, "/estimates/estimate", g4dn).json()
    assert result["total_cost"] == "4.7340"  # 0.526 × 0.9 × 10
    assert "10" in result["price_origin"]
    compared = post(
        client,
        "/estimates/compare",
        {
            "min_gpu_memory_gb": 16,
            "gpu_count": 1,
            "hours": 10,
            "regions": ["us-east-1"],
            "purchase_options": ["on_demand"],
        },
    ).json()
    by_type = {r["instance_type"]: r["total_cost"] for r in compared["results"]}
    assert by_type["p3.2xlarge"] == "25.0000" and by_type["g4dn.xlarge"] == "4.7340"
    prices = client.get(
        f"{BASE}/catalog/prices/?instance_type=p3.2xlarge&purchase_option=on_demand"
        "&region=us-east-1"
    ).json()["results"]
    assert prices[0]["price_per_hour"] == "2.500000" and prices[0]["origin"] == "your price"
    # another organization still sees the public catalogue
    other = api_client(user=charlie).post(
        "/api/v1/orgs/org-b/estimates/estimate", ESTIMATE, format="json"
    )
    assert other.json()["total_cost"] == "30.6000"


def test_a_price_list_with_a_bad_row_changes_nothing(client, org_a):
    response = post(
        client,
        "/estimates/price-list/prices/upload",
        {
            "prices": [
                {
                    "provider": "aws",
                    "region": "us-east-1",
                    "instance_type": "p3.2xlarge",
                    "price_per_hour": "2.50",
                },
                {
                    "provider": "aws",
                    "region": "us-east-1",
                    "instance_type": "p3.2xlrge",
                    "price_per_hour": "-1",
                },
                {
                    "provider": "aws",
                    "region": "us-east-1",
                    "instance_type": "g5.xlarge",
                    "price_per_hour": "1",
                    "currency": "EUR",
                },
            ],
            "discounts": [{"provider": "aws", "percent": "150"}],
        },
    )
    assert response.status_code == 400
    errors = {str(e["row"]): e["errors"] for e in response.json()["errors"]}
    assert set(errors) == {"2", "3", "discount 1"}
    assert "did you mean p3.2xlarge" in errors["2"]["instance_type"]
    assert "must be from 0.000001" in errors["2"]["price_per_hour"]
    assert "must be from 0.01 to 99.99" in errors["discount 1"]["percent"]
    assert "USD" in errors["3"]["currency"]
    assert not Price.objects.for_org(org_a).exists()
    assert not ProviderDiscount.objects.for_org(org_a).exists()


def test_csv_upload_with_replace(client, org_a):
    from django.core.files.uploadedfile import SimpleUploadedFile

    def upload(text, replace):
        return client.post(
            f"{BASE}/estimates/price-list/prices/upload",
            {"file": SimpleUploadedFile("p.csv", text.encode()), "replace": replace},
            format="multipart",
        )

    header = (
        "provider,region,instance_type,purchase_option,price_per_hour,currency,discount_percent\n"
    )
    first = upload(header + "aws,us-east-1,p3.2xlarge,on_demand,2.5,USD,\ngcp,,,,,,5\n", False)
    assert first.status_code == 200 and first.json()["discounts"] == 1
    second = upload(header + "aws,us-east-1,g5.xlarge,spot,0.3,USD,\n", True)
    assert second.status_code == 200
    rows = list(Price.objects.for_org(org_a).values_list("instance_type__name", flat=True))
    assert rows == ["g5.xlarge"] and not ProviderDiscount.objects.for_org(org_a).exists()
    assert upload("\xff\xfe", False).status_code == 400
    assert upload("nonsense without header", False).status_code == 400


def test_saved_estimates_keep_their_result(client, org_a):
    created = post(
        client, "/estimates/saved/", {"name": "baseline", "kind": "estimate", "inputs": ESTIMATE}
    )
    assert created.status_code == 201 and created.json()["result"]["total_cost"] == "30.6000"
    Price.objects.public().filter(
        instance_type__name="p3.2xlarge", purchase_option="on_demand"
    ).update(price_per_hour="9")
    saved = client.get(f"{BASE}/estimates/saved/{created.json()['id']}/").json()
    assert saved["result"]["total_cost"] == "30.6000"
    bad = post(
        client,
        "/estimates/saved/",
        {"name": "x", "kind": "estimate", "inputs": {**ESTIMATE, "region": "nowhere"}},
    )
    assert bad.status_code == 400 and "inputs" in bad.json()
    assert SavedEstimate.objects.count() == 1


def test_commitments_accept_gpu_hours(client):
    body = {
        "provider": "aws",
        "region": "us-east-1",
        "instance_type": "p4d.24xlarge",
        "gpu_hours_per_week": 8 * 168,
    }
    result = post(client, "/estimates/commitments", body).json()
    # 168 hours a week is one instance all month: the 730 hours a commitment is charged for.
    assert result["instance_hours_per_month"] == 730.0
    assert result["average_concurrent_instances"] == 1.0


PRICE = {
    "provider": "aws",
    "region": "us-east-1",
    "instance_type": "p3.2xlarge",
    "price_per_hour": "2.5",
}


@pytest.mark.parametrize(
    ("upload", "row", "field", "text"),
    [
        ({"prices": [{**PRICE, "price_per_hour": "0.0000001"}]}, "1", "price_per_hour", "from"),
        ({"prices": [{**PRICE, "price_per_hour": "2.1234567"}]}, "1", "price_per_hour", "6 dec"),
        ({"prices": [{**PRICE, "price_per_hour": "10000"}]}, "1", "price_per_hour", "from"),
        ({"prices": [{**PRICE, "purchase_option": 1}]}, "1", "purchase_option", "text"),
        ({"prices": [{**PRICE, "purchase_option": True}]}, "1", "purchase_option", "text"),
        ({"prices": [{**PRICE, "currency": 840}]}, "1", "currency", "text"),
        ({"discounts": [{"provider": "aws", "percent": "99.999"}]}, "discount 1", "percent", "to"),
        ({"discounts": [{"provider": "aws", "percent": "0.004"}]}, "discount 1", "percent", "to"),
        ({"discounts": [{"provider": "aws", "percent": "12.345"}]}, "discount 1", "percent", "2 d"),
        ({"discounts": [{"provider": 7, "percent": "10"}]}, "discount 1", "provider", ""),
    ],
)
def test_price_list_values_a_column_would_round_or_of_the_wrong_type_are_row_errors(
    client, org_a, upload, row, field, text
):
    """Stored as typed, or refused: never rounded to zero (a 100% discount) or a 500."""
    response = post(client, "/estimates/price-list/prices/upload", upload)
    assert response.status_code == 400, response.content
    errors = {str(e["row"]): e["errors"] for e in response.json()["errors"]}
    assert text in errors[row][field]
    assert not Price.objects.for_org(org_a).exists()
    assert not ProviderDiscount.objects.for_org(org_a).exists()


def test_a_price_list_file_with_a_discount_row_that_is_not_an_object_is_a_row_error(client, org_a):
    upload = SimpleUploadedFile("p.json", json.dumps({"discounts": ["aws"]}).encode())
    response = client.post(
        f"{BASE}/estimates/price-list/prices/upload", {"file": upload}, format="multipart"
    )
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"row": "discount 1", "errors": {"row": "must be an object"}}
    ]
    assert not ProviderDiscount.objects.for_org(org_a).exists()


def test_the_largest_allowed_discount_keeps_prices_positive_and_commitments_costed(client):
    upload = {"discounts": [{"provider": "aws", "percent": "99.99"}]}
    assert post(client, "/estimates/price-list/prices/upload", upload).status_code == 200
    body = {**ESTIMATE, "instance_hours_per_week": 100}
    del body["hours"]
    result = post(client, "/estimates/commitments", body).json()
    assert result["plans"][0]["price_per_hour"] == "0.000306"  # 3.06 less 99.99%


def test_a_spot_estimate_that_would_never_finish_is_a_400(client):
    body = {
        **ESTIMATE,
        "hours": 1000,
        "nodes": 5000,
        "purchase_option": "spot",
        "restart_minutes": 1440,
    }
    response = post(client, "/estimates/estimate", body)
    assert response.status_code == 400
    assert "over 100 times the 1000 hours" in response.json()["purchase_option"][0]


def test_compare_leaves_out_spot_offers_that_would_never_finish(client):
    body = {"accelerator": "V100", "gpu_count": 100_000, "hours": 87_600, "interruption_rate": 0.99}
    response = post(client, "/estimates/compare", body)
    assert response.status_code == 200, response.content
    result = response.json()
    assert result["results"]
    assert "spot" not in {row["purchase_option"] for row in result["results"]}
    left_out = [a for a in result["assumptions"] if a["name"] == "spot offers left out"]
    spot_offers = result["matched"] - len(result["results"])
    assert left_out and left_out[0]["value"] == spot_offers > 0
    short = post(client, "/estimates/compare", {**body, "gpu_count": 8, "hours": 10}).json()
    assert "spot" in {row["purchase_option"] for row in short["results"]}
    assert not [a for a in short["assumptions"] if a["name"] == "spot offers left out"]


def test_a_ci_plan_region_without_provider_or_current_instances_is_planned(client):
    tests = [{"name": "u", "test_type": "unit", "runs_per_week": 10, "minutes_per_run": 5}]
    response = post(client, "/estimates/ci-plan", {"region": "us-east-1", "tests": tests})
    assert response.status_code == 200, response.content
    assert response.json()["tests"][0]["current"] is None


def test_ci_plan_rightsizes_and_reports_savings(client):
    body = {
        "provider": "aws",
        "region": "us-east-1",
        "tests": [
            {
                "name": "unit",
                "test_type": "unit",
                "runs_per_week": 100,
                "minutes_per_run": 6,
                "shards": 2,
                "current_instance_type": "p4d.24xlarge",
            },
            {
                "name": "bench",
                "test_type": "benchmark",
                "accelerator": "A100",
                "runs_per_week": 7,
                "minutes_per_run": 60,
            },
        ],
    }
    response = post(client, "/estimates/ci-plan", body)
    assert response.status_code == 200, response.json()
    unit, bench = response.json()["tests"]
    # unit: 1 GPU ≥ 16 GB → g4dn.xlarge at $0.526/h: 0.1 h × 2 shards = $0.1052/run,
    # × 100 runs × 730/168 weeks a month = $45.7119/month
    assert unit["recommended_on_demand"]["instance_type"] == "g4dn.xlarge"
    assert unit["recommended_on_demand"]["cost_per_run"] == "0.1052"
    assert unit["recommended_on_demand"]["cost_per_month"] == "45.7119"
    # today on p4d.24xlarge: 32.77 × 0.1 × 2 = 6.554/run → 2847.8690/month
    assert unit["current"]["cost_per_month"] == "2847.8690"
    assert bench["recommended_on_demand"]["accelerator"].startswith("A100")
    missing = post(
        client,
        "/estimates/ci-plan",
        {
            "tests": [
                {"name": "b", "test_type": "benchmark", "runs_per_week": 1, "minutes_per_run": 1}
            ]
        },
    )
    assert missing.status_code == 400
