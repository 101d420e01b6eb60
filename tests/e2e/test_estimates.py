"""Browser: estimate a run, compare offers, plan a training run (the fixture catalogue)."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.ui import drawn_chart, field_error, log_in, open_section

pytestmark = pytest.mark.django_db(transaction=True)


def test_estimate_compare_and_plan(page, catalog, org_a, alice):
    log_in(page, alice.email)
    open_section(page, "Estimates")

    # Estimate, with a typo first: the error stays beside the field with what was typed.
    page.get_by_label("Provider", exact=True).select_option("aws")
    page.get_by_label("Region", exact=True).fill("us-east-1")
    page.get_by_label("Instance type", exact=True).fill("p3.2xlrge")
    page.get_by_label("Hours", exact=True).fill("10")
    page.get_by_label("Purchase option", exact=True).select_option("on_demand")
    page.get_by_role("button", name="Estimate").click()
    expect(field_error(page, "Instance type")).to_contain_text("did you mean p3.2xlarge")
    expect(page.get_by_label("Instance type", exact=True)).to_have_value("p3.2xlrge")
    expect(page.get_by_label("Hours", exact=True)).to_have_value("10")
    page.get_by_label("Instance type", exact=True).fill("p3.2xlarge")
    page.get_by_role("button", name="Estimate").click()

    result = page.locator("#result")
    expect(result.get_by_role("heading", level=2)).to_have_text("30.6000 USD")
    expect(result.get_by_role("row", name=re.compile("^Compute"))).to_contain_text("30.6000")
    expect(result).to_contain_text("test fixture")
    expect(result).to_contain_text("2026-01-01")
    drawn_chart(page, "estimate-chart")

    # Compare every A100 offer for 8 GPUs over 10 hours.
    open_section(page, "Estimates", "Compare")
    page.get_by_label("Accelerator", exact=True).fill("A100")
    page.get_by_label("GPU count", exact=True).fill("8")
    page.get_by_label("Hours", exact=True).fill("10")
    page.get_by_role("button", name="Compare").click()
    rows = page.locator("#result table").first.locator("tbody tr")
    expect(rows.filter(has_text="p4d.24xlarge").first).to_be_visible()
    expect(rows.filter(has_text="a2-highgpu-1g").first).to_be_visible()
    totals = [float(cell.split()[0]) for cell in rows.locator("td:nth-child(6)").all_inner_texts()]
    assert totals == sorted(totals) and len(totals) >= 2, totals
    chart = drawn_chart(page, "compare-chart")
    assert chart["data"]["USD"] == totals, chart["data"]

    # Plan a training run: predicted hours, the trade-off frontier and the scaling curve.
    open_section(page, "Estimates", "Plan a run")
    page.get_by_label("Params", exact=True).fill("1e9")
    page.get_by_label("Tokens", exact=True).fill("2e10")
    page.get_by_label("Accelerator", exact=True).fill("A100")
    page.get_by_label("GPU count", exact=True).fill("8")
    page.get_by_label("Region", exact=True).fill("us-east-1")
    page.get_by_label("Instance type", exact=True).fill("p4d.24xlarge")
    page.get_by_label("GPU counts", exact=True).fill("1, 8, 16")
    page.get_by_role("button", name="Plan").click()

    expect(page.get_by_role("heading", name=re.compile(r"^8 × A100.* h wall"))).to_be_visible()
    expect(page.get_by_role("row", name=re.compile("^Cost on 1 × p4d.24xlarge"))).to_contain_text(
        "USD"
    )
    frontier = drawn_chart(page, "frontier-chart")
    assert sum(frontier["points"].values()) >= 1
    scaling = drawn_chart(page, "scaling-chart")
    assert max(scaling["points"].values()) == 3, scaling
