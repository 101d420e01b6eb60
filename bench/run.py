"""Run every benchmark (`make bench`, `make bench BENCH_QUICK=1`)."""

from bench import compare_vs_healthz

BENCHMARKS = [compare_vs_healthz]

if __name__ == "__main__":
    for benchmark in BENCHMARKS:
        benchmark.main()
