"""The job agent (clients/spot_agent.py) against the real API on a live server: it resumes from
the latest checkpoint, checkpoints when a rebalance recommendation arrives, reports progress,
and the fleet completes."""

import sys
import time
from pathlib import Path

import pytest
from django.utils import timezone

from spot import orchestrator
from spot.models import FleetStatus
from tests.spot.conftest import warning

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "clients"))
from spot_agent import SpotAgent


@pytest.mark.django_db(transaction=True)
def test_agent_against_the_real_api(
    live_server, make_fleet, alice_write_token, org_a, client, monkeypatch
):
    fleet = make_fleet(total_steps=30)
    instance = fleet.attempts.get().provider_instance_id
    orchestrator.record_checkpoint(fleet, 10, "file:///ckpt/10", timezone.now())
    saved = []
    agent = SpotAgent(
        live_server.url,
        org_a.slug,
        fleet.pk,
        alice_write_token,
        cloud="none",
        instance_id=instance,
        directive_every_s=0.05,
        progress_every_s=0,
    )
    agent.start()
    try:
        assert (agent.resume_from, agent.resume_step) == ("file:///ckpt/10", 10)
        client.post(
            f"/api/v1/orgs/{org_a.slug}/spot/events/",
            warning("live-1", instance, kind="EC2 Instance Rebalance Recommendation"),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {alice_write_token}",
        )
        step = agent.resume_step
        deadline = time.monotonic() + 10
        while not saved and time.monotonic() < deadline:
            step += 1
            agent.step(step, checkpoint=lambda s: saved.append(s) or f"file:///ckpt/{s}")
            time.sleep(0.05)
        assert saved, "the agent never checkpointed after the rebalance recommendation"
        agent.report_progress(30)
    finally:
        agent.stop()
    fleet.refresh_from_db()
    assert fleet.checkpoints.filter(step=saved[0]).exists()
    assert fleet.status == FleetStatus.COMPLETED
