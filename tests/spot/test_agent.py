"""The dependency-free spot agent against fake metadata services and a fake costsite API."""

import json
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "clients"))
from spot_agent import Metadata, SpotAgent, detect_cloud

CLIENTS = Path(__file__).resolve().parents[2] / "clients"
FLEET = "/api/v1/orgs/ml-team/spot/fleets/7/"
NOTICE = {"action": "terminate", "time": "2026-11-22T20:00:00Z"}
DOWN = "http://127.0.0.1:9"  # nothing listens there


class FakeServer:
    """A ThreadingHTTPServer on 127.0.0.1 whose answers come from `self.answer`."""

    def __init__(self):
        self.requests = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def handle_one(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length)) if length else None
                status, answer = fake.answer(self.command, self.path, self.headers, body)
                fake.requests.append((self.command, self.path, body, status))
                data = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_PUT = do_POST = handle_one

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, args=(0.01,), daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class FakeMetadata(FakeServer):
    """AWS IMDSv2 (tokens required) or GCP (Metadata-Flavor required), for one cloud."""

    def __init__(self, cloud):
        super().__init__()
        self.cloud, self.tokens, self.notice, self.preempted = cloud, [], None, False

    def answer(self, method, path, headers, body):
        if self.cloud == "aws" and (method, path) == ("PUT", "/latest/api/token"):
            if headers.get("X-aws-ec2-metadata-token-ttl-seconds") != "21600":
                return 400, b""
            self.tokens.append(f"token-{len(self.tokens)}")
            return 200, self.tokens[-1].encode()
        if self.cloud == "aws" and path.startswith("/latest/meta-data/"):
            if headers.get("X-aws-ec2-metadata-token") not in self.tokens:
                return 401, b""
            if path.endswith("/instance-id"):
                return 200, b"i-0abc"
            if path.endswith("/spot/instance-action") and self.notice:
                return 200, self.notice
        if self.cloud == "gcp" and path.startswith("/computeMetadata/v1/instance/"):
            if headers.get("Metadata-Flavor") != "Google":
                return 403, b""
            if path.endswith("/id"):
                return 200, b"4242"
            if path.endswith("/preempted"):
                return 200, b"TRUE" if self.preempted else b"FALSE"
        return 404, b""


