"""Webhook targets that fail: down, slow, answering 5xx, and a worker killed mid-delivery.

Every attempt is in the delivery log, failures are retried with backoff, other deliveries and
other channels go on, and a delivered event is never sent again."""

import json
import os
import signal
import socket
import threading
from datetime import timedelta

import pytest
from django.core import mail
from django.db.models import F
from django.utils import timezone

from budgets import alerts
from budgets.models import Alert, AlertRule, Budget, Expense
from costsite.notify import delivery as delivery_module
from costsite.notify import tasks, transports
from costsite.notify.channels import create_channel
from costsite.notify.delivery import ABANDONED, MAX_ATTEMPTS, STALE_AFTER, notify, send_test
from costsite.notify.models import Delivery, DeliveryStatus
from tests.cluster import qcluster, wait_for
from tests.conftest import api_client
from tests.receiver import Receiver


@pytest.fixture
def run_on_commit(django_capture_on_commit_callbacks):
    def run(fn, *args):
        with django_capture_on_commit_callbacks(execute=True):
            return fn(*args)

    return run


@pytest.fixture
def closed_url():
    """A URL on 127.0.0.1 where nothing listens: connections are refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/down"


@pytest.fixture
def other_receiver(settings):
    settings.COSTSITE_WEBHOOK_ALLOW_PRIVATE = True
    server = Receiver()
    yield server
    server.close()


def retry_now(delivery):
    """Let the backoff pass, then run what the every-minute schedule runs."""
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    tasks.retry_due_deliveries()
    delivery.refresh_from_db()


def test_a_target_that_is_down_is_retried_with_growing_backoff_until_it_answers(
    org_a, receiver, closed_url, run_on_commit
):
    channel = create_channel(org_a, "hook", "webhook", closed_url)
    sent = run_on_commit(send_test, channel)
    sent.refresh_from_db()
    assert sent.status == DeliveryStatus.RETRYING
    first_wait = sent.next_attempt_at - timezone.now()
    retry_now(sent)
    second_wait = sent.next_attempt_at - timezone.now()
    assert sent.status == DeliveryStatus.RETRYING and second_wait > first_wait
    channel.target = receiver.url  # the target is back
    channel.save()
    retry_now(sent)
    assert sent.status == DeliveryStatus.DELIVERED and sent.attempts == 3
    outcomes = [(a["http_status"], a["error"][:17]) for a in sent.attempt_log]
    assert outcomes == [(None, "Connection failed"), (None, "Connection failed"), (200, "")]
    assert len(receiver.requests) == 1


def test_a_slow_target_times_out_and_the_retry_carries_the_same_idempotency_id(
    org_a, receiver, settings, run_on_commit
):
    settings.COSTSITE_WEBHOOK_TIMEOUT_S = 0.3
    receiver.delay_s = 1.0
    channel = create_channel(org_a, "hook", "webhook", receiver.url)
    sent = run_on_commit(send_test, channel)
    sent.refresh_from_db()
    assert sent.status == DeliveryStatus.RETRYING and "Timed out" in sent.error
    receiver.delay_s = 0
    retry_now(sent)
    assert sent.status == DeliveryStatus.DELIVERED
    assert [a["http_status"] for a in sent.attempt_log] == [None, 200]
    # The timed-out request reached the receiver too (at least once): it can de-duplicate.
    ids = {json.loads(r["body"])["id"] for r in receiver.requests}
    headers = {r["headers"]["X-Costsite-Delivery"] for r in receiver.requests}
    assert len(receiver.requests) == 2 and ids == headers == {sent.payload["id"]}


def test_every_attempt_and_its_outcome_is_on_the_channel_page_and_in_the_api(
    org_a, alice, client, receiver, run_on_commit
):
    receiver.statuses = [502, 503]
    channel = create_channel(org_a, "hook", "webhook", receiver.url)
    sent = run_on_commit(send_test, channel)
    retry_now(sent)
    retry_now(sent)
    assert sent.status == DeliveryStatus.DELIVERED
    log = api_client(user=alice).get(f"/api/v1/orgs/org-a/channels/{channel.pk}/deliveries/")
    attempts = log.json()["results"][0]["attempt_log"]
    assert [a["http_status"] for a in attempts] == [502, 503, 200]
    client.force_login(alice)
    page = client.get(f"/o/org-a/channels/{channel.pk}/").content.decode()
    assert "HTTP 502: receiver error" in page and "HTTP 503: receiver error" in page
    assert "HTTP 200" in page


def test_a_slow_webhook_does_not_hold_back_the_other_channels_of_the_same_alert(
    org_a, receiver, other_receiver, settings, run_on_commit
):
    settings.COSTSITE_WEBHOOK_TIMEOUT_S = 1.0
    receiver.delay_s = 2.0
    slow = create_channel(org_a, "slow", "webhook", receiver.url)
    fast = create_channel(org_a, "fast", "webhook", other_receiver.url)
    email = create_channel(org_a, "mail", "email", "ops@example.com")
    sent = run_on_commit(notify, [slow, fast, email], "budget.threshold_crossed", "80%", "x")
    by_channel = {d.channel_id: Delivery.objects.get(pk=d.pk) for d in sent}
    slow_attempt = by_channel[slow.pk]
    assert slow_attempt.status == DeliveryStatus.RETRYING and "Timed out" in slow_attempt.error
    slow_ended = slow_attempt.claimed_at + timedelta(milliseconds=slow_attempt.duration_ms)
    for channel in (fast, email):
        done = by_channel[channel.pk]
        assert done.status == DeliveryStatus.DELIVERED
        assert done.finished_at < slow_ended  # recorded while the slow one still waited
    assert len(other_receiver.requests) == 1 and len(mail.outbox) == 1


@pytest.fixture
def garbage_url():
    """A URL on 127.0.0.1 whose server answers every request with bytes that are not HTTP."""
    server = socket.create_server(("127.0.0.1", 0))

    def answer():
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return  # closed
            with conn:
                conn.recv(65536)
                conn.sendall(b"NOT HTTP AT ALL\r\n\r\n")

    threading.Thread(target=answer, daemon=True).start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}/garbage"
    server.close()


def test_an_answer_that_is_not_http_is_retried_and_the_other_channels_are_recorded(
    org_a, receiver, garbage_url, run_on_commit
):
    receiver.delay_s = 0.3  # the good channel's outcome comes in after the bad one's
    bad = create_channel(org_a, "bad", "webhook", garbage_url)
    good = create_channel(org_a, "good", "webhook", receiver.url)
    sent = run_on_commit(notify, [bad, good], "budget.threshold_crossed", "80%", "x")
    by_channel = {d.channel_id: Delivery.objects.get(pk=d.pk) for d in sent}
    assert by_channel[bad.pk].status == DeliveryStatus.RETRYING
    assert "Not a valid HTTP answer" in by_channel[bad.pk].error
    assert by_channel[good.pk].status == DeliveryStatus.DELIVERED
    assert len(receiver.requests) == 1


def test_an_unexpected_error_in_one_channel_is_a_failed_attempt_not_a_lost_outcome(
    org_a, receiver, run_on_commit, monkeypatch, caplog
):
    bad = create_channel(org_a, "bad", "webhook", receiver.url)
    good = create_channel(org_a, "good", "webhook", receiver.url)

    def send(channel, payload, delivery_id):
        if channel.pk == bad.pk:
            raise ValueError("a bug in a transport")
        return transports.send(channel, payload, delivery_id)

    monkeypatch.setattr(delivery_module, "send", send)
    sent = run_on_commit(notify, [bad, good], "budget.threshold_crossed", "80%", "x")
    by_channel = {d.channel_id: Delivery.objects.get(pk=d.pk) for d in sent}
    assert by_channel[bad.pk].status == DeliveryStatus.RETRYING
    assert by_channel[bad.pk].error == "Unexpected error: ValueError."
    assert by_channel[good.pk].status == DeliveryStatus.DELIVERED
    assert "a bug in a transport" in caplog.text  # the details are in the server log


def test_a_failing_delivery_does_not_hold_back_the_channels_next_ones(
    org_a, receiver, run_on_commit
):
    receiver.statuses = [500]
    channel = create_channel(org_a, "hook", "webhook", receiver.url)
    failing = run_on_commit(send_test, channel)
    following = run_on_commit(send_test, channel)
    failing.refresh_from_db()
    following.refresh_from_db()
    assert failing.status == DeliveryStatus.RETRYING
    assert following.status == DeliveryStatus.DELIVERED and following.attempts == 1
    retry_now(failing)
    assert failing.status == DeliveryStatus.DELIVERED and len(receiver.requests) == 3


def test_a_delivered_event_is_never_sent_again(org_a, receiver, run_on_commit):
    channel = create_channel(org_a, "hook", "webhook", receiver.url)
    sent = run_on_commit(send_test, channel)
    # A duplicated task, the retry schedule, even an old claim: none of them resends.
    assert tasks.deliver(sent.pk) == "not due or already claimed"
    assert tasks.deliver_all([sent.pk]) == "none due or all already claimed"
    Delivery.objects.filter(pk=sent.pk).update(
        next_attempt_at=timezone.now(), claimed_at=F("claimed_at") - STALE_AFTER * 2
    )
    assert tasks.retry_due_deliveries() == 0
    sent.refresh_from_db()
    assert sent.status == DeliveryStatus.DELIVERED and sent.attempts == 1
    assert len(receiver.requests) == 1


def abandon(delivery, attempts):
    """What a worker killed mid-send leaves behind, claimed longer ago than STALE_AFTER."""
    Delivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.SENDING,
        attempts=attempts,
        claimed_at=timezone.now() - STALE_AFTER - timedelta(seconds=1),
    )


def test_an_abandoned_attempt_is_logged_and_retried(org_a, receiver):
    channel = create_channel(org_a, "hook", "webhook", receiver.url)
    (stuck,) = notify([channel], "test", "t", "x")  # no commit callbacks: never sent
    abandon(stuck, attempts=1)
    assert tasks.retry_due_deliveries() == 1
    stuck.refresh_from_db()
    assert stuck.status == DeliveryStatus.DELIVERED and stuck.attempts == 2
    assert [(a["http_status"], a["error"]) for a in stuck.attempt_log] == [
        (None, ABANDONED),
        (200, ""),
    ]


def test_an_attempt_abandoned_on_the_last_try_fails_for_good(org_a, receiver):
    channel = create_channel(org_a, "hook", "webhook", receiver.url)
    (stuck,) = notify([channel], "test", "t", "x")
    abandon(stuck, attempts=MAX_ATTEMPTS)
    assert tasks.retry_due_deliveries() == 0
    stuck.refresh_from_db()
    assert stuck.status == DeliveryStatus.FAILED and stuck.error == ABANDONED
    assert stuck.finished_at is not None and receiver.requests == []


def test_an_alert_is_stored_only_together_with_its_deliveries(org_a, receiver, monkeypatch):
    channel = create_channel(org_a, "hook", "webhook", receiver.url)
    budget = Budget.objects.create(organization=org_a, name="GPU", amount=100)
    rule = AlertRule.objects.create(organization=org_a, budget=budget, percent=50)
    rule.channels.add(channel)
    Expense.objects.create(organization=org_a, amount=60, incurred_at=timezone.now(), source="api")

    def dies(*args, **kwargs):
        raise RuntimeError("worker died while queueing the deliveries")

    monkeypatch.setattr(alerts, "notify", dies)
    with pytest.raises(RuntimeError):
        alerts.evaluate(budget)
    assert not Alert.objects.exists()  # not "fired" without anyone being told
    monkeypatch.setattr(alerts, "notify", notify)
    (alert,) = alerts.evaluate(budget)
    (delivery,) = Delivery.objects.filter(channel=channel)
    assert delivery.payload["data"]["alert"] == {"id": alert.pk}
    assert alerts.evaluate(budget) == [] and Delivery.objects.count() == 1


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_cluster_killed_mid_delivery_retries_and_records_one_success(
    org_a, monkeypatch, settings
):
    settings.COSTSITE_WEBHOOK_ALLOW_PRIVATE = True
    receiver = Receiver()
    receiver.delay_s = 10.0  # the first request hangs until the cluster is killed
    cluster_env = {"COSTSITE_WEBHOOK_ALLOW_PRIVATE": "1", "COSTSITE_WEBHOOK_TIMEOUT_S": "30"}
    try:
        with qcluster("redis", monkeypatch, **cluster_env) as cluster:
            channel = create_channel(org_a, "hook", "webhook", receiver.url)
            sent = send_test(channel)  # autocommit: on_commit enqueues at once
            wait_for(lambda: receiver.requests, cluster)
            os.killpg(cluster.pid, signal.SIGKILL)  # workers, pusher, monitor: all of it
        sent.refresh_from_db()
        assert sent.status == DeliveryStatus.SENDING and sent.attempt_log == []
        receiver.delay_s = 0
        # Time passes: the claim is older than STALE_AFTER.
        Delivery.objects.filter(pk=sent.pk).update(claimed_at=F("claimed_at") - STALE_AFTER)
        with qcluster("redis", monkeypatch, **cluster_env) as cluster:
            assert tasks.retry_due_deliveries() == 1  # what the schedule runs each minute

            def delivered():
                sent.refresh_from_db()
                return sent.status == DeliveryStatus.DELIVERED

            wait_for(delivered, cluster)
    finally:
        receiver.close()
    assert sent.attempts == 2
    assert [(a["http_status"], a["error"]) for a in sent.attempt_log] == [
        (None, ABANDONED),
        (200, ""),
    ]
    assert Delivery.objects.filter(channel=channel).count() == 1
    # At least once: the receiver saw both requests, with one idempotency id.
    assert len(receiver.requests) == 2
    assert {r["headers"]["X-Costsite-Delivery"] for r in receiver.requests} == {sent.payload["id"]}
