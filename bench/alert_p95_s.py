"""Seconds from an expense POST (API, token) that crosses a budget alert threshold to the signed
webhook arriving at a receiver on 127.0.0.1, at a steady 20 expenses a second: p50/p95/p99.
gunicorn and a `qcluster` on Redis with production settings, PostgreSQL. Goal: p95 ≤ 2 s.

The organization has BUDGETS budgets, each scoped to its own tag, amount 10,000, with rules at
1%, 2%, ... STEPS%, all sent to one webhook channel. Every expense is 100 (1% of one budget), so
the k-th expense of a budget crosses exactly its k% rule: every measured expense fires one fresh
alert, and the alert's payload (budget id, threshold) names the expense it answers.
"""

import json
import os
import random
import threading
import time
from datetime import UTC, datetime
from decimal import Decimal
from http.client import HTTPConnection
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import redis

from bench.common import (
    QUICK,
    Server,
    api,
    bench_organization,
    group_cpu_s,
    percentile,
    production_env,
    qcluster,
    record,
    reset_database,
    wait_until,
)

REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
RATE_PER_S = 20
BUDGETS = 20
STEPS = 5 if QUICK else 40
SENDERS = 4
SEED = 20261122
ORG_API = "/api/v1/orgs/bench"


class Receiver:
    """Records when each alert's webhook arrives, keyed by (budget id, threshold percent)."""

    def __init__(self):
        self.arrivals: dict[tuple[int, int], float] = {}
        self.duplicates = 0
        self.warmed_up = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                arrived = time.time()
                payload = json.loads(body)
                if payload["event"] == "test":
                    receiver.warmed_up.set()
                else:
                    data = payload["data"]
                    key = (data["budget"]["id"], int(Decimal(data["threshold_percent"])))
                    if key in receiver.arrivals:
                        receiver.duplicates += 1
                    receiver.arrivals.setdefault(key, arrived)
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/alerts"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def set_up(port: int, token: str, webhook_url: str) -> tuple[int, list[int]]:
    """The channel, the budgets and their rules, through the API; returns the channel id and
    the budget ids."""
    channel = api(
        port,
        "POST",
        f"{ORG_API}/channels/",
        token,
        {"name": "bench hook", "kind": "webhook", "target": webhook_url},
    )
    budgets = [
        api(
            port,
            "POST",
            f"{ORG_API}/budgets/",
            token,
            {
                "name": f"bench {n}",
                "amount": "10000.00",
                "currency": "USD",
                "period": "monthly",
                "scope_tag_key": "bench",
                "scope_tag_value": f"b{n}",
            },
        )["id"]
        for n in range(BUDGETS)
    ]
    rules = [(budget, step) for budget in budgets for step in range(1, STEPS + 1)]

    def create(chunk):
        for budget, step in chunk:
            api(
                port,
                "POST",
                f"{ORG_API}/alert-rules/",
                token,
                {"budget": budget, "percent": f"{step}.00", "channels": [channel["id"]]},
            )

    threads = [threading.Thread(target=create, args=(rules[i::SENDERS],)) for i in range(SENDERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return channel["id"], budgets


def schedule(budgets: list[int]) -> list[tuple[int, int, int]]:
    """(sequence number, budget index, step): STEPS rounds, budgets in a seeded order each."""
    rng = random.Random(SEED)  # noqa: S311 - reproducible test data, not security
    plan = []
    for step in range(1, STEPS + 1):
        order = list(range(len(budgets)))
        rng.shuffle(order)
        first = len(plan)
        plan.extend((first + i, index, step) for i, index in enumerate(order))
    return plan


def send_expenses(port: int, token: str, budgets: list[int], plan) -> dict:
    """POST the plan's expenses at RATE_PER_S (open loop: a slow answer does not slow the
    schedule); returns {(budget id, step): time the POST was sent}."""
    sent: dict[tuple[int, int], float] = {}
    errors: list[str] = []
    lock = threading.Lock()
    pending = iter(plan)
    start = time.monotonic() + 0.5
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def sender():
        connection = HTTPConnection("127.0.0.1", port, timeout=30)
        while True:
            with lock:
                item = next(pending, None)
            if item is None or errors:
                break
            number, index, step = item
            time.sleep(max(0.0, start + number / RATE_PER_S - time.monotonic()))
            body = json.dumps(
                {
                    "amount": "100.00",
                    "currency": "USD",
                    "provider": "aws",
                    "service": "Amazon EC2",
                    "incurred_at": datetime.now(UTC).isoformat(),
                    "tags": {"bench": f"b{index}"},
                    "external_id": f"bench-{number}",
                }
            )
            sent[(budgets[index], step)] = time.time()
            connection.request("POST", f"{ORG_API}/expenses/", body=body, headers=headers)
            response = connection.getresponse()
            response.read()
            if response.status != 201:
                errors.append(f"{response.status} on expense {number}")
        connection.close()

    threads = [threading.Thread(target=sender) for _ in range(SENDERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise RuntimeError(errors[0])
    return sent


def main():
    broker = redis.from_url(REDIS_URL)
    broker.flushdb()
    reset_database()
    receiver = Receiver()
    env = production_env(REDIS_URL=REDIS_URL, Q_WORKERS="2", COSTSITE_WEBHOOK_ALLOW_PRIVATE="1")
    token = bench_organization(env, "write", catalog=False)
    try:
        with Server(workers=2, env=env) as server:
            channel, budgets = set_up(server.port, token, receiver.url)
            # Each new rule queued an evaluation; with no spend yet they can fire nothing, so
            # they are dropped rather than left to delay the measured ones.
            broker.flushdb()
            # Measured once every alert has arrived: no need to wait for a graceful stop.
            with qcluster(env, stop_timeout=3) as cluster:
                # A test message through the cluster: measuring starts once it is up.
                api(server.port, "POST", f"{ORG_API}/channels/{channel}/test/", token)
                if not receiver.warmed_up.wait(60):
                    raise RuntimeError("the cluster did not deliver the test message")
                load_before = os.getloadavg()[0]
                cpu_before = group_cpu_s(cluster.pid), group_cpu_s(server.process.pid)
                plan = schedule(budgets)
                began = time.monotonic()
                sent = send_expenses(server.port, token, budgets, plan)
                sending_s = time.monotonic() - began
                wait_until(lambda: len(receiver.arrivals) >= len(sent), 120, "every alert")
                pids = (cluster.pid, server.process.pid)
                cpu_ms = [
                    round((group_cpu_s(pid) - before) * 1000 / len(sent), 1)
                    for pid, before in zip(pids, cpu_before, strict=True)
                ]
    finally:
        receiver.close()
    latencies = sorted(receiver.arrivals[key] - sent[key] for key in sent)
    p95 = percentile(latencies, 0.95)
    record(
        "alert_p95_s",
        p95,
        2,
        "lower",
        "absolute seconds (no anchor: the goal is an SLO)",
        {
            "alerts": len(latencies),
            "duplicates": receiver.duplicates,
            "budgets": BUDGETS,
            "rules": BUDGETS * STEPS,
            "rate_per_s": round(len(plan) / sending_s, 1),
            "broker": "redis",
            "p50_s": round(percentile(latencies, 0.50), 3),
            "p95_s": round(p95, 3),
            "p99_s": round(percentile(latencies, 0.99), 3),
            "max_s": round(latencies[-1], 3),
            # CPU per expense+alert, which the machine's other load does not change much.
            "cpu_ms_per_alert": {"qcluster": cpu_ms[0], "gunicorn": cpu_ms[1]},
            # The machine is shared: a high load average means this run got little CPU.
            "load_avg_1m": [round(load_before, 1), round(os.getloadavg()[0], 1)],
        },
    )


if __name__ == "__main__":
    main()
