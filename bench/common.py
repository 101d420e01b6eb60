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


def bench_organization(env, scope: str) -> str:
    """The catalogue, the organization `bench` and a token of its owner (the token text)."""
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


def load(
    port: int,
    method: str,
    path: str,
    body: bytes | None,
    headers: dict,
    clients: int,
    seconds: float,
) -> dict:
    """`clients` threads with keep-alive connections issue requests for `seconds`; returns
    requests/s and latency percentiles (ms). Any non-2xx answer aborts the benchmark."""
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
    latencies.sort()

    def pct(p):
        return round(latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000, 2)

    return {
        "requests": len(latencies),
        "rps": round(len(latencies) / elapsed, 1),
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
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
