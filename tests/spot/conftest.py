"""Spot fixtures: a simulated fleet on the fixture catalogue, and running on-commit callbacks."""

import pytest

from spot import fleets

EVENT_TEMPLATE = {
    "version": "0",
    "source": "aws.ec2",
    "account": "123456789012",
    "time": "2026-11-22T12:00:00Z",
    "region": "us-east-1",
}


def warning(event_id, instance_id, kind="EC2 Spot Instance Interruption Warning", **detail):
    return {
        **EVENT_TEMPLATE,
        "id": event_id,
        "detail-type": kind,
        "resources": [f"arn:aws:ec2:us-east-1a:instance/{instance_id}"],
        "detail": {"instance-id": instance_id, "instance-action": "terminate", **detail},
    }


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    """Run a callable with on-commit callbacks (queued tasks) executed, as after a request."""

    def run(fn, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return fn(*args, **kwargs)

    return run


@pytest.fixture
def make_fleet(catalog, org_a, alice, commit):
    def make(**overrides):
        values = {
            "name": "llm",
            "provider": "simulated",
            "region": "us-east-1",
            "instance_types": ["p3.2xlarge", "g5.xlarge"],
            "availability_zones": ["us-east-1a", "us-east-1b"],
            "target_count": 1,
            "total_steps": 1000,
            "fallback_unavailable_minutes": 30,
            **overrides,
        }
        fleet = commit(fleets.create, org_a, values, alice)
        fleet.refresh_from_db()
        return fleet

    return make
