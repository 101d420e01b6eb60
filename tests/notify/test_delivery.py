"""Deliveries to a real HTTP server: signatures, retries with backoff, permanent failure."""

import hashlib
import hmac
import json
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from costsite.notify import delivery as delivery_module
from costsite.notify import tasks
from costsite.notify.channels import create_channel
from costsite.notify.delivery import MAX_ATTEMPTS, notify, send_test
from costsite.notify.models import Channel, Delivery, DeliveryStatus
from tests.conftest import api_client


@pytest.fixture
def run_on_commit(django_capture_on_commit_callbacks):
    def run(fn, *args):
        with django_capture_on_commit_callbacks(execute=True):
            return fn(*args)

    return run


def due_now(delivery):
    """Pretend the backoff has passed."""
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())


def test_webhook_is_signed_with_the_channel_secret(org_a, receiver, run_on_commit):
    channel = create_channel(org_a, "hook", "webhook", receiver.url)
    sent = run_on_commit(send_test, channel)
    sent.refresh_from_db()
    assert sent.status == DeliveryStatus.DELIVERED and sent.http_status == 200
    request = receiver.requests[0]
    expected = (
        "sha256=" + hmac.new(channel.secret.encode(), request["body"], hashlib.sha256).hexdigest()
    )
    assert request["headers"]["X-Costsite-Signature"] == expected
    assert request["headers"]["X-Costsite-Event"] == "test"
    assert request["headers"]["X-Costsite-Delivery"] == sent.payload["id"]
    payload = json.loads(request["body"])
    assert payload["event"] == "test" and payload["organization"] == "org-a"
    assert sent.duration_ms is not None
    channel.refresh_from_db()
    assert channel.last_success_at is not None and channel.status == "ok"


def test_retries_after_500_then_succeeds(org_a, receiver, run_on_commit):
    receiver.statuses = [500, 503]
    channel = create_channel(org_a, "hook", "webhook", receiver.url)
    sent = run_on_commit(send_test, channel)
    sent.refresh_from_db()
    assert sent.status == DeliveryStatus.RETRYING and sent.http_status == 500
    assert sent.next_attempt_at > timezone.now() + timedelta(seconds=20)
    assert tasks.retry_due_deliveries() == 0  # not due yet
    due_now(sent)
    assert tasks.retry_due_deliveries() == 1
    sent.refresh_from_db()
    assert sent.status == DeliveryStatus.RETRYING and sent.http_status == 503
    due_now(sent)
    tasks.retry_due_deliveries()
    sent.refresh_from_db()
    assert sent.status == DeliveryStatus.DELIVERED and sent.attempts == 3
    assert [a["http_status"] for a in sent.attempt_log] == [500, 503, 200]
    assert len(receiver.requests) == 3
    # every retry re-sends the same signed body
    assert len({r["body"] for r in receiver.requests}) == 1


def test_backoff_grows_between_attempts(org_a, receiver, run_on_commit):
    receiver.statuses = [500] * 3
    channel = create_channel(org_a, "hook", "webhook", receiver.url)
    sent = run_on_commit(send_test, channel)
    waits = []
    for _ in range(2):
        sent.refresh_from_db()
        waits.append(sent.next_attempt_at - timezone.now())
        due_now(sent)
        tasks.retry_due_deliveries()
    assert waits[1] > waits[0]


def test_gives_up_after_the_last_attempt_and_marks_the_channel(org_a, receiver, run_on_commit):
    receiver.statuses = [500] * MAX_ATTEMPTS
    channel = create_channel(org_a, "hook", "webhook", receiver.url)
    sent = run_on_commit(send_test, channel)
    for _ in range(MAX_ATTEMPTS - 1):
        due_now(sent)
        tasks.retry_due_deliveries()
    sent.refresh_from_db()
    assert sent.status == DeliveryStatus.FAILED and sent.attempts == MAX_ATTEMPTS
    channel.refresh_from_db()
    assert channel.status == "failing" and "HTTP 500" in channel.last_error
    due_now(sent)
    assert tasks.retry_due_deliveries() == 0  # failed for good: not retried
    assert len(receiver.requests) == MAX_ATTEMPTS
    # the next success clears the failing mark
    run_on_commit(send_test, channel)
    channel.refresh_from_db()
    assert channel.status == "ok"


