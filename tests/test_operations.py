"""Health probes, settings, management commands."""

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path
from unittest import mock

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django_q.models import Schedule

from costsite.accounts.models import User
from costsite.orgs.models import Membership, Organization, Team
from costsite.schedules import SCHEDULES

ROOT = Path(__file__).resolve().parent.parent


def run_manage(*args, **env):
    base = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY"}}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=base | env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_healthz_answers_without_the_database(client):
    # No db fixture: any database access here would raise.
    response = client.get("/healthz")
    assert response.status_code == 200 and response.content == b"ok"


def test_readyz_checks_database_and_queue(client, db):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"]["database"] == "ok"


def test_readyz_is_503_when_the_queue_is_unreachable(client, db):
    with mock.patch("costsite.health.get_broker", side_effect=ConnectionError("down")):
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["queue"] == "error: ConnectionError"


def test_readyz_is_503_when_the_database_is_unreachable(client, db):
    from django.db import OperationalError

    with mock.patch("costsite.health.check_database", side_effect=OperationalError("down")):
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["ready"] is False
    assert response.json()["checks"]["database"] == "error: OperationalError"


def test_schema_and_docs_are_served(client, db):
    schema = client.get("/api/schema/?format=json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert "/api/v1/orgs/{org_slug}/channels/{id}/test/" in paths
    responses = paths["/api/v1/orgs/{org_slug}/teams/"]["post"]["responses"]
    assert {"201", "400", "401", "403", "404"} <= set(responses)
    docs = client.get("/api/docs/").content.decode()
    assert "swagger-ui" in docs and "//cdn" not in docs and "unpkg" not in docs


def test_production_refuses_to_start_without_a_secret_key():
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY"}}
    server = subprocess.run(
        [sys.executable, "-c", "import costsite.wsgi"],
        cwd=ROOT,
        env=env | {"DEBUG": "0"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert server.returncode != 0 and "SECRET_KEY setting must not be empty" in server.stderr
    workers = run_manage("qcluster", DEBUG="0")
    assert workers.returncode != 0 and "SECRET_KEY setting must not be empty" in workers.stderr
    # commands that sign nothing still work, so migrations can be checked without secrets
    assert run_manage("makemigrations", "--check", "--dry-run", DEBUG="0").returncode == 0


def test_check_deploy_is_clean_with_real_production_values():
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="costs.example.com",
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_every_environment_variable_the_settings_read_is_documented():
    settings_py = (ROOT / "costsite" / "settings.py").read_text()
    read = set(re.findall(r'os\.environ\.get\(\s*"([A-Z0-9_]+)"', settings_py))
    read |= set(re.findall(r'env_(?:bool|list)\(\s*"([A-Z0-9_]+)"', settings_py))
    assert {"DEBUG", "SECRET_KEY", "REDIS_URL", "SECURE_HSTS_PRELOAD"} <= read  # the patterns work
    readme = (ROOT / "README.md").read_text()
    table = readme.split("## Configuration", 1)[1].split("## Operations", 1)[0]
    assert sorted(read - set(re.findall(r"`([A-Z][A-Z0-9_]+)`", table))) == []


def test_createorg_creates_the_owner_and_refuses_duplicates(db, capsys):
    call_command(
        "createorg", "acme", "--name", "Acme ML", "--owner", "Lead@Acme.example", "--password", "pw"
    )
    org = Organization.objects.get(slug="acme")
    user = User.objects.get(email="lead@acme.example")
    assert user.check_password("pw")
    assert Membership.objects.get(organization=org, user=user).role == "owner"
    with pytest.raises(CommandError):
        call_command("createorg", "acme", "--name", "Again", "--owner", "x@example.com")


def test_issuetoken_refuses_non_members(org_a):
    with pytest.raises(CommandError):
        call_command(
            "issuetoken", "--org", "org-a", "--user", "nobody@example.com", "--scope", "read"
        )


def test_seed_demo_is_idempotent_and_logs_in(client, settings, catalog):
    from spot.models import Fleet

    settings.DEBUG = True
    call_command("seed_demo")
    call_command("seed_demo")
    assert Organization.objects.filter(slug="demo").count() == 1
    assert Team.objects.filter(organization__slug="demo").count() == 2
    fleet = Fleet.objects.get(organization__slug="demo")
    assert fleet.is_simulated and "(simulated)" in fleet.name
    from estimates.models import TrainingRun

    assert TrainingRun.objects.filter(organization__slug="demo", notes="demo data").count() == 3
    assert client.login(username="demo@example.com", password="demo")
    assert client.get("/o/demo/").status_code == 200


def test_seed_demo_refuses_without_debug(settings, db):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        call_command("seed_demo")
    assert not Organization.objects.filter(slug="demo").exists()


def test_setup_schedules_is_idempotent(db):
    call_command("setup_schedules")
    call_command("setup_schedules")
    schedule = Schedule.objects.get(name="notify: retry due deliveries")
    assert schedule.func == "costsite.notify.tasks.retry_due_deliveries"
    assert Schedule.objects.count() == len(SCHEDULES)


def test_throttling_limits_a_caller(org_a, alice_read_token, monkeypatch):
    from django.core.cache import cache

    from costsite.orgs.throttling import CallerRateThrottle
    from tests.conftest import api_client

    cache.clear()
    monkeypatch.setattr(CallerRateThrottle, "THROTTLE_RATES", {"caller": "3/min"})
    client = api_client(token=alice_read_token)
    codes = [client.get("/api/v1/orgs/org-a/teams/").status_code for _ in range(4)]
    cache.clear()
    assert codes == [200, 200, 200, 429]
