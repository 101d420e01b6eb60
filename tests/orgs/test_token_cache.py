"""The per-process cache of validated tokens never outlives a change: revocation, expiry, a role
downgrade or a deactivated user take effect at the very next request, also when another process
made the change (through the shared cache, Redis); a steady token request runs no query."""

import os
import subprocess
import sys
from datetime import timedelta

import pytest
import redis
from django.utils import timezone

from costsite import cache as cache_versions
from costsite.orgs import tokens
from costsite.orgs.models import Membership
from costsite.orgs.roles import Role
from tests.cluster import REDIS_TEST_URL, ROOT, database_url
from tests.conftest import api_client

TEAMS = "/api/v1/orgs/org-a/teams/"


def test_a_wrong_secret_is_refused_while_the_real_token_is_cached(org_a, alice):
    text = tokens.issue_token(org_a, alice, "t", "read")[1]
    assert api_client(token=text).get(TEAMS).status_code == 200
    forged = text[:-6] + ("AAAAAA" if not text.endswith("AAAAAA") else "BBBBBB")
    assert api_client(token=forged).get(TEAMS).status_code == 401


def test_a_cached_token_expires_on_time(org_a, alice, monkeypatch):
    expires_at = timezone.now() + timedelta(hours=1)
    text = tokens.issue_token(org_a, alice, "t", "read", expires_at=expires_at)[1]
    assert api_client(token=text).get(TEAMS).status_code == 200
    later = expires_at + timedelta(seconds=1)
    monkeypatch.setattr(timezone, "now", lambda: later)
    assert api_client(token=text).get(TEAMS).status_code == 401


def test_admin_edits_apply_at_the_next_request(org_a, alice, member):
    """Saves and deletes of memberships, users and tokens, as the Django admin makes them."""
    admin = member(org_a, Role.ADMIN)
    token, text = tokens.issue_token(org_a, admin, "w", "write")
    client = api_client(token=text)
    assert client.post(TEAMS, {"name": "one"}).status_code == 201
    membership = Membership.objects.get(user=admin)
    membership.role = Role.VIEWER
    membership.save()
    assert client.post(TEAMS, {"name": "two"}).status_code == 403
    membership.role = Role.ADMIN
    membership.save()
    assert client.post(TEAMS, {"name": "three"}).status_code == 201
    token.expires_at = timezone.now() - timedelta(seconds=1)
    token.save()
    assert client.get(TEAMS).status_code == 401
    token.expires_at = None
    token.save()
    assert client.get(TEAMS).status_code == 200
    admin.is_active = False
    admin.save()
    assert client.get(TEAMS).status_code == 401


def test_a_steady_token_request_runs_no_query(org_a, alice, django_assert_num_queries, monkeypatch):
    monkeypatch.setattr(tokens._validated, "local_max_age", 3600)  # however slow the machine
    text = tokens.issue_token(org_a, alice, "t", "read")[1]
    assert tokens.authenticate(text) is not None  # loads it and records its use
    with django_assert_num_queries(0):
        assert tokens.authenticate(text) is not None


@pytest.fixture
def shared_cache(settings):
    """This process on the Redis cache, like every process of a deployment with REDIS_URL."""
    redis.from_url(REDIS_TEST_URL).flushdb()
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_TEST_URL,
        }
    }


def in_another_process(code: str):
    """Run `code` in `manage.py shell` on this test database and the same Redis cache."""
    env = {**os.environ, "DEBUG": "1", "DATABASE_URL": database_url(), "REDIS_URL": REDIS_TEST_URL}
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.django_db(transaction=True)
def test_revocation_and_downgrade_by_another_process_apply_at_the_next_request(
    org_a, alice, member, shared_cache
):
    admin = member(org_a, Role.ADMIN)
    token, text = tokens.issue_token(org_a, admin, "w", "write")
    client = api_client(token=text)
    assert client.post(TEAMS, {"name": "one"}).status_code == 201
    in_another_process(
        "from costsite.orgs.membership import change_role\n"
        "from costsite.orgs.models import Membership\n"
        f"owner = Membership.objects.get(user_id={alice.pk})\n"
        f"change_role(owner, Membership.objects.get(user_id={admin.pk}), 'viewer')\n"
    )
    assert client.post(TEAMS, {"name": "two"}).status_code == 403
    assert client.get(TEAMS).status_code == 200
    in_another_process(
        "from costsite.orgs import tokens\n"
        "from costsite.orgs.models import ApiToken\n"
        f"tokens.revoke(ApiToken.objects.get(pk={token.pk}))\n"
    )
    assert client.get(TEAMS).status_code == 401


def test_whether_versions_are_shared_follows_a_caches_change(settings):
    assert cache_versions.shared() is False  # the test settings' locmem
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_TEST_URL,
        }
    }
    assert cache_versions.shared() is True
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    assert cache_versions.shared() is False
