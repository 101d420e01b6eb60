"""A real `manage.py qcluster` process picks up a task and completes it, with the ORM broker
(the default) and with Redis (when REDIS_URL is set)."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from django.db import connection
from django_q.conf import Conf

from costsite.notify.channels import create_channel
from costsite.notify.delivery import send_test
from costsite.notify.models import DeliveryStatus
from tests.receiver import Receiver

ROOT = Path(__file__).resolve().parent.parent


def database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


REDIS_TEST_URL = "redis://127.0.0.1:6379/15"


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("broker", ["orm", "redis"])
def test_qcluster_delivers_a_webhook(broker, org_a, monkeypatch, settings):
    monkeypatch.setattr(Conf, "SYNC", False)  # enqueue for the real cluster, not inline
    settings.COSTSITE_WEBHOOK_ALLOW_PRIVATE = True
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "Q_SYNC"}}
    env |= {
        "DEBUG": "1",
        "DATABASE_URL": database_url(),
        "Q_WORKERS": "1",
        "COSTSITE_WEBHOOK_ALLOW_PRIVATE": "1",
    }
    if broker == "redis":
        redis.from_url(REDIS_TEST_URL).flushdb()
        env["REDIS_URL"] = REDIS_TEST_URL
        # This process enqueues through the same broker the cluster reads.
        monkeypatch.setattr(Conf, "ORM", None)
        monkeypatch.setattr(Conf, "REDIS", REDIS_TEST_URL)
    receiver = Receiver()
    cluster = subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        channel = create_channel(org_a, "hook", "webhook", receiver.url)
        delivery = send_test(channel)  # autocommit: on_commit enqueues at once
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            delivery.refresh_from_db()
            if delivery.status == DeliveryStatus.DELIVERED:
                break
            assert cluster.poll() is None, cluster.stdout.read().decode()
            time.sleep(0.2)
        assert delivery.status == DeliveryStatus.DELIVERED
        assert len(receiver.requests) == 1
    finally:
        os.killpg(cluster.pid, signal.SIGTERM)
        try:
            cluster.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(cluster.pid, signal.SIGKILL)
        receiver.close()
