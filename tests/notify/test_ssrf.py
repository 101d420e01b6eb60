"""Webhook targets in private networks are refused unless explicitly allowed."""

import socket

import pytest

from costsite.notify import ssrf
from costsite.notify.channels import create_channel
from costsite.notify.delivery import attempt, notify, send_test
from costsite.notify.models import Delivery, DeliveryStatus
from tests.conftest import api_client

BLOCKED = [
    "http://127.0.0.1/hook",
    "http://127.1.2.3:8080/hook",
    "http://10.0.0.5/hook",
    "http://172.16.0.1/hook",
    "http://192.168.1.10/hook",
    "http://169.254.169.254/latest/meta-data/",
    "http://100.100.100.200/",
    "http://[::1]/hook",
    "http://[::ffff:127.0.0.1]/hook",
    "http://[fd00:ec2::254]/",
    "http://0.0.0.0/",
    "http://localhost:8000/hook",  # a hostname that resolves to loopback
]


@pytest.mark.parametrize("url", BLOCKED)
def test_private_targets_are_refused(url, settings):
    settings.COSTSITE_WEBHOOK_ALLOW_PRIVATE = False
    with pytest.raises(ssrf.BlockedDestination):
        ssrf.check_url(url)


def test_public_address_is_allowed(monkeypatch, settings):
    settings.COSTSITE_WEBHOOK_ALLOW_PRIVATE = False
    monkeypatch.setattr(
        socket,
        "getaddrinfo",
        lambda host, port, **kw: [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", port))
        ],
    )
    ssrf.check_url("https://hooks.example.com/services/T000/B000/XXX")


def test_hostname_with_any_private_answer_is_refused(monkeypatch, settings):
    settings.COSTSITE_WEBHOOK_ALLOW_PRIVATE = False
    answers = [
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", 443)),
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.1.2.3", 443)),
    ]
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **kw: answers)
    with pytest.raises(ssrf.BlockedDestination, match=r"10\.1\.2\.3"):
        ssrf.check_url("https://mixed.example.com/")


@pytest.mark.parametrize(
    "url", ["ftp://example.com/x", "file:///etc/passwd", "http://user:pw@example.com/", "http:///x"]
)
def test_other_schemes_credentials_and_hostless_urls_are_refused(url):
    with pytest.raises(ssrf.BlockedDestination):
        ssrf.check_url(url)


def test_allow_private_setting_permits_loopback(settings):
    settings.COSTSITE_WEBHOOK_ALLOW_PRIVATE = True
    ssrf.check_url("http://127.0.0.1:9/hook")


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1/x", "http://10.0.0.1/x", "http://169.254.169.254/"]
)
def test_api_refuses_private_webhooks_with_a_field_error(org_a, alice, url):
    for kind in ("webhook", "slack"):
        response = api_client(user=alice).post(
            "/api/v1/orgs/org-a/channels/", {"name": "h", "kind": kind, "target": url}
        )
        assert response.status_code == 400
        assert "target" in response.json()


def test_page_refuses_private_webhooks_beside_the_field(org_a, alice, client):
    client.force_login(alice)
    response = client.post(
        "/o/org-a/channels/",
        {"name": "h", "kind": "webhook", "target": "http://10.0.0.1/x", "enabled": "on"},
    )
    assert response.status_code == 200
    assert "target" in response.context["form"].errors
    assert "http://10.0.0.1/x" in response.content.decode()


def test_rebinding_is_caught_at_send_time(
    org_a, receiver, settings, django_capture_on_commit_callbacks
):
    """Saved while private targets were allowed (or while DNS said public): refused on send."""
    channel = create_channel(org_a, "hook", "webhook", receiver.url)
    settings.COSTSITE_WEBHOOK_ALLOW_PRIVATE = False
    with django_capture_on_commit_callbacks(execute=True):
        delivery = send_test(channel)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED  # not retryable
    assert "private" in delivery.error or "loopback" in delivery.error
    assert receiver.requests == []


def no_dns(*args, **kwargs):
    raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")


def test_a_host_that_does_not_resolve_when_sending_is_retried(org_a, settings, monkeypatch):
    """DNS failures are often temporary: a connection error, not a forbidden destination."""
    settings.COSTSITE_WEBHOOK_ALLOW_PRIVATE = False
    channel = create_channel(org_a, "hook", "webhook", "https://hooks.example.com/x")
    (sent,) = notify([channel], "test", "t", "x")
    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    attempt(sent.pk)
    sent = Delivery.objects.get(pk=sent.pk)
    assert sent.status == DeliveryStatus.RETRYING
    assert "Cannot resolve host 'hooks.example.com'" in sent.error


def test_a_host_that_does_not_resolve_is_refused_when_a_channel_is_saved(monkeypatch, settings):
    settings.COSTSITE_WEBHOOK_ALLOW_PRIVATE = False
    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    with pytest.raises(ssrf.BlockedDestination, match="Cannot resolve host"):
        ssrf.check_url("https://hooks.example.com/x")
