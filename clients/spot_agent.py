"""Let a training job on a spot instance survive interruptions, from inside the job. Standard
library only (Python 3.9+): copy this file next to your training script.

    from spot_agent import SpotAgent

    with SpotAgent(checkpoint_every_steps=500) as agent:  # settings from COSTSITE_* variables
        step = load(agent.resume_from) if agent.resume_from else 0
        while step < total_steps:
            step += 1
            train_one_step()
            if agent.step(step, checkpoint=save):  # save(step) -> uri, run in this thread
                break

A background thread polls the instance metadata for an interruption notice (AWS IMDSv2
`spot/instance-action`, GCP `instance/preempted`) every `notice_every_s` seconds and reports a
notice once to costsite; it reads costsite's directive for this instance every
`directive_every_s` seconds and sends progress (the latest step and the GPU samples given to
`add_sample()`) at most every `progress_every_s` seconds. It never touches the model: `step()`
calls your checkpoint callback in the training thread when a checkpoint is due (a notice, a
`checkpoint` directive, every `checkpoint_every_steps` steps or `checkpoint_every_seconds`
seconds), reports the checkpoint, and returns True when the job should stop (a `stop`
directive, or the instance is about to be reclaimed and its checkpoint is written).
`agent.resume_from` / `agent.resume_step` name the checkpoint to resume from (from the first
directive); `agent.checkpoint_step` is the latest checkpoint's step. Network errors are logged
and retried; they never stop the job.

Settings: url, org, fleet_id, token (or COSTSITE_URL, COSTSITE_ORG, COSTSITE_FLEET_ID,
COSTSITE_TOKEN); cloud "aws", "gcp" or "none" (COSTSITE_CLOUD, detected by default);
metadata_url (COSTSITE_METADATA_URL, the cloud's own by default); instance_id
(COSTSITE_INSTANCE_ID, from the metadata by default, the host name without a cloud).
"""

from __future__ import annotations

import http.client
import json
import logging
import os
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime, timezone

log = logging.getLogger("costsite.spot_agent")

METADATA_URLS = {"aws": "http://169.254.169.254", "gcp": "http://metadata.google.internal"}
METADATA_PATHS = {"aws": "/latest/meta-data/", "gcp": "/computeMetadata/v1/instance/"}
ERRORS = (OSError, ValueError)  # network errors and timeouts are OSErrors; bad JSON ValueError

_proxied = urllib.request.build_opener()
_direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # metadata: no proxy


def _send(opener, method, url, headers, timeout, body=None):
    """(status, body) of one request: HTTP errors are answers, network errors raise OSError."""
    request = urllib.request.Request(url, data=body, method=method, headers=headers)  # noqa: S310 - http(s) checked
    try:
        with opener.open(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except http.client.HTTPException as exc:  # a garbled answer
        raise OSError(f"{method} {url}: {exc!r}") from exc


def _http_url(url):
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"{url!r} must start with http:// or https://")
    return url.rstrip("/")


def _ok(status, what):
    if status != 200:
        raise OSError(f"{what}: HTTP {status}")


class Metadata:
    """Interruption notices and the instance id from the metadata service of `cloud`."""

    token_ttl_s = 21600  # IMDSv2 token lifetime; refreshed a minute before it ends

    def __init__(self, cloud, url=None, timeout=2.0, clock=time.monotonic):
        if cloud not in METADATA_URLS:
            raise ValueError(f"cloud must be one of {sorted(METADATA_URLS)} or 'none'")
        self.cloud, self.url = cloud, _http_url(url or METADATA_URLS[cloud])
        self.timeout, self.clock = timeout, clock
        self._token, self._token_expires = None, 0.0

    def _get(self, path):
        if self.cloud == "gcp":
            headers = {"Metadata-Flavor": "Google"}
        else:
            headers = {"X-aws-ec2-metadata-token": self._aws_token()}
        url = self.url + METADATA_PATHS[self.cloud] + path
        return _send(_direct, "GET", url, headers, self.timeout)

    def _aws_token(self):
        now = self.clock()
        if self._token is None or now >= self._token_expires:
            status, body = _send(
                _direct,
                "PUT",
                f"{self.url}/latest/api/token",
                {"X-aws-ec2-metadata-token-ttl-seconds": str(self.token_ttl_s)},
                self.timeout,
            )
            _ok(status, "IMDSv2 token")
            self._token, self._token_expires = body.decode(), now + self.token_ttl_s - 60
        return self._token

    def instance_id(self) -> str:
        status, body = self._get("id" if self.cloud == "gcp" else "instance-id")
        _ok(status, "instance id")
        return body.decode().strip()

    def notice(self) -> dict | None:
        """{"action": ..., "time": iso8601 or None} when the instance is about to be reclaimed."""
        if self.cloud == "gcp":
            status, body = self._get("preempted")
            _ok(status, "preempted")
            return {"action": "terminate", "time": None} if body.strip() == b"TRUE" else None
        status, body = self._get("spot/instance-action")
        if status == 404:
            return None
        _ok(status, "spot/instance-action")
        notice = json.loads(body)
        return {"action": notice.get("action", "terminate"), "time": notice.get("time")}


