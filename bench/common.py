"""Shared pieces of the benchmarks: a bench database, a production-like server, load, results.

Every benchmark measures a ratio against an anchor in the same run, because this machine is
shared and absolute times drift.
"""

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from contextlib import contextmanager
from http.client import HTTPConnection
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results.json"
BENCH_DATABASE_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/costsite_bench"
)
QUICK = os.environ.get("BENCH_QUICK") == "1"


def production_env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "REDIS_URL"}}
    env.update(
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SECURE_SSL_REDIRECT="0",
        SECURE_HSTS_SECONDS="0",
        DATABASE_URL=BENCH_DATABASE_URL,
        COSTSITE_API_THROTTLE_RATE="100000000/min",
        LOG_LEVEL="WARNING",
    )
    env.update(extra)
    return env


def manage(*args, env=None, capture=False) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env or production_env(),
        check=True,
        text=True,
        capture_output=capture,
    )
    return result.stdout if capture else ""


def reset_database():
    """Drop and re-create the bench database, migrate it."""
    import psycopg

    url = BENCH_DATABASE_URL.rsplit("/", 1)
    name = url[1]
    with psycopg.connect(f"{url[0]}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    manage("migrate", "--noinput", "-v0")


def bench_organization(env, scope: str, catalog: bool = True) -> str:
    """The catalogue (unless `catalog` is false), the organization `bench` and a token of its
    owner (the token text)."""
    if catalog:
        manage("load_catalog", env=env)
    manage("createorg", "bench", "--name", "Bench", "--owner", "bench@example.com", env=env)
    output = manage(
        "issuetoken",
        "--org",
        "bench",
        "--user",
        "bench@example.com",
        "--scope",
        scope,
        env=env,
        capture=True,
    )
    return output.strip().splitlines()[-1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """gunicorn with production settings; stopped on exit."""

    def __init__(self, workers: int = 4, env=None):
        self.port = free_port()
        manage("collectstatic", "--noinput", "-v0", env=env)
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "costsite.wsgi",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(workers),
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env or production_env(),
            start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=1)
                return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("gunicorn did not start")

    def stop(self):
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=20)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def api(port: int, method: str, path: str, token: str, body=None):
    """One JSON API call with a bearer token; returns the decoded answer (non-2xx raises)."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        data=json.dumps(body).encode() if body is not None else None,
        method=method,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read() or b"null")


def wait_until(check, seconds: float, what: str):
    """Poll `check()` until it returns something true, and return that."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if result := check():
            return result
        time.sleep(0.05)
    raise RuntimeError(f"timed out waiting for {what}")


@contextmanager
def qcluster(env, stop_timeout: float = 20):
    """`manage.py qcluster` with `env` (production settings, REDIS_URL for the broker); stopped
    on exit (killed if it has not stopped after `stop_timeout` seconds)."""
    cluster = subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"], cwd=ROOT, env=env, start_new_session=True
    )
    try:
        yield cluster
    finally:
        os.killpg(cluster.pid, signal.SIGTERM)
        try:
            cluster.wait(timeout=stop_timeout)
        except subprocess.TimeoutExpired:
            os.killpg(cluster.pid, signal.SIGKILL)


def group_cpu_s(pgid: int) -> float:
    """CPU seconds (user + system) used so far by the live processes of a process group, such
    as a `qcluster` or a gunicorn started in a new session. Linux /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # exited meanwhile
        if int(fields[2]) == pgid:  # fields after the name: state ppid pgrp ... utime stime
            total += int(fields[11]) + int(fields[12])
    return total / ticks


def percentile(ordered: list[float], p: float) -> float:
    """The nearest-rank percentile `p` (0..1) of an ascending list."""
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))]


def timed_requests(
    port: int,
    method: str,
    path: str,
    body: bytes | None,
    headers: dict,
    clients: int,
    seconds: float,
) -> tuple[list[float], float]:
    """`clients` threads with keep-alive connections issue requests for `seconds`; returns each
    request's latency (s) and the elapsed time. Any non-2xx answer aborts the benchmark."""
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def worker():
        connection = HTTPConnection("127.0.0.1", port, timeout=30)
        mine = []
        while time.monotonic() < stop_at:
            started = time.perf_counter()
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            response.read()
            mine.append(time.perf_counter() - started)
            if response.status >= 300:
                errors.append(f"{response.status} on {path}")
                break
        connection.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - began
    if errors:
        raise RuntimeError(errors[0])
    return latencies, elapsed


def summary(latencies: list[float], elapsed: float) -> dict:
    """Requests/s and latency percentiles (ms)."""
    ordered = sorted(latencies)
    return {
        "requests": len(ordered),
        "rps": round(len(ordered) / elapsed, 1),
        "p50_ms": round(percentile(ordered, 0.50) * 1000, 2),
        "p99_ms": round(percentile(ordered, 0.99) * 1000, 2),
    }


def record(name: str, ratio: float, goal: float, better: str, anchor: str, detail: dict):
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    results[name] = {
        "ratio": round(ratio, 4),
        "goal": goal,
        "better": better,
        "anchor": anchor,
        "detail": detail,
    }
    RESULTS.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    met = ratio >= goal if better == "higher" else ratio <= goal
    print(
        f"{name:28} ratio {ratio:8.3f}  goal {'≥' if better == 'higher' else '≤'} {goal}  "
        f"{'met' if met else 'NOT MET'}  (anchor: {anchor})"
    )
    print("   " + json.dumps(detail))