class FakeApi(FakeServer):
    """costsite's spot endpoints for fleet 7 of ml-team; `down` answers 503."""

    def __init__(self):
        super().__init__()
        self.directive = {"action": "continue", "resume_from": None, "resume_step": None}
        self.down = False

    def answer(self, method, path, headers, body):
        if headers.get("Authorization") != "Bearer cst_test":
            return 401, {"detail": "bad token"}
        if self.down:
            return 503, b""
        if method == "GET" and path.startswith(FLEET + "directive?instance_id="):
            return 200, self.directive
        statuses = {"checkpoints/": 201, "progress/": 200, "notices/": 202}
        if method == "POST" and path.removeprefix(FLEET) in statuses:
            return statuses[path.removeprefix(FLEET)], {}
        return 404, {"detail": "not found"}

    def posted(self, what, status=None):
        """The bodies of the requests to `what` answered `status` (by default, successfully)."""
        return [
            body
            for method, path, body, answered in self.requests
            if path == FLEET + what and (answered == status if status else answered < 300)
        ]


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def wait_for(condition, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


@pytest.fixture(autouse=True)
def _no_costsite_environment(monkeypatch):
    for name in [name for name in os.environ if name.startswith("COSTSITE_")]:
        monkeypatch.delenv(name)


@pytest.fixture
def api():
    server = FakeApi()
    yield server
    server.close()


@pytest.fixture
def servers():
    started = []

    def start(cloud):
        started.append(FakeMetadata(cloud))
        return started[-1]

    yield start
    for server in started:
        server.close()


@pytest.fixture
def agent(api):
    """Started agents with fast polling, stopped at the end."""
    agents = []

    def make(**options):
        options = {"cloud": "none", "instance_id": "host-1", "notice_every_s": 0.01, **options}
        agents.append(SpotAgent(options.pop("url", api.url), "ml-team", 7, "cst_test", **options))
        return agents[-1].start()

    yield make
    for started in agents:
        started.stop()


def test_imdsv2_token_is_required_fetched_once_and_refreshed(servers):
    imds = servers("aws")
    with pytest.raises(urllib.error.HTTPError) as rejected:
        urllib.request.urlopen(f"{imds.url}/latest/meta-data/instance-id", timeout=2)
    assert rejected.value.code == 401
    clock = Clock()
    metadata = Metadata("aws", imds.url, clock=clock)
    assert metadata.instance_id() == "i-0abc"
    assert metadata.notice() is None
    imds.notice = NOTICE
    assert metadata.notice() == NOTICE
    assert len(imds.tokens) == 1
    clock.now = Metadata.token_ttl_s - 30  # within the last minute: a new token first
    assert metadata.notice() == NOTICE
    assert len(imds.tokens) == 2


@pytest.mark.parametrize("cloud", ["aws", "gcp"])
def test_the_cloud_and_instance_id_are_detected(servers, api, cloud):
    metadata = servers(cloud)
    agent = SpotAgent(api.url, "ml-team", 7, "cst_test", metadata_url=metadata.url)
    assert agent.metadata.cloud == cloud
    assert agent.instance_id == {"aws": "i-0abc", "gcp": "4242"}[cloud]
    assert detect_cloud(DOWN) == "none"


def test_no_notice_continues_without_checkpoints(servers, api, agent):
    imds = servers("aws")
    spot = agent(cloud="aws", metadata_url=imds.url, instance_id=None)
    saves = []
    for step in range(1, 6):
        assert spot.step(step, checkpoint=saves.append) is False
        time.sleep(0.01)
    assert saves == [] and api.posted("notices/") == [] and api.posted("checkpoints/") == []
    assert len(imds.tokens) == 1 and spot.instance_id == "i-0abc"


def test_a_notice_is_reported_once_then_checkpointed_in_the_training_thread(servers, api, agent):
    imds = servers("aws")
    spot = agent(cloud="aws", metadata_url=imds.url)
    assert spot.step(1, checkpoint=lambda step: "unused") is False
    imds.notice = NOTICE
    wait_for(lambda: api.posted("notices/"))
    calls = []

    def save(step):
        calls.append((step, threading.current_thread()))
        return f"s3://bucket/ckpt-{step}"

    assert spot.step(2, checkpoint=save) is True
    assert calls == [(2, threading.main_thread())]
    assert api.posted("checkpoints/") == [
        {"step": 2, "uri": "s3://bucket/ckpt-2", "instance_id": "host-1"}
    ]
    assert spot.step(3, checkpoint=save) is True and len(calls) == 1  # one checkpoint per notice
    time.sleep(0.05)  # more polls see the same notice
    assert api.posted("notices/") == [
        {
            "instance_id": "host-1",
            "kind": "interruption_warning",
            "action": "terminate",
            "action_time": "2026-11-22T20:00:00Z",
        }
    ]


def test_gcp_preemption_is_a_notice(servers, api, agent):
    metadata = servers("gcp")
    metadata.preempted = True
    spot = agent(cloud="gcp", metadata_url=metadata.url, instance_id=None)
    wait_for(lambda: api.posted("notices/"))
    assert api.posted("notices/")[0] == {
        "instance_id": "4242",
        "kind": "interruption_warning",
        "action": "terminate",
        "action_time": None,
    }
    assert spot.step(9, checkpoint=lambda step: "gs://b/9") is True
    assert api.posted("checkpoints/") == [{"step": 9, "uri": "gs://b/9", "instance_id": "4242"}]


def test_a_checkpoint_directive_checkpoints_once(api, agent):
    api.directive = {"action": "checkpoint", "resume_from": None, "resume_step": None}
    spot = agent()
    saves = []

    def save(step):
        saves.append(step)
        return f"file:///ckpt/{step}"

    assert spot.step(1, checkpoint=save) is False
    assert spot.step(2, checkpoint=save) is False
    assert saves == [1] and [body["step"] for body in api.posted("checkpoints/")] == [1]


def test_a_stop_directive_stops_the_job(api, agent):
    spot = agent(directive_every_s=0.01)
    assert spot.step(1) is False
    api.directive = {"action": "stop", "resume_from": None, "resume_step": None}
    wait_for(lambda: spot.step(2))
    assert api.posted("checkpoints/") == []


def test_resume_from_the_first_directive_and_regular_checkpoints(api, agent):
    api.directive = {"action": "continue", "resume_from": "s3://b/400", "resume_step": 400}
    clock = Clock()
    spot = agent(checkpoint_every_steps=100, checkpoint_every_seconds=3600, clock=clock)
    assert (spot.resume_from, spot.resume_step) == ("s3://b/400", 400)
    saves = []

    def save(step):
        saves.append(step)
        return f"s3://b/{step}"

    for step in range(401, 521):
        spot.step(step, checkpoint=save)
    clock.now = 3600
    spot.step(521, checkpoint=save)
    assert saves == [500, 521]


def test_progress_is_rate_limited_and_carries_samples(api, agent):
    clock = Clock()
    spot = agent(progress_every_s=60, clock=clock)
    spot.add_sample(gpu_utilization=91.5, gpu_memory_used_gb=30.25)
    spot.step(1)
    wait_for(lambda: api.posted("progress/"))
    first = api.posted("progress/")[0]
    assert first["step"] == 1 and first["instance_id"] == "host-1"
    assert [(s["gpu_utilization"], s["gpu_memory_used_gb"]) for s in first["samples"]] == [
        (91.5, 30.25)
    ]
    assert first["samples"][0]["at"].endswith("+00:00")
    spot.step(2)
    spot.add_sample(gpu_utilization=50, gpu_memory_used_gb=10.0)
    spot.step(3)
    time.sleep(0.05)  # several polls, all within the minute
    assert len(api.posted("progress/")) == 1
    clock.now = 60
    wait_for(lambda: len(api.posted("progress/")) == 2)
    second = api.posted("progress/")[1]
    assert second["step"] == 3 and [s["gpu_utilization"] for s in second["samples"]] == [50]
    spot.step(4)
    spot.stop()
    assert api.posted("progress/")[-1] == {"step": 4, "instance_id": "host-1"}


def test_an_unreachable_api_never_stops_training(agent, caplog):
    spot = agent(url=DOWN, checkpoint_every_steps=2, progress_every_s=0)
    assert spot.resume_from is None and spot.action == "continue"
    saves = []
    for step in range(1, 6):
        assert spot.step(step, checkpoint=lambda step: saves.append(step) or "x") is False
    spot.add_sample(gpu_utilization=1, gpu_memory_used_gb=1)
    spot.stop()
    assert saves == [2, 4]
    assert "failed" in caplog.text


def test_a_failed_checkpoint_report_is_retried(api, agent):
    spot = agent(checkpoint_every_steps=1)
    api.down = True
    spot.step(1, checkpoint=lambda step: "s3://b/1")
    wait_for(lambda: len(api.posted("checkpoints/", status=503)) >= 2)  # retried in the background
    api.down = False
    wait_for(lambda: api.posted("checkpoints/"))
    assert api.posted("checkpoints/") == [{"step": 1, "uri": "s3://b/1", "instance_id": "host-1"}]


def test_the_example_trains_and_resumes_from_its_checkpoint(servers, api, tmp_path):
    imds = servers("aws")
    env = {
        **os.environ,
        "COSTSITE_URL": api.url,
        "COSTSITE_ORG": "ml-team",
        "COSTSITE_FLEET_ID": "7",
        "COSTSITE_TOKEN": "cst_test",
        "COSTSITE_METADATA_URL": imds.url,
    }
    example = [sys.executable, str(CLIENTS / "examples" / "spot_training.py")]
    args = ["--step-seconds", "0", "--checkpoint-every", "4", "--checkpoint-dir", str(tmp_path)]

    def run(steps):
        subprocess.run([*example, "--steps", str(steps), *args], env=env, check=True, timeout=30)

    run(6)
    checkpoints = api.posted("checkpoints/")
    assert [(c["step"], c["instance_id"]) for c in checkpoints] == [(4, "i-0abc"), (6, "i-0abc")]
    assert api.posted("progress/")[-1]["step"] == 6
    latest = checkpoints[-1]
    api.directive = {"action": "continue", "resume_from": latest["uri"], "resume_step": 6}
    run(9)
    assert [c["step"] for c in api.posted("checkpoints/")] == [4, 6, 9]
    state = json.loads((tmp_path / "step-9.json").read_text())
    assert state["step"] == 9 and state["weight"] == pytest.approx(
        sum(0.5 / step for step in range(1, 10))
    )
    assert urlsplit(latest["uri"]).scheme == "file"
