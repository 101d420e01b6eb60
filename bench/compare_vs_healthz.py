"""`estimates/compare` throughput under 16 concurrent clients against `/healthz` of the same
gunicorn server (production settings, PostgreSQL). Goal: ratio ≥ 0.5."""

import json

from bench.common import (
    QUICK,
    Server,
    bench_organization,
    load,
    production_env,
    record,
    reset_database,
)

CLIENTS = 16


def main():
    reset_database()
    env = production_env()
    token = bench_organization(env, "read")
    seconds = 5 if QUICK else 15
    body = json.dumps({"accelerator": "A100", "gpu_count": 8, "hours": 100}).encode()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    with Server(workers=4, env=env) as server:
        load(server.port, "GET", "/healthz", None, {}, CLIENTS, 2)  # warm up
        load(server.port, "POST", "/api/v1/orgs/bench/estimates/compare", body, headers, CLIENTS, 2)
        healthz = load(server.port, "GET", "/healthz", None, {}, CLIENTS, seconds)
        compare = load(
            server.port,
            "POST",
            "/api/v1/orgs/bench/estimates/compare",
            body,
            headers,
            CLIENTS,
            seconds,
        )
    record(
        "compare_vs_healthz",
        compare["rps"] / healthz["rps"],
        0.5,
        "higher",
        "/healthz requests/s of the same server",
        {"clients": CLIENTS, "seconds": seconds, "compare": compare, "healthz": healthz},
    )


if __name__ == "__main__":
    main()
