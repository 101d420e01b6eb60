"""Report a job's energy to costsite, from inside the job. Standard library only: copy this
file next to your training script.

    from costsite_tracker import Tracker

    with Tracker("https://costs.example.com", token="cst_...", org="ml-team", name="llama-ft",
                 provider="aws", region="us-east-1"):
        train()

While the job runs, a background thread reads the accelerators' power (by default the sum of
`nvidia-smi --query-gpu=power.draw`) every `sample_s` seconds, integrates it into energy, and
every `report_s` seconds (and at the end) sends the cumulative energy to
`POST /api/v1/orgs/<org>/carbon/records/` with the same external id, so costsite keeps one
record per job with its latest totals. Network errors are retried at the next report and never
stop the job. Give `pue` and `intensity_g_per_kwh` when not on a catalogued cloud region.
"""

import json
import subprocess
import threading
import time
import urllib.error
import urllib.request
import uuid
from datetime import UTC, datetime


def nvidia_smi_watts() -> float:
    """Sum of the power draw of every NVIDIA GPU visible to this process."""
    out = subprocess.run(
        ["nvidia-smi", "--query-gpu=power.draw", "--format=csv,noheader,nounits"],  # noqa: S607
        capture_output=True,
        text=True,
        timeout=10,
        check=True,
    ).stdout
    return sum(float(line) for line in out.split() if line.strip())


class Tracker:
    def __init__(
        self,
        url,
        token,
        org,
        name,
        *,
        provider=None,
        region=None,
        team=None,
        pue=None,
        intensity_g_per_kwh=None,
        sample_s=10.0,
        report_s=300.0,
        read_watts=nvidia_smi_watts,
        clock=time.monotonic,
        external_id=None,
    ):
        if not url.startswith(("http://", "https://")):
            raise ValueError("url must start with http:// or https://")
        self.endpoint = f"{url.rstrip('/')}/api/v1/orgs/{org}/carbon/records/"
        self.token, self.name = token, name
        self.extra = {
            k: v
            for k, v in {
                "provider": provider,
                "region": region,
                "team": team,
                "pue": pue,
                "intensity_g_per_kwh": intensity_g_per_kwh,
            }.items()
            if v is not None
        }
        self.sample_s, self.report_s = sample_s, report_s
        self.read_watts, self.clock = read_watts, clock
        self.external_id = external_id or f"tracker:{uuid.uuid4()}"
        self.started_at = datetime.now(UTC)
        self.energy_kwh = 0.0
        self._last = None  # (time, watts)
        self._stop = threading.Event()
        self._thread = None
        self.last_error = None

    def sample(self) -> None:
        now, watts = self.clock(), self.read_watts()
        if self._last is not None:
            then, before = self._last
            self.energy_kwh += (before + watts) / 2 * (now - then) / 3_600_000
        self._last = (now, watts)

    def report(self, ended=False) -> dict | None:
        body = {
            "name": self.name,
            "external_id": self.external_id,
            "started_at": self.started_at.isoformat(),
            "energy_kwh": self.energy_kwh,
            **self.extra,
        }
        if ended:
            body["ended_at"] = datetime.now(UTC).isoformat()
        request = urllib.request.Request(  # noqa: S310 - http(s) only, checked in __init__
            self.endpoint,
            data=json.dumps(body).encode(),
            method="POST",
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                self.last_error = None
                return json.loads(response.read())
        except (urllib.error.URLError, OSError, ValueError) as exc:
            self.last_error = exc
            return None

    def _run(self):
        next_report = self.clock() + self.report_s
        while not self._stop.wait(self.sample_s):
            try:
                self.sample()
            except (OSError, subprocess.SubprocessError, ValueError) as exc:
                self.last_error = exc
            if self.clock() >= next_report:
                self.report()
                next_report = self.clock() + self.report_s

    def start(self):
        self.sample()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> dict | None:
        self._stop.set()
        if self._thread:
            self._thread.join()
        self.sample()
        return self.report(ended=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False