def test_client_errors_are_not_retried(org_a, receiver, run_on_commit):
    receiver.statuses = [404]
    channel = create_channel(org_a, "hook", "webhook", receiver.url)
    sent = run_on_commit(send_test, channel)
    sent.refresh_from_db()
    assert sent.status == DeliveryStatus.FAILED and sent.attempts == 1
    assert "HTTP 404" in sent.error


def test_a_slow_target_times_out_and_is_retried(org_a, receiver, settings, run_on_commit):
    settings.COSTSITE_WEBHOOK_TIMEOUT_S = 0.3
    receiver.delay_s = 1.0
    channel = create_channel(org_a, "hook", "webhook", receiver.url)
    sent = run_on_commit(send_test, channel)
    sent.refresh_from_db()
    assert sent.status == DeliveryStatus.RETRYING
    assert "Timed out" in sent.error and sent.duration_ms < 1000


def test_a_closed_port_is_a_retryable_connection_error(org_a, settings, run_on_commit):
    settings.COSTSITE_WEBHOOK_ALLOW_PRIVATE = True
    channel = create_channel(org_a, "hook", "webhook", "http://127.0.0.1:9/closed")
    sent = run_on_commit(send_test, channel)
    sent.refresh_from_db()
    assert sent.status == DeliveryStatus.RETRYING and "Connection failed" in sent.error


def test_one_failing_channel_does_not_hold_back_the_others(
    org_a, receiver, run_on_commit, settings
):
    good = create_channel(org_a, "good", "webhook", receiver.url)
    bad = create_channel(org_a, "bad", "webhook", "http://127.0.0.1:9/closed")
    sent = run_on_commit(notify, [bad, good], "budget.threshold", "Budget at 80%", "details")
    statuses = {d.channel_id: Delivery.objects.get(pk=d.pk).status for d in sent}
    assert statuses == {bad.pk: DeliveryStatus.RETRYING, good.pk: DeliveryStatus.DELIVERED}


def test_disabled_channels_get_nothing(org_a, receiver, run_on_commit):
    channel = create_channel(org_a, "hook", "webhook", receiver.url, enabled=False)
    assert run_on_commit(notify, [channel], "x", "t", "") == []


def test_slack_channel_posts_text(org_a, receiver, run_on_commit):
    channel = create_channel(org_a, "slack", "slack", receiver.url)
    run_on_commit(
        notify, [channel], "budget.threshold", "Budget at 80%", "Research: $800 of $1,000"
    )
    body = json.loads(receiver.requests[0]["body"])
    assert body == {"text": "*Budget at 80%*\nResearch: $800 of $1,000"}
    assert "X-Costsite-Signature" not in receiver.requests[0]["headers"]


def test_email_channel_sends_mail(org_a, run_on_commit):
    channel = create_channel(org_a, "mail", "email", "ops@example.com, lead@example.com")
    sent = run_on_commit(send_test, channel)
    sent.refresh_from_db()
    assert sent.status == DeliveryStatus.DELIVERED
    assert mail.outbox[0].to == ["ops@example.com", "lead@example.com"]
    assert "Test message" in mail.outbox[0].subject


def test_a_claimed_delivery_is_not_sent_twice(org_a, receiver, run_on_commit):
    channel = create_channel(org_a, "hook", "webhook", receiver.url)
    sent = run_on_commit(send_test, channel)
    assert tasks.deliver(sent.pk) == "not due or already claimed"
    assert len(receiver.requests) == 1


