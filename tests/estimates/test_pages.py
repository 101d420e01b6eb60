"""Estimates pages: results with charts and sources, errors beside fields, saving, uploads."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from estimates.models import Price, SavedEstimate

ESTIMATE_FORM = {
    "provider": "aws",
    "region": "us-east-1",
    "instance_type": "p3.2xlarge",
    "hours": "10",
    "nodes": "1",
    "purchase_option": "on_demand",
    "storage_gb": "0",
    "storage_class": "object-standard",
    "egress_gb": "0",
    "egress_kind": "internet",
}


def ci_plan_form(fields: dict) -> dict:
    """The CI plan page's POST: `fields` (one test, prefix `tests-0-`) and the formset's
    management form."""
    management = {
        "TOTAL_FORMS": "1",
        "INITIAL_FORMS": "0",
        "MIN_NUM_FORMS": "1",
        "MAX_NUM_FORMS": "50",
    }
    return {**fields, **{f"tests-{name}": value for name, value in management.items()}}


@pytest.fixture
def logged_in(client, org_a, alice, catalog):
    client.force_login(alice)
    return client


def test_estimate_page_shows_total_breakdown_chart_and_sources(logged_in):
    page = logged_in.post("/o/org-a/estimates/", ESTIMATE_FORM).content.decode()
    assert "30.6000 USD" in page
    assert 'data-chart="estimate-chart"' in page and 'id="estimate-chart"' in page
    assert "test fixture" in page and "2026-01-01" in page


def test_estimate_page_keeps_input_and_shows_field_error(logged_in):
    response = logged_in.post(
        "/o/org-a/estimates/", {**ESTIMATE_FORM, "instance_type": "p3.2xlrge"}
    )
    assert response.status_code == 200
    assert "did you mean p3.2xlarge" in str(response.context["form"].errors["instance_type"])
    assert 'value="p3.2xlrge"' in response.content.decode()
    assert response.context["result"] is None


def test_saving_from_the_page(logged_in, org_a):
    response = logged_in.post("/o/org-a/estimates/", {**ESTIMATE_FORM, "save_as": "baseline"})
    saved = SavedEstimate.objects.for_org(org_a).get()
    assert response["Location"] == f"/o/org-a/estimates/saved/{saved.pk}/"
    page = logged_in.get(response["Location"]).content.decode()
    assert "baseline" in page and "30.6000" in page


def test_viewers_compute_but_cannot_save(client, org_a, bob, catalog):
    client.force_login(bob)
    assert "30.6000" in client.post("/o/org-a/estimates/", ESTIMATE_FORM).content.decode()
    assert client.post("/o/org-a/estimates/", {**ESTIMATE_FORM, "save_as": "x"}).status_code == 403
    assert not SavedEstimate.objects.exists()


def test_compare_page_table_and_chart(logged_in):
    page = logged_in.post(
        "/o/org-a/estimates/compare/",
        {"accelerator": "A100", "gpu_count": "8", "hours": "10", "max_results": "20"},
    ).content.decode()
    assert "p4d.24xlarge" in page and "a2-highgpu-1g" in page
    assert 'id="compare-chart"' in page


def test_commitments_and_ci_plan_pages(logged_in):
    page = logged_in.post(
        "/o/org-a/estimates/commitments/",
        {
            "provider": "aws",
            "region": "us-east-1",
            "instance_type": "p3.2xlarge",
            "instance_hours_per_week": "420",
        },
    ).content.decode()
    assert "break-even" in page.lower() and 'id="commitment-chart"' in page
    page = logged_in.post(
        "/o/org-a/estimates/ci-plan/",
        ci_plan_form(
            {
                "provider": "aws",
                "region": "us-east-1",
                "tests-0-name": "unit",
                "tests-0-test_type": "unit",
                "tests-0-runs_per_week": "100",
                "tests-0-minutes_per_run": "6",
                "tests-0-shards": "2",
                "tests-0-current_instance_type": "p4d.24xlarge",
            }
        ),
    ).content.decode()
    assert "g4dn.xlarge" in page and "2847.8690" in page


def test_ci_plan_page_with_a_region_and_any_provider(logged_in):
    """The provider's default is "any": a region alone narrows where to look."""
    response = logged_in.post(
        "/o/org-a/estimates/ci-plan/",
        ci_plan_form(
            {
                "region": "us-east-1",
                "tests-0-name": "unit",
                "tests-0-test_type": "unit",
                "tests-0-runs_per_week": "100",
                "tests-0-minutes_per_run": "6",
                "tests-0-shards": "1",
            }
        ),
    )
    assert response.status_code == 200
    assert response.context["result"]["tests"][0]["recommended_on_demand"]["region"] == (
        "us-east-1"
    )


