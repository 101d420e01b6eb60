"""Sending one payload over one channel. No retries here: `delivery.py` decides those."""

import hashlib
import hmac
import http.client
import json
import smtplib
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import send_mail

from costsite.notify import ssrf
from costsite.notify.models import Channel, ChannelKind

RETRYABLE_HTTP = {408, 425, 429}


@dataclass(frozen=True)
class Outcome:
    ok: bool
    retryable: bool = False
    http_status: int | None = None
    error: str = ""
    duration_ms: int = 0


def signature(secret: str, body: bytes) -> str:
    """Value of X-Costsite-Signature: `sha256=` + hex HMAC-SHA256 of the raw body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def encode(payload: dict) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str).encode()


def slack_body(payload: dict) -> bytes:
    lines = [f"*{payload['title']}*", payload.get("text", "")]
    if payload.get("url"):
        lines.append(payload["url"])
    return encode({"text": "\n".join(line for line in lines if line)})


def http_outcome(url: str, body: bytes, headers: dict) -> Outcome:
    started = time.monotonic()

    def elapsed():
        return int((time.monotonic() - started) * 1000)

    try:
        status, response_body = ssrf.post(
            url, body, headers, timeout=settings.COSTSITE_WEBHOOK_TIMEOUT_S
        )
    except ssrf.BlockedDestination as exc:
        return Outcome(ok=False, retryable=False, error=str(exc), duration_ms=elapsed())
    except TimeoutError:
        return Outcome(
            ok=False,
            retryable=True,
            error=f"Timed out after {settings.COSTSITE_WEBHOOK_TIMEOUT_S:g} s.",
            duration_ms=elapsed(),
        )
    except OSError as exc:  # refused, reset, TLS, or a host name that did not resolve
        return Outcome(
            ok=False, retryable=True, error=f"Connection failed: {exc}", duration_ms=elapsed()
        )
    except http.client.HTTPException as exc:  # the answer is not HTTP (or is cut short)
        return Outcome(
            ok=False,
            retryable=True,
            error=f"Not a valid HTTP answer: {type(exc).__name__} {str(exc)[:200]}".strip(),
            duration_ms=elapsed(),
        )
    if 200 <= status < 300:
        return Outcome(ok=True, http_status=status, duration_ms=elapsed())
    snippet = response_body[:200].decode("utf-8", "replace").strip()
    return Outcome(
        ok=False,
        retryable=status >= 500 or status in RETRYABLE_HTTP,
        http_status=status,
        error=f"HTTP {status}" + (f": {snippet}" if snippet else ""),
        duration_ms=elapsed(),
    )


def send_email(channel: Channel, payload: dict) -> Outcome:
    started = time.monotonic()
    body = payload.get("text", "")
    if payload.get("url"):
        body += f"\n\n{payload['url']}"
    try:
        send_mail(
            subject=f"[costsite] {payload['title']}",
            message=body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=channel.emails,
        )
    except (smtplib.SMTPException, OSError) as exc:
        return Outcome(
            ok=False,
            retryable=True,
            error=f"Email failed: {exc}",
            duration_ms=int((time.monotonic() - started) * 1000),
        )
    return Outcome(ok=True, duration_ms=int((time.monotonic() - started) * 1000))


def send(channel: Channel, payload: dict, delivery_id: int) -> Outcome:
    if channel.kind == ChannelKind.EMAIL:
        return send_email(channel, payload)
    headers = {"Content-Type": "application/json", "User-Agent": "costsite-webhook/1"}
    if channel.kind == ChannelKind.SLACK:
        return http_outcome(channel.target, slack_body(payload), headers)
    body = encode(payload)
    headers |= {
        "X-Costsite-Event": payload["event"],
        # The same on every attempt: receivers de-duplicate on it (older payloads have no id).
        "X-Costsite-Delivery": payload.get("id", str(delivery_id)),
        "X-Costsite-Signature": signature(channel.secret, body),
    }
    return http_outcome(channel.target, body, headers)
