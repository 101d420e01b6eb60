"""Browser: a simulated spot fleet launched from the page, interrupted, and recovered by a real
qcluster worker; the timeline chart shows the interruption and the replacement."""

import re
import time

import pytest
from playwright.sync_api import expect

from tests.cluster import qcluster
from tests.e2e.ui import drawn_chart, log_in, open_section

pytestmark = pytest.mark.django_db(transaction=True)


def reload_until(page, shown, seconds=60):
    """Reload the page, as a person waiting would, until `shown()` is true."""
    deadline = time.monotonic() + seconds
    while True:
        page.reload()
        if shown():
            return
        assert time.monotonic() < deadline, "not shown in time"
        time.sleep(0.3)


def test_a_simulated_fleet_is_interrupted_and_recovers(page, catalog, org_a, alice, monkeypatch):
    with qcluster("orm", monkeypatch):
        log_in(page, alice.email)
        open_section(page, "Spot")
        page.get_by_role("link", name="New fleet").click()
        page.get_by_label("Name", exact=True).fill("llm-finetune")
        page.get_by_label("Provider", exact=True).select_option("simulated")
        page.get_by_label("Region", exact=True).fill("us-east-1")
        page.get_by_label("Instance types", exact=True).fill("p3.2xlarge")
        page.get_by_label("Total steps", exact=True).fill("100000")
        page.get_by_label("Simulated interruptions per hour", exact=True).fill("0")
        page.get_by_role("button", name="Launch").click()

        status = page.get_by_role("heading", level=1).locator(".badge").first
        expect(page.get_by_role("heading", level=1)).to_contain_text("llm-finetune")
        reload_until(page, lambda: status.inner_text() == "Running")
        instances = page.locator("section", has=page.get_by_role("heading", name="Instances"))
        rows = instances.locator("tbody tr")
        expect(rows).to_have_count(1)
        expect(rows.first).to_contain_text("running")
        first_instance = rows.first.locator("code").inner_text()
        before = drawn_chart(page, "attempts-chart")
        assert before["points"]["spot"] == 1 and before["points"]["interruption"] == 0, before

        page.get_by_role("button", name="Simulate an interruption").click()
        expect(page.get_by_role("status")).to_contain_text(
            f"Simulated interruption of {first_instance}."
        )
        reload_until(
            page,
            lambda: (
                rows.count() == 2
                and "interrupted" in instances.inner_text()
                and status.inner_text() == "Running"
            ),
        )

    lost = rows.filter(has_text=first_instance)
    expect(lost).to_contain_text("interrupted")
    replacement = rows.filter(has_not_text=first_instance)
    expect(replacement).to_contain_text("running")
    events = page.locator("section", has=page.get_by_role("heading", name="Events"))
    expect(events.get_by_role("row", name=re.compile(first_instance))).to_be_visible()
    after = drawn_chart(page, "attempts-chart")
    assert after["points"]["spot"] == 2 and after["points"]["interruption"] == 1, after
    first_bar, second_bar = sorted(after["data"]["spot"], key=lambda bar: bar["x"][0])
    (mark,) = after["data"]["interruption"]
    assert mark["x"] == first_bar["x"][1] <= second_bar["x"][0], after["data"]
