"""The dependency-free tracker reports to a live server."""

import sys
from pathlib import Path

import pytest

from carbon.models import CarbonRecord
from costsite.orgs.tokens import issue_token

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "clients"))
from costsite_tracker import Tracker


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


@pytest.mark.django_db(transaction=True)
def test_tracker_reports_cumulative_energy(live_server, org_a, alice, carbon_catalog):
    token = issue_token(org_a, alice, "tracker", "write")[1]
    clock = Clock()
    tracker = Tracker(
        live_server.url,
        token,
        "org-a",
        "llama-ft",
        provider="gcp",
        region="us-central1",
        read_watts=lambda: 2000.0,
        clock=clock,
    )
    tracker.sample()
    clock.now = 3600.0
    tracker.sample()  # 2 kW for an hour
    first = tracker.report()
    assert first["energy_kwh"] == pytest.approx(2 * 1.1)
    clock.now = 5400.0
    tracker.sample()
    final = tracker.report(ended=True)
    assert final["id"] == first["id"] and final["energy_kwh"] == pytest.approx(3 * 1.1)
    record = CarbonRecord.objects.get()
    assert record.ended_at is not None and record.co2e_kg == pytest.approx(3 * 1.1 * 0.413)


def test_tracker_survives_an_unreachable_server():
    tracker = Tracker(
        "http://127.0.0.1:9",
        "cst_x",
        "o",
        "job",
        read_watts=lambda: 1.0,
        pue=1.0,
        intensity_g_per_kwh=1.0,
    )
    assert tracker.report() is None and tracker.last_error is not None
