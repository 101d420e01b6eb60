"""Shared fixtures (DESIGN.md §8): two organizations, their people and tokens.

- org_a: alice (owner), bob (viewer); org_b: charlie (owner).
- `member(org, role)` makes more people when a test needs another role.
- Tokens are issued through the product's own code; `*_token` fixtures are the token texts.
"""

from datetime import timedelta
from pathlib import Path

import pytest
from django.core.cache import cache
from django.core.cache.backends.locmem import LocMemCache
from django.utils import timezone
from django_q.conf import Conf
from rest_framework.test import APIClient

from costsite.accounts.models import User
from costsite.orgs.membership import create_organization
from costsite.orgs.models import Membership
from costsite.orgs.roles import Role
from costsite.orgs.throttling import CallerRateThrottle
from costsite.orgs.tokens import issue_token, revoke
from estimates.catalog_loader import load_catalog
from estimates.offers import clear_cache
from tests.aws import aws_env, moto_server  # noqa: F401 - shared fixtures
from tests.receiver import Receiver


@pytest.fixture(autouse=True)
def _test_settings(settings, monkeypatch):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Plain static storage: tests do not need collectstatic's manifest.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.COSTSITE_WEBHOOK_ALLOW_PRIVATE = False
    # DRF reads throttle rates once at import; tests/test_operations.py checks throttling.
    monkeypatch.setattr(CallerRateThrottle, "THROTTLE_RATES", {"caller": "100000/min"})
    # Tasks run inline (DESIGN.md §5); tests/test_qcluster.py runs a real cluster.
    monkeypatch.setattr(Conf, "SYNC", True)
    # Each test starts with an empty cache: sign-in failures, throttle counters and version
    # counters of one test must not reach the next. Only the in-process cache: never a Redis
    # that REDIS_URL may point at.
    if isinstance(cache, LocMemCache):
        cache.clear()


FIXTURE_CATALOG = Path(__file__).resolve().parent / "estimates" / "fixture_catalog"


@pytest.fixture
def catalog(db):
    """A small catalogue with hand-checkable prices (tests/estimates/fixture_catalog)."""
    clear_cache()
    load_catalog(FIXTURE_CATALOG)
    yield
    clear_cache()


@pytest.fixture
def carbon_catalog(catalog):
    """The fixture price catalogue plus hand-checkable carbon figures
    (tests/carbon/fixture_catalog): us-east-1 379 g/kWh, us-central1 413, eu-west-1 only
    through its country (IE 290); PUE aws 1.135, gcp 1.1; V100 300 W; host 0.74-3.5 W/vCPU,
    0.392 W/GiB."""
    from carbon.catalog_loader import load

    load(Path(__file__).resolve().parent / "carbon" / "fixture_catalog")


def make_user(email, password="pw"):
    return User.objects.create_user(email, password, name=email.split("@")[0].title())


@pytest.fixture
def alice(db):
    return make_user("alice@a.example")


@pytest.fixture
def bob(db):
    return make_user("bob@a.example")


@pytest.fixture
def charlie(db):
    return make_user("charlie@b.example")


@pytest.fixture
def org_a(alice, bob):
    org = create_organization("Org A", owner=alice, slug="org-a")
    Membership.objects.create(organization=org, user=bob, role=Role.VIEWER)
    return org


@pytest.fixture
def org_b(charlie):
    return create_organization("Org B", owner=charlie, slug="org-b")


@pytest.fixture
def member(db):
    """member(org, role) -> a new user with that role in org."""
    counter = iter(range(1, 10_000))

    def make(org, role):
        user = make_user(f"{role}{next(counter)}@{org.slug}.example")
        Membership.objects.create(organization=org, user=user, role=role)
        return user

    return make


def token_text(org, user, scope, **kwargs):
    return issue_token(org, user, f"{scope} token", scope, **kwargs)[1]


@pytest.fixture
def alice_write_token(org_a, alice):
    return token_text(org_a, alice, "write")


@pytest.fixture
def alice_read_token(org_a, alice):
    return token_text(org_a, alice, "read")


@pytest.fixture
def bob_write_token(org_a, bob):
    return token_text(org_a, bob, "write")


@pytest.fixture
def charlie_write_token(org_b, charlie):
    return token_text(org_b, charlie, "write")


@pytest.fixture
def revoked_token(org_a, alice):
    token, text = issue_token(org_a, alice, "revoked", "write")
    revoke(token)
    return text


@pytest.fixture
def expired_token(org_a, alice):
    return token_text(org_a, alice, "write", expires_at=timezone.now() - timedelta(seconds=1))


def api_client(user=None, token=None):
    client = APIClient()
    if user is not None:
        client.force_login(user)
    if token is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


@pytest.fixture
def api():
    """api(user=..., token=...) -> an APIClient logged in or carrying a bearer token."""
    return api_client


@pytest.fixture
def receiver(settings):
    """A real HTTP server on 127.0.0.1 recording webhook requests (private targets allowed)."""
    settings.COSTSITE_WEBHOOK_ALLOW_PRIVATE = True
    server = Receiver()
    yield server
    server.close()
