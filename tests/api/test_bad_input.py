"""Bad input everywhere: each numeric, id and date input of every family of endpoints gets
out-of-range, non-finite and malformed values and must answer 400 naming the field, writing
nothing (DESIGN.md §3: 400 with field errors, never a 500, never a partial write).

The cases are generated from two tables: TARGETS (an endpoint, a valid body, and which of its
fields are numbers, ids or dates) and the bad values of each kind.
"""

import gzip
import json
from dataclasses import dataclass

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile

from budgets.models import Expense, ExpenseImport
from tests.conftest import api_client
from tests.tenancy import (
    ADVICE_BODY,
    CI_PLAN_BODY,
    COMMITMENT_BODY,
    COMPARE_BODY,
    ESTIMATE_BODY,
    EXPENSE_BODY,
    RECORD_BODY,
    RUN_BODY,
    WORKLOAD,
    deleted_idle_resource_ids,
    new_budget,
)

API = "/api/v1/orgs/org-a"
CATALOG = ("catalog",)
CARBON = ("carbon_catalog",)


@dataclass(frozen=True)
class Target:
    """An endpoint taking JSON, a body it accepts, and its inputs by kind. A field is a key of
    the body, or a path of keys and list indexes for nested inputs (the error names the first)."""

    name: str
    path: str
    body: object  # a dict, or callable(org) -> dict
    numbers: tuple = ()  # must be finite and within the field's range
    positive: tuple = ()  # numbers where zero (so also -0) is out of range
    ids: tuple = ()  # primary keys of the organization's rows
    dates: tuple = ()  # dates or date-times
    fixtures: tuple = ()  # pytest fixtures it needs (the catalogues)

    def data(self, org):
        return self.body(org) if callable(self.body) else json.loads(json.dumps(self.body))


def rule_body(org):
    return {"budget": new_budget(org, None).pk, "percent": 80}


TARGETS = [
    # budgets and spend
    Target(
        "budget",
        "/budgets/",
        {
            "name": "B",
            "amount": "100",
            "currency": "USD",
            "period": "custom",
            "start": "2026-11-01",
            "end": "2026-11-30",
        },
        numbers=("amount",),
        positive=("amount",),
        ids=("team", "parent"),
        dates=("start", "end"),
    ),
    Target("alert-rule", "/alert-rules/", rule_body, numbers=("percent",), ids=("budget",)),
    Target(
        "expense",
        "/expenses/",
        EXPENSE_BODY,
        numbers=("amount",),
        ids=("team",),
        dates=("incurred_at",),
    ),
    Target(
        "expense-bulk",
        "/expenses/bulk",
        {"expenses": [EXPENSE_BODY]},
        numbers=(("expenses", 0, "amount"),),
        dates=(("expenses", 0, "incurred_at"),),
    ),
    # estimates
    Target(
        "estimate",
        "/estimates/estimate",
        ESTIMATE_BODY,
        numbers=("hours", "nodes", "storage_gb", "egress_gb"),
        positive=("hours", "nodes"),
        fixtures=CATALOG,
    ),
    Target(
        "compare",
        "/estimates/compare",
        COMPARE_BODY,
        numbers=("gpu_count", "hours"),
        positive=("gpu_count", "hours"),
        fixtures=CATALOG,
    ),
    Target(
        "commitments",
        "/estimates/commitments",
        COMMITMENT_BODY,
        numbers=("instance_hours_per_week",),
        positive=("instance_hours_per_week",),
        fixtures=CATALOG,
    ),
    Target(
        "ci-plan",
        "/estimates/ci-plan",
        CI_PLAN_BODY,
        numbers=(("tests", 0, "runs_per_week"), ("tests", 0, "minutes_per_run")),
        positive=(("tests", 0, "minutes_per_run"),),
        fixtures=CATALOG,
    ),
    Target(
        "discount",
        "/estimates/price-list/discounts/",
        {"provider": "aws", "percent": "10"},
        numbers=("percent",),
    ),
    Target(
        "org-price",
        "/estimates/price-list/prices/upload",
        {
            "prices": [
                {
                    "provider": "aws",
                    "region": "us-east-1",
                    "instance_type": "p3.2xlarge",
                    "price_per_hour": "2.5",
                }
            ]
        },
        numbers=(("prices", 0, "price_per_hour"),),
        fixtures=CATALOG,
    ),
    # planning
    Target(
        "training-time",
        "/estimates/training-time",
        {**WORKLOAD, "accelerator": "A100", "gpu_count": 8},
        numbers=("params", "tokens", "gpu_count"),
        positive=("params", "tokens", "gpu_count"),
        fixtures=CATALOG,
    ),
    Target(
        "training-run",
        "/estimates/runs/",
        RUN_BODY,
        numbers=("flops", "gpu_count", "gpu_hours", "wall_hours", "cost"),
        positive=("flops", "gpu_count", "gpu_hours"),
        ids=("team",),
        fixtures=CATALOG,
    ),
    Target(
        "tradeoffs",
        "/estimates/tradeoffs",
        {**WORKLOAD, "deadline_hours": 100},
        numbers=("params", "tokens", "deadline_hours"),
        positive=("deadline_hours",),
        fixtures=CATALOG,
    ),
    # spot
    Target(
        "spot-advice",
        "/spot/advice",
        ADVICE_BODY,
        numbers=("hours",),
        positive=("hours",),
        fixtures=CATALOG,
    ),
    Target(
        "idle-delete",
        "/spot/idle-resources/delete/",
        deleted_idle_resource_ids,
        ids=(("ids", 0),),
    ),
    # carbon
    Target(
        "footprint",
        "/carbon/footprint",
        {"provider": "aws", "region": "us-east-1", "instance_type": "p3.2xlarge", "hours": 10},
        numbers=("hours",),
        positive=("hours",),
        fixtures=CARBON,
    ),
    Target(
        "green-regions",
        "/carbon/green-regions",
        {"accelerator": "V100", "gpu_count": 1, "hours": 10},
        numbers=("gpu_count", "hours"),
        positive=("gpu_count", "hours"),
        fixtures=CARBON,
    ),
    Target(
        "carbon-record",
        "/carbon/records/",
        RECORD_BODY,
        numbers=("energy_kwh", "pue", "intensity_g_per_kwh"),
        positive=("pue",),
        ids=("team",),
        dates=("started_at",),
        fixtures=CARBON,
    ),
    Target(
        "carbon-budget",
        "/carbon/budgets/",
        {"name": "cb", "limit_kg": 100, "thresholds": [80]},
        numbers=("limit_kg", ("thresholds", 0)),
        positive=("limit_kg",),
    ),
]

