"""Seconds from an EventBridge spot interruption warning POST to the replacement's launch
request (simulated provider), p95, as a fraction of AWS's 120-second notice. gunicorn and a
`qcluster` on Redis with production settings, PostgreSQL. Goal: ≤ 0.083 (10 s)."""

import time
import uuid
from datetime import datetime

import redis

from bench.common import (
    QUICK,
    Server,
    api,
    bench_organization,
    percentile,
    production_env,
    qcluster,
    record,
    reset_database,
    wait_until,
)

NOTICE_SECONDS = 120
REDIS_URL = "redis://127.0.0.1:6379/14"


def warning(instance_id):
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "EC2 Spot Instance Interruption Warning",
        "source": "aws.ec2",
        "account": "123456789012",
        "time": datetime.now().astimezone().isoformat(),
        "region": "us-east-1",
        "resources": [f"arn:aws:ec2:us-east-1a:instance/{instance_id}"],
        "detail": {"instance-id": instance_id, "instance-action": "terminate"},
    }


def main():
    redis.from_url(REDIS_URL).flushdb()
    reset_database()
    env = production_env(REDIS_URL=REDIS_URL, Q_WORKERS="2")
    token = bench_organization(env, "write")
    fleets = 10 if QUICK else 40
    spot = "/api/v1/orgs/bench/spot"
    with qcluster(env), Server(workers=2, env=env) as server:
        ids = [
            api(
                server.port,
                "POST",
                f"{spot}/fleets/",
                token,
                {
                    "name": f"bench {n}",
                    "provider": "simulated",
                    "region": "us-east-1",
                    "instance_types": ["p3.2xlarge", "g5.xlarge"],
                    "availability_zones": ["us-east-1a", "us-east-1b"],
                    "total_steps": 1000,
                },
            )["id"]
            for n in range(fleets)
        ]

        def first_instance(fleet_id):
            fleet = api(server.port, "GET", f"{spot}/fleets/{fleet_id}/", token)
            return fleet["status"] == "running" and fleet["instances"][0]

        instances = {
            fid: wait_until(lambda fid=fid: first_instance(fid), 120, "launch") for fid in ids
        }
        sent = {}
        for fleet_id, instance in instances.items():
            sent[fleet_id] = time.time()
            api(
                server.port,
                "POST",
                f"{spot}/events/",
                token,
                warning(instance["provider_instance_id"]),
            )
            time.sleep(0.5)  # 2 warnings a second

        def replacement_at(fleet_id):
            fleet = api(server.port, "GET", f"{spot}/fleets/{fleet_id}/", token)
            later = [i for i in fleet["instances"][1:] if i["slot"] == 0]
            return later and datetime.fromisoformat(later[0]["launched_at"]).timestamp()

        latencies = sorted(
            wait_until(lambda fid=fid: replacement_at(fid), 120, "replacement") - sent[fid]
            for fid in ids
        )
    p95 = percentile(latencies, 0.95)
    record(
        "interruption_p95_vs_notice",
        p95 / NOTICE_SECONDS,
        0.083,
        "lower",
        "AWS's 120-second interruption notice",
        {
            "events": len(latencies),
            "rate_per_s": 2,
            "broker": "redis",
            "p50_s": round(latencies[len(latencies) // 2], 3),
            "p95_s": round(p95, 3),
            "max_s": round(latencies[-1], 3),
        },
    )


if __name__ == "__main__":
    main()