def test_an_attempt_abandoned_by_a_dead_worker_is_retried(org_a, receiver):
    channel = create_channel(org_a, "hook", "webhook", receiver.url)
    stuck = Delivery.objects.create(
        organization=org_a,
        channel=channel,
        event="test",
        payload=delivery_module.build_payload(org_a, "test", "t", "x"),
        status=DeliveryStatus.SENDING,
        attempts=1,
        claimed_at=timezone.now() - delivery_module.STALE_AFTER - timedelta(seconds=1),
    )
    assert tasks.retry_due_deliveries() == 1
    stuck.refresh_from_db()
    assert stuck.status == DeliveryStatus.DELIVERED and stuck.attempts == 2


def test_channel_api_shows_the_secret_once_and_logs_deliveries(org_a, alice, receiver):
    client = api_client(user=alice)
    created = client.post(
        "/api/v1/orgs/org-a/channels/", {"name": "hook", "kind": "webhook", "target": receiver.url}
    )
    assert created.status_code == 201
    secret = created.json()["secret"]
    assert len(secret) == 64
    channel_id = created.json()["id"]
    assert client.get(f"/api/v1/orgs/org-a/channels/{channel_id}/").json()["secret"] is None
    test = client.post(f"/api/v1/orgs/org-a/channels/{channel_id}/test")
    assert test.status_code == 202
    log = client.get(f"/api/v1/orgs/org-a/channels/{channel_id}/deliveries/").json()["results"]
    assert [d["event"] for d in log] == ["test"]
    rotated = client.post(f"/api/v1/orgs/org-a/channels/{channel_id}/rotate-secret/").json()[
        "secret"
    ]
    assert rotated != secret and Channel.objects.get(pk=channel_id).secret == rotated


def test_channel_kind_cannot_change_and_targets_are_validated(org_a, alice):
    client = api_client(user=alice)
    created = client.post(
        "/api/v1/orgs/org-a/channels/", {"name": "m", "kind": "email", "target": "ops@example.com"}
    ).json()
    response = client.patch(f"/api/v1/orgs/org-a/channels/{created['id']}/", {"kind": "webhook"})
    assert response.status_code == 400 and "kind" in response.json()
    bad = client.post(
        "/api/v1/orgs/org-a/channels/", {"name": "m", "kind": "email", "target": "not-an-email"}
    )
    assert bad.status_code == 400 and "target" in bad.json()
    bad = client.post("/api/v1/orgs/org-a/channels/", {"name": "m", "kind": "pager", "target": "x"})
    assert bad.status_code == 400 and "kind" in bad.json()


def test_rotating_an_email_channel_secret_is_a_conflict(org_a, alice):
    channel = create_channel(org_a, "m", "email", "ops@example.com")
    response = api_client(user=alice).post(
        f"/api/v1/orgs/org-a/channels/{channel.pk}/rotate-secret/"
    )
    assert response.status_code == 409


def test_channel_page_shows_the_delivery_log(org_a, alice, client, receiver, run_on_commit):
    receiver.statuses = [500]
    channel = create_channel(org_a, "hook", "webhook", receiver.url)
    client.force_login(alice)
    run_on_commit(client.post, f"/o/org-a/channels/{channel.pk}/test/")
    page = client.get(f"/o/org-a/channels/{channel.pk}/").content.decode()
    assert "Waiting to retry" in page and "HTTP 500" in page


def test_viewers_do_not_see_webhook_urls(org_a, alice, bob, client):
    channel = create_channel(
        org_a, "slack", "slack", "https://hooks.slack.com/services/T0/B0/SECRET"
    )
    as_viewer = api_client(user=bob).get(f"/api/v1/orgs/org-a/channels/{channel.pk}/").json()
    assert as_viewer["target"] == "https://hooks.slack.com/…"
    as_owner = api_client(user=alice).get(f"/api/v1/orgs/org-a/channels/{channel.pk}/").json()
    assert as_owner["target"].endswith("/SECRET")
    client.force_login(bob)
    assert "SECRET" not in client.get("/o/org-a/channels/").content.decode()
    assert "SECRET" not in client.get(f"/o/org-a/channels/{channel.pk}/").content.decode()