# Raw JSON text put where the field's value goes. Bare NaN/Infinity are not JSON: the parser
# refuses them (a 400 naming the problem); everything else reaches the field.
NON_FINITE = ["1e400", "-1e400", '"1e400"', '"NaN"', '"Infinity"', '"-Infinity"', "NaN", "Infinity"]
HUGE = [str(10**30), f'"{10**30}"', "1e300"]
MAIN_BAD_NUMBERS = ["1e400", '"NaN"', '"-Infinity"', str(10**30)]
BAD_IDS = [str(10**30), str(2**63), "-1", "0", "1e400", '"abc"']
BAD_DATES = [
    '"0001-01-01"',
    '"9999-12-31"',
    '"2026-02-30"',
    '"0001-01-01T00:00:00Z"',
    '"9999-12-31T23:59:59Z"',
    '"2026-02-30T00:00:00Z"',
]
PARSE_ERRORS = {"NaN", "Infinity"}


def key(path):
    return path if isinstance(path, str) else "/".join(map(str, path))


def cases():
    for t in TARGETS:
        # Every value on a family's first number; the main ones on its other numbers.
        kinds = [(f, v, ()) for f in t.numbers[:1] for v in NON_FINITE + HUGE]
        kinds += [(f, v, ()) for f in t.numbers[1:] for v in MAIN_BAD_NUMBERS]
        kinds += [(f, v, ()) for f in t.positive for v in ("-0", '"-0"')]
        kinds += [(f, v, ()) for f in t.ids for v in BAD_IDS]
        kinds += [(f, v, ()) for f in t.dates for v in BAD_DATES]
        for path, raw, marks in kinds:
            yield pytest.param(t, path, raw, id=f"{t.name}:{key(path)}={raw}", marks=marks)


SENTINEL = "__bad_value__"


def with_raw_value(body, path, raw):
    """The body as JSON text with the value at `path` replaced by the raw JSON `raw`."""
    path = (path,) if isinstance(path, str) else path
    node = body
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = SENTINEL
    return json.dumps(body).replace(f'"{SENTINEL}"', raw)


def tenant_row_counts():
    """Rows of every model of the apps that hold tenant data."""
    labels = {"budgets", "estimates", "carbon", "spot", "orgs", "notify"}
    return {
        model._meta.label: model.objects.count()
        for model in apps.get_models()
        if model._meta.app_label in labels
    }


@pytest.mark.parametrize(("target", "path", "raw"), list(cases()))
def test_bad_value_is_a_400_naming_the_field_and_writes_nothing(
    target, path, raw, org_a, alice, request
):
    for name in target.fixtures:
        request.getfixturevalue(name)
    body = target.data(org_a)
    before = tenant_row_counts()
    response = api_client(user=alice).post(
        API + target.path, with_raw_value(body, path, raw), content_type="application/json"
    )
    assert response.status_code == 400, response.content
    errors = response.json()
    if raw in PARSE_ERRORS:
        assert "JSON parse error" in errors["detail"]
    elif isinstance(path, str):
        assert path in errors, errors
    else:  # nested: the list's field, or a per-row report naming the row's field
        assert path[0] in errors or f'"{path[-1]}"' in response.content.decode(), errors
    assert tenant_row_counts() == before


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.name)
def test_the_valid_bodies_are_accepted(target, org_a, alice, request):
    """The tables' bodies are valid, so each 400 above is the bad value's doing."""
    for name in target.fixtures:
        request.getfixturevalue(name)
    response = api_client(user=alice).post(
        API + target.path, json.dumps(target.data(org_a)), content_type="application/json"
    )
    assert response.status_code in (200, 201), response.content


