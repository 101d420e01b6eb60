"""`estimates/compare` throughput under 16 concurrent clients against `/healthz` of the same
gunicorn server (production settings, PostgreSQL). Goal: ratio ≥ 0.5.

The two alternate in ROUNDS short slices and each side's slices are added up, so a slowdown of
the shared machine during the run weighs on both alike."""

import json

from bench.common import (
    QUICK,
    Server,
    bench_organization,
    production_env,
    record,
    reset_database,
    summary,
    timed_requests,
)

CLIENTS = 16
ROUNDS = 5
COMPARE = "/api/v1/orgs/bench/estimates/compare"


def main():
    reset_database()
    env = production_env()
    token = bench_organization(env, "read")
    seconds = 5 if QUICK else 15
    body = json.dumps({"accelerator": "A100", "gpu_count": 8, "hours": 100}).encode()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    with Server(workers=4, env=env) as server:
        timed_requests(server.port, "GET", "/healthz", None, {}, CLIENTS, 2)  # warm up
        timed_requests(server.port, "POST", COMPARE, body, headers, CLIENTS, 2)
        measured = {"healthz": ([], 0.0), "compare": ([], 0.0)}
        for _ in range(ROUNDS):
            for name, method, path, data, sent in (
                ("healthz", "GET", "/healthz", None, {}),
                ("compare", "POST", COMPARE, body, headers),
            ):
                latencies, elapsed = timed_requests(
                    server.port, method, path, data, sent, CLIENTS, seconds / ROUNDS
                )
                measured[name] = (measured[name][0] + latencies, measured[name][1] + elapsed)
    healthz, compare = summary(*measured["healthz"]), summary(*measured["compare"])
    record(
        "compare_vs_healthz",
        compare["rps"] / healthz["rps"],
        0.5,
        "higher",
        "/healthz requests/s of the same server",
        {
            "clients": CLIENTS,
            "seconds": seconds,
            "rounds": ROUNDS,
            "compare": compare,
            "healthz": healthz,
        },
    )


if __name__ == "__main__":
    main()
