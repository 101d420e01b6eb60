"""A real `manage.py qcluster` process for end-to-end tests, with the ORM broker (the default)
or Redis."""

import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import redis
from django.db import connection
from django_q.conf import Conf

ROOT = Path(__file__).resolve().parent.parent
# Overridable so two test runs on one machine do not flush each other's queue.
REDIS_TEST_URL = os.environ.get("COSTSITE_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@contextmanager
def qcluster(broker: str, monkeypatch, **extra_env):
    """Start a cluster on this test database; tasks enqueued here go to it, not inline."""
    monkeypatch.setattr(Conf, "SYNC", False)
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL"}}
    env |= {"DEBUG": "1", "DATABASE_URL": database_url(), "Q_WORKERS": "1", **extra_env}
    if broker == "redis":
        redis.from_url(REDIS_TEST_URL).flushdb()
        env["REDIS_URL"] = REDIS_TEST_URL
        # This process enqueues through the same broker the cluster reads.
        monkeypatch.setattr(Conf, "ORM", None)
        monkeypatch.setattr(Conf, "REDIS", REDIS_TEST_URL)
    cluster = subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        yield cluster
    finally:
        stop(cluster)


def stop(cluster) -> None:
    """SIGTERM, then SIGKILL after 5 s; a cluster a test already killed is fine."""
    try:
        os.killpg(cluster.pid, signal.SIGTERM)
        cluster.wait(timeout=5)
    except ProcessLookupError:
        cluster.wait(timeout=5)
    except subprocess.TimeoutExpired:
        os.killpg(cluster.pid, signal.SIGKILL)


def wait_for(check, cluster, seconds=60):
    """Poll `check()` until it is true; fail with the cluster's output if it died."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        assert cluster.poll() is None, cluster.stdout.read().decode()
        time.sleep(0.1)
    raise AssertionError("timed out waiting for the cluster")