def detect_cloud(metadata_url=None, timeout=0.5) -> str:
    """The cloud ("aws" or "gcp") whose metadata service answers quickly, else "none"."""
    for cloud in METADATA_URLS:
        try:
            Metadata(cloud, metadata_url, timeout).instance_id()
        except ERRORS:
            continue
        return cloud
    return "none"


class SpotAgent:
    max_samples = 1000  # GPU samples kept while costsite cannot be reached

    def __init__(
        self,
        url=None,
        org=None,
        fleet_id=None,
        token=None,
        *,
        cloud=None,
        metadata_url=None,
        instance_id=None,
        notice_every_s=5.0,
        directive_every_s=30.0,
        progress_every_s=60.0,
        checkpoint_every_steps=None,
        checkpoint_every_seconds=None,
        timeout=10.0,
        clock=time.monotonic,
    ):
        env = os.environ.get
        url, org = url or env("COSTSITE_URL"), org or env("COSTSITE_ORG")
        fleet_id, token = fleet_id or env("COSTSITE_FLEET_ID"), token or env("COSTSITE_TOKEN")
        if not (url and org and fleet_id and token):
            raise ValueError("url, org, fleet_id and token are required (or COSTSITE_* variables)")
        self.endpoint = f"{_http_url(url)}/api/v1/orgs/{org}/spot/fleets/{fleet_id}/"
        self.token, self.timeout, self.clock = token, timeout, clock
        self.notice_every_s, self.directive_every_s = notice_every_s, directive_every_s
        self.progress_every_s = progress_every_s
        self.checkpoint_every_steps = checkpoint_every_steps
        self.checkpoint_every_seconds = checkpoint_every_seconds

        metadata_url = metadata_url or env("COSTSITE_METADATA_URL")
        cloud = cloud or env("COSTSITE_CLOUD") or detect_cloud(metadata_url)
        self.metadata = None if cloud == "none" else Metadata(cloud, metadata_url, clock=clock)
        self.instance_id = instance_id or env("COSTSITE_INSTANCE_ID") or self._own_instance_id()

        self.resume_from = self.resume_step = None  # from the first directive, in start()
        self.action = "continue"  # the latest directive
        self.notice = None  # the interruption notice, once seen
        self._reported_notice = None
        self._checkpoint_requested = False
        self._notice_checkpointed = False
        self.checkpoint_step = 0  # the latest checkpoint's step (resume_step at start)
        self._checkpoint_at = clock()
        self._pending_checkpoint = None  # a checkpoint report still to deliver
        self._step = None
        self._samples = []
        self._lock = threading.Lock()
        self._sending = threading.Lock()
        self._directive_at = self._progress_at = float("-inf")
        self._stop = threading.Event()
        self._thread = None

    def _own_instance_id(self):
        if self.metadata is not None:
            try:
                return self.metadata.instance_id()
            except ERRORS as exc:
                log.warning("spot agent: no instance id from the metadata (%s)", exc)
        return socket.gethostname()

    # Training thread.

    def start(self):
        """Read the first directive (resume_from, resume_step), then poll in the background."""
        answer = self._poll_directive() or {}
        self.resume_from, self.resume_step = answer.get("resume_from"), answer.get("resume_step")
        if self.resume_step is not None:
            self.checkpoint_step = self.resume_step
        self._checkpoint_at = self.clock()
        self._thread = threading.Thread(target=self._run, name="spot-agent", daemon=True)
        self._thread.start()
        return self

    def stop(self):
        """Stop polling; deliver a pending checkpoint report and the final step."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self._send_pending_checkpoint()
        if self._step is not None:
            self.report_progress(self._step)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False

    def step(self, step, checkpoint=None) -> bool:
        """Call once per training step. When a checkpoint is due, calls `checkpoint(step)`
        (which writes it and returns its URI) here and reports it. True: stop the job now."""
        self._step = step
        if self.action == "stop":
            return True
        notice = self.notice
        due = (
            (notice is not None and not self._notice_checkpointed)
            or self._checkpoint_requested
            or self._interval_passed(step)
        )
        if checkpoint is not None and due:
            self._notice_checkpointed = notice is not None
            self.report_checkpoint(step, checkpoint(step))
        return notice is not None

    def _interval_passed(self, step):
        steps, seconds = self.checkpoint_every_steps, self.checkpoint_every_seconds
        return (steps is not None and step - self.checkpoint_step >= steps) or (
            seconds is not None and self.clock() - self._checkpoint_at >= seconds
        )

    def add_sample(self, gpu_utilization, gpu_memory_used_gb):
        """Record GPU utilisation (0-100) and memory now; sent with the next progress report."""
        sample = {
            "at": datetime.now(timezone.utc).isoformat(),  # noqa: UP017 - Python 3.9
            "gpu_utilization": gpu_utilization,
            "gpu_memory_used_gb": gpu_memory_used_gb,
        }
        with self._lock:
            self._samples.append(sample)
            del self._samples[: -self.max_samples]

    def report_checkpoint(self, step, uri) -> bool:
        """Tell costsite the checkpoint of `step` is at `uri`; retried in the background."""
        self.checkpoint_step, self._checkpoint_at = step, self.clock()
        self._checkpoint_requested = False
        with self._lock:
            self._pending_checkpoint = {"step": step, "uri": uri, "instance_id": self.instance_id}
        return self._send_pending_checkpoint()

    def report_progress(self, step) -> bool:
        """Send `step` and the pending GPU samples now."""
        self._progress_at = self.clock()
        with self._lock:
            samples, self._samples = self._samples, []
        body = {"step": step, "instance_id": self.instance_id}
        if samples:
            body["samples"] = samples
        if self._api("POST", "progress/", body) is None:
            with self._lock:
                self._samples[:0] = samples  # they go with the next report
                del self._samples[: -self.max_samples]
            return False
        return True

    # Background thread.

    def _run(self):
        while True:
            try:
                self._poll()
            except Exception:  # keep polling whatever happens: the job must not lose its agent
                log.exception("spot agent: poll failed")
            if self._stop.wait(self.notice_every_s):
                return

    def _poll(self):
        if self.metadata is not None:
            self._poll_notice()
        now = self.clock()
        if now - self._directive_at >= self.directive_every_s:
            self._poll_directive()
        if self._step is not None and now - self._progress_at >= self.progress_every_s:
            self.report_progress(self._step)
        self._send_pending_checkpoint()

    def _poll_notice(self):
        try:
            notice = self.metadata.notice()
        except ERRORS as exc:
            log.warning("spot agent: metadata unavailable (%s)", exc)
            return
        if notice is None:
            return
        if notice != self.notice:
            log.warning("spot agent: interruption notice %s", notice)
        self.notice = notice
        if notice != self._reported_notice:
            body = {
                "instance_id": self.instance_id,
                "kind": "interruption_warning",
                "action": notice["action"],
                "action_time": notice["time"],
            }
            if self._api("POST", "notices/", body) is not None:
                self._reported_notice = notice

    def _poll_directive(self):
        self._directive_at = self.clock()
        query = urllib.parse.urlencode({"instance_id": self.instance_id})
        answer = self._api("GET", f"directive?{query}")
        if answer:
            self.action = answer.get("action", "continue")
            if self.action == "checkpoint":
                self._checkpoint_requested = True
        return answer

    def _send_pending_checkpoint(self) -> bool:
        with self._sending:  # both threads send: one at a time, so each report goes once
            body = self._pending_checkpoint
            if body is None:
                return True
            if self._api("POST", "checkpoints/", body) is None:
                return False
            with self._lock:
                if self._pending_checkpoint is body:
                    self._pending_checkpoint = None
            return True

    def _api(self, method, path, body=None):
        """costsite's JSON answer, or None after a network or server error (worth retrying).
        A client error is logged and answers {}: retrying it would not help."""
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}
        data = None
        if body is not None:
            data, headers["Content-Type"] = json.dumps(body).encode(), "application/json"
        try:
            status, answer = _send(
                _proxied, method, self.endpoint + path, headers, self.timeout, data
            )
        except OSError as exc:
            log.warning("spot agent: %s %s failed (%s)", method, path, exc)
            return None
        if 400 <= status < 500 and status != 429:
            log.error("spot agent: %s %s: HTTP %s %s", method, path, status, answer[:200])
            return {}
        if status >= 300:
            log.warning("spot agent: %s %s: HTTP %s", method, path, status)
            return None
        try:
            return json.loads(answer) if answer.strip() else {}
        except ValueError:
            log.warning("spot agent: %s %s: not JSON", method, path)
            return None
