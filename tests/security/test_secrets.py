"""Secrets are shown once and never logged: API token texts, webhook signing secrets and webhook
URLs (which are credentials themselves) while creating, using and delivering."""

import logging

import pytest

from costsite.notify.delivery import send_test
from costsite.notify.models import Channel
from costsite.orgs.models import AuditEvent
from tests.conftest import api_client


@pytest.fixture
def logs(caplog):
    """Every logger at DEBUG, captured."""
    caplog.set_level(logging.DEBUG)
    for name in list(logging.root.manager.loggerDict):
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


def logged(caplog) -> str:
    return "\n".join(
        f"{r.name} {r.getMessage()} {r.args!r} {getattr(r, '__dict__', '')!r}"
        for r in caplog.records
    )


def audit_text(org) -> str:
    return repr(list(AuditEvent.objects.for_org(org).values()))


def test_token_text_is_shown_once_and_never_logged(org_a, alice, client, logs):
    client.force_login(alice)
    created = client.post("/o/org-a/tokens/", {"name": "ci", "scope": "write"})
    page_text = created.context["new_token"]
    assert page_text.startswith("cst_") and page_text in created.content.decode()
    assert page_text not in client.get("/o/org-a/tokens/").content.decode()

    api = api_client(user=alice)
    response = api.post("/api/v1/orgs/org-a/tokens/", {"name": "ci2", "scope": "read"})
    api_text = response.json()["token"]
    assert api_text.startswith("cst_")
    listing = api.get("/api/v1/orgs/org-a/tokens/").content.decode()
    detail = api.get(f"/api/v1/orgs/org-a/tokens/{response.json()['id']}/").content.decode()
    assert api_text not in listing + detail and page_text not in listing + detail

    for text in (page_text, api_text):
        assert api_client(token=text).get("/api/v1/orgs/org-a/teams/").status_code == 200
        wrong = text[:-4] + ("AAAA" if not text.endswith("AAAA") else "BBBB")
        assert api_client(token=wrong).get("/api/v1/orgs/org-a/teams/").status_code == 401
        secret_part = text.rsplit("_", 1)[1]
        assert secret_part not in logged(logs)
        assert secret_part not in audit_text(org_a)
    assert logs.records, "the requests above were logged, so the check has something to read"


def test_webhook_secret_and_url_are_shown_once_and_never_logged(
    org_a, alice, client, receiver, logs, django_capture_on_commit_callbacks
):
    url = receiver.url + "/T0-SECRET-PATH"
    client.force_login(alice)
    created = client.post(
        "/o/org-a/channels/", {"name": "hook", "kind": "webhook", "target": url, "enabled": "on"}
    )
    channel, secret = created.context["new_secret"]
    assert secret in created.content.decode()
    detail = client.get(f"/o/org-a/channels/{channel.pk}/").content.decode()
    assert secret not in detail
    assert "T0-SECRET-PATH" not in client.get("/o/org-a/channels/").content.decode()

    api = api_client(user=alice)
    response = api.post(
        "/api/v1/orgs/org-a/channels/", {"name": "hook2", "kind": "webhook", "target": url}
    )
    api_secret = response.json()["secret"]
    assert api.get(f"/api/v1/orgs/org-a/channels/{response.json()['id']}/").json()["secret"] is None

    with django_capture_on_commit_callbacks(execute=True):
        send_test(Channel.objects.get(pk=channel.pk))
    receiver.statuses = [500]
    with django_capture_on_commit_callbacks(execute=True):
        send_test(Channel.objects.get(pk=response.json()["id"]))
    assert len(receiver.requests) == 2

    text = logged(logs)
    for value in (secret, api_secret, "T0-SECRET-PATH"):
        assert value not in text
        assert value not in audit_text(org_a)
    assert logs.records
