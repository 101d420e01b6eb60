"""Run every benchmark, each in its own process (`make bench`, `make bench BENCH_QUICK=1`)."""

import subprocess
import sys

from bench.common import ROOT

BENCHMARKS = [
    "compare_vs_healthz",
    "ingest_vs_copy",
    "dashboard_vs_sql",
    "interruption_p95_vs_notice",
    "alert_p95_s",
]

if __name__ == "__main__":
    names = sys.argv[1:] or BENCHMARKS
    failed = [
        name
        for name in names
        if subprocess.run([sys.executable, "-m", f"bench.{name}"], cwd=ROOT).returncode != 0
    ]
    if failed:
        sys.exit(f"failed: {', '.join(failed)}")
