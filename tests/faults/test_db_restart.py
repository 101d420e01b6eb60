"""The database drops every connection while clients hammer a live server (PostgreSQL:
pg_terminate_backend on all of the app's sessions, what a restart or a failover does to them).

Requests caught by the cut fail cleanly (a 5xx page, no hang, no half-written expense);
requests after it succeed (conn_health_checks reconnects); every write answered 2xx is stored;
a failed write, retried with its idempotency key (external_id), ends stored exactly once; the
budget figures (which read the daily roll-ups) still equal the sum of the stored expenses.
"""

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from decimal import Decimal

import pytest
import requests
from django.conf import settings
from django.db import connection
from django.db.models import Count, Sum
from django.utils import timezone

from budgets.figures import figures
from budgets.models import Budget, Expense
from tests.cluster import ROOT, database_url
from tests.faults.pg import terminate_others

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="cuts server-side sessions with pg_terminate_backend (PostgreSQL, as in CI)",
    ),
]

CLIENTS, CUTS = 4, 12
TIMEOUT = 20  # seconds: a request still unanswered by then is a hang


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def gunicorn(workers=2):
    """gunicorn with production settings on the test database: long-lived connections
    (conn_max_age), so the cut kills sessions the workers will reuse."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "REDIS_URL"}}
    env |= {
        "DEBUG": "0",
        "SECRET_KEY": settings.SECRET_KEY,  # API tokens are keyed with it
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "DATABASE_URL": database_url(),
        "COSTSITE_API_THROTTLE_RATE": "100000000/min",
        "LOG_LEVEL": "CRITICAL",
    }
    command = [sys.executable, "-m", "gunicorn", "costsite.wsgi", "--workers", str(workers)]
    process = subprocess.Popen(
        [*command, "--bind", f"127.0.0.1:{port}", "--log-level", "critical"],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            requests.get(f"{url}/healthz", timeout=1)
            return process, url
        except requests.RequestException:
            time.sleep(0.2)
    os.killpg(process.pid, signal.SIGKILL)
    raise AssertionError("gunicorn did not start")


@pytest.fixture(params=["live_server", "gunicorn"])
def server_url(request):
    if request.param == "live_server":
        yield request.getfixturevalue("live_server").url
        return
    process, url = gunicorn()
    yield url
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(20)


def test_requests_survive_the_database_dropping_every_connection(
    server_url, org_a, alice_write_token
):
    budget = Budget.objects.create(organization=org_a, name="All", amount=1000)
    api = f"{server_url}/api/v1/orgs/org-a"
    auth = {"Authorization": f"Bearer {alice_write_token}"}
    stop = threading.Event()
    writes, reads, hangs = [], [], []

    def post(session, key, amount):
        body = {
            "amount": str(amount),
            "currency": "USD",
            "incurred_at": timezone.now().isoformat(),
            "external_id": key,
        }
        return session.post(f"{api}/expenses/", json=body, headers=auth, timeout=TIMEOUT)

    def client(n):
        session = requests.Session()
        i = 0
        while not stop.is_set():
            key, amount = f"c{n}-{i}", Decimal(f"{n + 1}.{i % 100:02d}")
            i += 1
            try:
                writes.append((key, amount, post(session, key, amount)))
                reads.append(session.get(f"{api}/budgets/", headers=auth, timeout=TIMEOUT))
            except requests.RequestException as exc:
                hangs.append(repr(exc))

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    cut = 0
    try:
        time.sleep(0.5)
        for _ in range(CUTS):
            cut += terminate_others()
            time.sleep(0.25)
        time.sleep(0.5)  # and after the cuts, traffic as usual
    finally:
        stop.set()
        for thread in threads:
            thread.join(TIMEOUT + 5)
    assert cut > 0  # the server's sessions were really cut
    assert hangs == []
    responses = [r for _, _, r in writes] + reads
    assert {r.status_code for r in responses} <= {200, 201, 500}
    for response in responses:
        if response.status_code == 500:  # the error page, whole, with no traceback
            assert b"Something went wrong" in response.content
            assert b"Traceback" not in response.content
    # After the cut: everything works again.
    assert [r.status_code for _, _, r in writes[-CLIENTS:]] == [201] * CLIENTS
    stored = dict(Expense.objects.for_org(org_a).values_list("external_id", "amount"))
    failed = []
    for key, amount, response in writes:
        if response.status_code == 201:
            assert stored[key] == amount
        else:  # failed: not written, or written whole (the cut came after the commit)
            assert stored.get(key, amount) == amount
            failed.append((key, amount))
    session = requests.Session()
    for key, amount in failed:  # the client retries what failed, with the same key
        assert post(session, key, amount).status_code in (200, 201)
    expected = sum((amount for _, amount, _ in writes), Decimal(0))
    assert Expense.objects.for_org(org_a).aggregate(n=Count("id"), total=Sum("amount")) == {
        "n": len(writes),
        "total": expected,
    }
    assert sum(figures(budget).daily.values()) == expected  # the roll-ups agree
    terminate_others()  # the live server's idle sessions, so the test database can be dropped
    print(f"{len(writes)} writes, {len(reads)} reads, {len(failed)} writes failed by the cuts")