# --- Oversized and malformed uploads -------------------------------------------------------

FOCUS_HEADER = b"ProviderName,BillingCurrency,ChargePeriodStart,ChargePeriodEnd,BilledCost\n"
FOCUS_ROW = b"AWS,USD,2026-11-01 00:00:00,2026-11-01 01:00:00,1.25\n"


@pytest.fixture
def import_focus(org_a, alice, settings, tmp_path, django_capture_on_commit_callbacks):
    """import_focus(bytes, name) -> the upload's response; the import task runs inline."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.COSTSITE_MAX_IMPORT_MB = 1

    def send(content, name="focus.csv"):
        with django_capture_on_commit_callbacks(execute=True):
            return api_client(user=alice).post(
                API + "/expenses/import",
                {"file": SimpleUploadedFile(name, content)},
                format="multipart",
            )

    return send


def import_report(response):
    assert response.status_code == 202, response.content
    return ExpenseImport.objects.get(pk=response.json()["id"])


def test_a_focus_file_over_the_limit_is_refused_with_the_limit(import_focus, org_a):
    response = import_focus(FOCUS_HEADER + b"\n" * 1024**2)
    assert response.status_code == 400
    assert response.json() == {"file": ["The file is larger than 1 MB."]}
    assert not ExpenseImport.objects.for_org(org_a).exists()


def test_a_gzip_bomb_fails_with_the_size_limit_and_writes_nothing(import_focus, org_a):
    bomb = gzip.compress(FOCUS_HEADER + FOCUS_ROW + b"\n" * (3 * 1024**2), compresslevel=9)
    assert len(bomb) < 1024**2 / 50
    batch = import_report(import_focus(bomb, "focus.csv.gz"))
    assert batch.status == "failed"
    assert "uncompressed size exceeds the limit of 1,048,576 bytes" in batch.errors[0]["reason"]
    assert not Expense.objects.for_org(org_a).exists()


def test_a_non_utf8_file_fails_naming_the_line_and_writes_nothing(import_focus, org_a):
    latin1 = "AWS,USD,2026-11-01 00:00:00,2026-11-01 01:00:00,1.25,Zürich\n".encode("latin-1")
    content = FOCUS_HEADER.replace(b"\n", b",x_Site\n") + FOCUS_ROW.replace(b"\n", b",A\n") + latin1
    batch = import_report(import_focus(content))
    assert batch.status == "failed"
    assert batch.errors[0]["reason"].startswith("Line 3 is not valid UTF-8")
    assert not Expense.objects.for_org(org_a).exists()


def test_a_json_body_over_the_upload_limit_is_refused(org_a, alice, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    body = json.dumps({"expenses": [EXPENSE_BODY] * 200})
    assert len(body) > 10_000
    response = api_client(user=alice).post(
        API + "/expenses/bulk", body, content_type="application/json"
    )
    assert response.status_code in (400, 413), response.content
    assert "too large" in response.json()["detail"].lower()
    assert not Expense.objects.for_org(org_a).exists()


# --- Defects the schema fuzzing found (tests/api/test_schema_fuzz.py), pinned down ------------


def member_path(org):
    from tests.tenancy import new_member

    return f"/members/{new_member(org, None).pk}/"


ODD_REQUESTS = [
    # (id, method, path or callable(org) -> path, body, status, field named in the 400)
    ("invitation-without-role", "post", "/invitations/", {"email": "x@example.com"}, 400, "role"),
    ("member-patch-without-role", "patch", member_path, {}, 400, "role"),
    (
        "run-accelerator-with-nul",
        "post",
        "/estimates/runs/",
        {**RUN_BODY, "accelerator": "A\x00"},
        400,
        "accelerator",
    ),
    (
        "utilization-until-far-offset",
        "get",
        "/estimates/utilization/?until=2026-04-26T21:42:23%2B21:46",
        None,
        200,
        None,
    ),
]


@pytest.mark.parametrize(
    ("method", "path", "body", "expected", "field"),
    [pytest.param(*row[1:], id=row[0]) for row in ODD_REQUESTS],
)
def test_odd_requests_get_a_clear_answer(
    method, path, body, expected, field, org_a, alice, catalog
):
    path = path(org_a) if callable(path) else path
    before = tenant_row_counts()
    response = getattr(api_client(user=alice), method)(API + path, body, format="json")
    assert response.status_code == expected, response.content
    if field:
        assert field in response.json()
        assert tenant_row_counts() == before
