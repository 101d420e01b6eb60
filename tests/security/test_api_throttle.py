"""API throttling: one bucket per API token (not per user), and a 429 says when to retry."""

import pytest
from django.core.cache import cache

from costsite.orgs.throttling import CallerRateThrottle
from tests.conftest import api_client, token_text

TEAMS = "/api/v1/orgs/org-a/teams/"


@pytest.fixture
def three_a_minute(monkeypatch):
    cache.clear()
    monkeypatch.setattr(CallerRateThrottle, "THROTTLE_RATES", {"caller": "3/min"})
    yield
    cache.clear()


def test_two_tokens_of_one_user_have_separate_buckets(org_a, alice, three_a_minute):
    first = api_client(token=token_text(org_a, alice, "read"))
    second = api_client(token=token_text(org_a, alice, "read"))
    assert [first.get(TEAMS).status_code for _ in range(4)] == [200, 200, 200, 429]
    assert [second.get(TEAMS).status_code for _ in range(3)] == [200, 200, 200]
    # the session of the same user has its own bucket too
    assert api_client(user=alice).get(TEAMS).status_code == 200


def test_429_carries_retry_after(org_a, alice_read_token, three_a_minute):
    client = api_client(token=alice_read_token)
    for _ in range(3):
        client.get(TEAMS)
    refused = client.get(TEAMS)
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 60
    assert "throttled" in refused.json()["detail"].lower()
