"""PostgreSQL tools for fault tests: stop a worker at a chosen write by holding a lock it needs,
see that it waits there, kill it, and cut database connections."""

import os
import signal
import threading
import time
from datetime import timedelta

from django.conf import settings
from django.db import connection, connections, transaction
from django.utils import timezone
from django_q.models import OrmQ

from tests.cluster import qcluster

ORPHANS = """
    SELECT pid FROM pg_stat_activity
    WHERE datname = current_database() AND backend_type = 'client backend' AND pid <> ALL(%s)
"""


def backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


class Hold:
    """Run `take()` in a transaction on a connection of its own and keep that transaction (and
    the locks it took) open until `release()`, which rolls it back."""

    def __init__(self, take):
        self.take = take
        self.taken = threading.Event()
        self.released = threading.Event()
        self.error = None
        self.pid = None
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self):
        try:
            with transaction.atomic():
                self.pid = backend_pid()
                self.take()
                self.taken.set()
                self.released.wait(120)
                transaction.set_rollback(True)
        except Exception as exc:  # reported by __enter__
            self.error = exc
        finally:
            self.taken.set()
            connections.close_all()

    def __enter__(self):
        self.thread.start()
        self.taken.wait(30)
        assert self.error is None, self.error
        return self

    def release(self):
        self.released.set()
        self.thread.join(30)

    def __exit__(self, *exc):
        self.release()


def waiting_on_a_lock() -> list[int]:
    """Backends of this database blocked on a lock (the paused worker)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
        )
        return [row[0] for row in cursor.fetchall()]


def terminate_others(keep=()) -> int:
    """pg_terminate_backend every other client connection to this database (what a database
    restart does to them, or what PostgreSQL does to the sessions of a client that died)."""
    with connection.cursor() as cursor:
        cursor.execute(ORPHANS, [[backend_pid(), *keep]])
        pids = [row[0] for row in cursor.fetchall()]
        for pid in pids:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    return len(pids)


def kill(cluster, hold: Hold) -> None:
    """SIGKILL the whole cluster (sentinel, workers) while its worker waits on `hold`; then end
    the dead worker's database sessions before the hold lets go, so nothing it left half done
    can commit after its death."""
    os.killpg(cluster.pid, signal.SIGKILL)
    cluster.wait(10)
    deadline = time.monotonic() + 10
    while terminate_others(keep=[hold.pid]) and time.monotonic() < deadline:
        time.sleep(0.1)
    hold.release()


def cluster(monkeypatch, **env):
    """`tests.cluster.qcluster` on the ORM broker (the one whose redelivery tests can drive)."""
    return qcluster("orm", monkeypatch, **env)


# After this long the ORM broker offers a task taken by a worker that never acknowledged it again.
RETRY = timedelta(seconds=settings.Q_CLUSTER["retry"])


def redeliver() -> None:
    """What the ORM broker does once RETRY has passed since a task was taken: offer it again
    (here at once; tests move the task's own timestamps back by RETRY)."""
    OrmQ.objects.update(lock=timezone.now())
