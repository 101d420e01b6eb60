"""A simulated fleet end to end with a real qcluster: launch, an EventBridge warning posted to
the API, the replacement launched by the worker."""

import pytest

from spot import fleets
from spot.models import AttemptState, FleetStatus
from tests.cluster import qcluster, wait_for
from tests.spot.conftest import warning


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("broker", ["orm", "redis"])
def test_interruption_is_handled_by_a_real_cluster(
    broker, catalog, org_a, alice, alice_write_token, client, monkeypatch
):
    with qcluster(broker, monkeypatch) as cluster:
        fleet = fleets.create(
            org_a,
            {
                "name": "e2e",
                "provider": "simulated",
                "region": "us-east-1",
                "instance_types": ["p3.2xlarge"],
                "target_count": 1,
                "total_steps": 100,
            },
            alice,
        )

        def status_is(status):
            fleet.refresh_from_db()
            return fleet.status == status

        wait_for(lambda: status_is(FleetStatus.RUNNING), cluster)
        first = fleet.attempts.get()
        response = client.post(
            f"/api/v1/orgs/{org_a.slug}/spot/events/",
            warning("e2e-1", first.provider_instance_id),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {alice_write_token}",
        )
        assert response.status_code == 202

        def replaced():
            return fleet.attempts.filter(state=AttemptState.RUNNING).exclude(pk=first.pk).exists()

        wait_for(replaced, cluster)
        wait_for(lambda: status_is(FleetStatus.RUNNING), cluster)
    first.refresh_from_db()
    assert first.state == AttemptState.INTERRUPTED
    assert fleet.attempts.count() == 2
