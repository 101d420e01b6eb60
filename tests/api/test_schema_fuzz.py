"""Property-based API tests from the OpenAPI schema (schemathesis), in-process over WSGI.

Every operation in `/api/schema/` is called with generated valid and invalid inputs by the
owner's write token of a real organization, against the pytest-django test database. Each
response must not be a 5xx, must use a documented status code and content type, and must match
the documented schema. Path parameters are fixed to that organization and, for detail URLs, to
an object made (once per operation) by the tenancy matrix's factory for the same URL.

Bounded for CI: MAX_EXAMPLES generated cases per operation, derandomized so every run sends the
same requests, without schemathesis' boundary-value ("explicit") phase, which costs ten times
as much; about 100 s for all operations here. No operation is excluded.
"""

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from costsite.wsgi import application
from tests.tenancy import API_CASES

MAX_EXAMPLES = 8
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def load_schema():
    """The document `/api/schema/` serves, generated without a request (serving it touches the
    database, which collection may not); calls then go to the WSGI application in-process."""
    loaded = schemathesis.openapi.from_dict(SchemaGenerator().get_schema(request=None, public=True))
    loaded.app = application
    return loaded


schema = load_schema()


def normalized(path):
    """`/api/v1/orgs/{org}/budgets/{id}` and `/api/v1/orgs/{org_slug}/budgets/{id}/` alike."""
    path = path.split("?")[0].replace("{org_slug}", "{org}")
    return path.rstrip("/")


FACTORIES = {normalized(case.path): case.obj for case in API_CASES if case.obj}


def test_every_detail_operation_has_an_object_factory():
    detail_paths = {p for p in schema.raw_schema["paths"] if "{id}" in p}
    missing = sorted(p for p in detail_paths if normalized(p) not in FACTORIES)
    assert not missing, f"add a tenancy case with obj= for: {missing}"


@pytest.fixture
def fuzz_org(org_a, alice, alice_write_token, carbon_catalog):
    """The organization, its owner and the owner's write token; like Django's test client, the
    WSGI calls keep the test's database connection (and its transaction) open."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield org_a, alice, alice_write_token, {}
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    phases=[Phase.generate],
    suppress_health_check=list(HealthCheck),
    derandomize=True,
    database=None,
)
def test_api_conforms_to_its_schema(case, fuzz_org):
    org, owner, token, objects = fuzz_org
    path_parameters = {"org_slug": org.slug}
    if "{id}" in case.path:
        # One object per operation: some factories make rows that are unique per organization.
        if "id" not in objects:
            objects["id"] = FACTORIES[normalized(case.path)](org, owner).pk
        path_parameters["id"] = objects["id"]
    case.path_parameters = {**(case.path_parameters or {}), **path_parameters}
    response = case.call(headers={"Authorization": f"Bearer {token}"})
    case.validate_response(response, checks=CHECKS)
