"""A real `manage.py qcluster` process picks up a task and completes it, with the ORM broker
(the default) and with Redis (when REDIS_URL is set)."""

import pytest

from costsite.notify.channels import create_channel
from costsite.notify.delivery import send_test
from costsite.notify.models import DeliveryStatus
from tests.cluster import qcluster, wait_for
from tests.receiver import Receiver


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("broker", ["orm", "redis"])
def test_qcluster_delivers_a_webhook(broker, org_a, monkeypatch, settings):
    settings.COSTSITE_WEBHOOK_ALLOW_PRIVATE = True
    receiver = Receiver()
    try:
        with qcluster(broker, monkeypatch, COSTSITE_WEBHOOK_ALLOW_PRIVATE="1") as cluster:
            channel = create_channel(org_a, "hook", "webhook", receiver.url)
            delivery = send_test(channel)  # autocommit: on_commit enqueues at once

            def delivered():
                delivery.refresh_from_db()
                return delivery.status == DeliveryStatus.DELIVERED

            wait_for(delivered, cluster)
        assert len(receiver.requests) == 1
    finally:
        receiver.close()