def test_ci_plan_row_errors_stay_on_their_row(logged_in):
    response = logged_in.post(
        "/o/org-a/estimates/ci-plan/",
        ci_plan_form(
            {
                "tests-0-name": "bench",
                "tests-0-test_type": "benchmark",
                "tests-0-runs_per_week": "1",
                "tests-0-minutes_per_run": "5",
                "tests-0-shards": "1",
            }
        ),
    )
    assert "accelerator" in response.context["formset"].forms[0].errors


UNIT_TEST_ROW = {"test_type": "unit", "runs_per_week": "10", "minutes_per_run": "5", "shards": "1"}


@pytest.mark.parametrize("region", ["zz-nowhere-1", "1e308", "x" * 40])
def test_a_ci_plan_no_instance_can_run_says_so_above_the_form(logged_in, region):
    row = {f"tests-0-{name}": value for name, value in UNIT_TEST_ROW.items()}
    response = logged_in.post(
        "/o/org-a/estimates/ci-plan/",
        ci_plan_form({"region": region, "tests-0-name": "unit", **row}),
    )
    assert response.status_code == 200 and response.context["result"] is None
    assert "unit: no instance in the catalogue meets its needs." in (
        response.context["form"].non_field_errors()
    )


def test_a_ci_plan_error_goes_to_its_row_past_a_blank_one(logged_in):
    """The API numbers the filled rows only: the third row, after a blank second one, is the
    API's second test."""
    first = {f"tests-0-{name}": value for name, value in UNIT_TEST_ROW.items()}
    third = {f"tests-2-{name}": value for name, value in UNIT_TEST_ROW.items()}
    data = ci_plan_form(
        {"tests-0-name": "unit", **first, "tests-1-shards": "1", "tests-2-name": "gpu", **third}
    )
    data |= {"tests-TOTAL_FORMS": "3", "tests-2-accelerator": "NO-SUCH-GPU"}
    forms = logged_in.post("/o/org-a/estimates/ci-plan/", data).context["formset"].forms
    assert "Unknown accelerator" in forms[2].errors["accelerator"][0]
    assert not forms[0].errors and not forms[1].errors


def test_more_than_fifty_ci_tests_is_a_form_error(logged_in):
    data = ci_plan_form({}) | {"tests-TOTAL_FORMS": "51"}
    for n in range(51):
        data |= {f"tests-{n}-{name}": value for name, value in UNIT_TEST_ROW.items()}
        data[f"tests-{n}-name"] = f"t{n}"
    response = logged_in.post("/o/org-a/estimates/ci-plan/", data)
    assert response.status_code == 200 and response.context["result"] is None
    assert response.context["formset"].non_form_errors() == ["Please submit at most 50 forms."]


def test_catalogue_page_filters_and_shows_freshness(logged_in):
    page = logged_in.get("/o/org-a/estimates/catalogue/?provider=gcp").content.decode()
    assert "<td>a2-highgpu-1g</td>" in page and "<td>p3.2xlarge</td>" not in page
    assert 'class="stale"' in page  # fixture prices are dated 2026-01-01


def test_catalogue_page_shows_storage_egress_and_accelerators_with_sources(logged_in):
    response = logged_in.get("/o/org-a/estimates/catalogue/?provider=aws&accelerator=a100")
    storage = list(response.context["storage_rates"])
    egress = list(response.context["egress_rates"])
    assert storage and {r.region.provider for r in storage} == {"aws"}
    assert egress and {r.region.provider for r in egress} == {"aws"}
    assert {a.family for a in response.context["accelerators"]} == {"A100"}
    page = response.content.decode()
    assert "0.023000 USD" in page and "0.090000 USD" in page  # per GB-month, per GB
    assert "<td>A100-80GB</td>" in page and "<td>V100</td>" not in page
    assert page.count("test fixture") >= len(storage) + len(egress) + 2
    gcp = logged_in.get("/o/org-a/estimates/catalogue/?provider=gcp&region=us-east-1")
    assert not list(gcp.context["storage_rates"]) and "No storage rates match." in (
        gcp.content.decode()
    )


def test_price_list_upload_reports_rows_and_applies_nothing(logged_in, org_a):
    bad = b"provider,region,instance_type,purchase_option,price_per_hour,currency\n"
    bad += b"aws,us-east-1,p3.2xlarge,on_demand,2.5,USD\naws,us-east-1,nope,on_demand,1,USD\n"
    response = logged_in.post(
        "/o/org-a/estimates/prices/", {"file": SimpleUploadedFile("p.csv", bad)}
    )
    assert response.status_code == 200
    assert response.context["row_errors"][0]["row"] == 2
    assert "Row 2" in response.content.decode()
    assert not Price.objects.for_org(org_a).exists()
    good = bad.splitlines(keepends=True)
    response = logged_in.post(
        "/o/org-a/estimates/prices/", {"file": SimpleUploadedFile("p.csv", b"".join(good[:2]))}
    )
    assert response.status_code == 302
    assert Price.objects.for_org(org_a).count() == 1
