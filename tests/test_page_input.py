"""Odd input that every app's pages share a rule for.

- Checkbox lists of rows (costsite.fields.RowsField): an id no row can have is a form error,
  never a query (past 64 bits, a 500 on SQLite).
- Text filters in the query string (costsite.params.filter_by_text): a NUL matches nothing and
  never reaches the database (PostgreSQL refuses it: a 500).
"""

from contextlib import nullcontext
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from budgets.models import Budget, Expense
from costsite.notify.channels import create_channel
from costsite.notify.models import ChannelKind
from costsite.orgs.models import Team
from tests.tenancy import new_idle_resource

BAD_IDS = [str(10**30), str(2**63), "0", "-1", "1.5", "٣"]


@pytest.fixture
def owner(client, alice):
    client.force_login(alice)
    return client


def posts(org, alice):
    """(url, form data, the field given the bad id, the form's name in the page) per page."""
    create_channel(org, "Ops", ChannelKind.EMAIL, "ops@example.com")
    team = Team.objects.create(organization=org, name="T")
    resource = new_idle_resource(org, alice)
    carbon = {"name": "C", "limit_kg": "100", "period": "monthly", "thresholds": "80"}
    return [
        ("/o/org-a/teams/", {"name": "New"}, "members", "form"),
        (f"/o/org-a/teams/{team.pk}/", {"name": "T"}, "members", "form"),
        ("/o/org-a/carbon/dashboard/", carbon, "channels", "form"),
        ("/o/org-a/spot/idle/delete/", {"scan": resource.scan_id}, "resources", "delete_form"),
    ]


@pytest.mark.parametrize("bad", BAD_IDS)
def test_an_id_no_row_can_have_is_a_form_error(owner, org_a, alice, bad):
    for url, data, field, name in posts(org_a, alice):
        response = owner.post(url, {**data, field: bad})
        assert response.status_code in (200, 400), (url, response.status_code)
        form = response.context[name]
        assert field in form.errors, (url, form.errors)


@pytest.mark.parametrize("bad", BAD_IDS)
def test_an_alert_rules_channel_no_row_can_have_is_refused(owner, org_a, bad):
    budget = Budget.objects.create(organization=org_a, name="B", amount=Decimal("100"))
    data = {"percent": "80", "kind": "actual", "channels": bad}
    response = owner.post(f"/o/org-a/budgets/{budget.pk}/rules/", data, follow=True)
    assert response.status_code == 200 and not budget.alert_rules.exists()
    assert "channels:" in response.content.decode()


def refuse_nul(execute, sql, params, many, context):
    """PostgreSQL's refusal of NUL in a parameter, on SQLite too."""
    for value in [v for row in params for v in row] if many else params or ():
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("PostgreSQL text fields cannot contain NUL (0x00) bytes")
    return execute(sql, params, many, context)


@pytest.mark.parametrize(
    "url",
    [
        *[
            f"/o/org-a/expenses/?{name}=a%00b"
            for name in ("provider", "service", "region", "source", "currency", "purchase_type")
        ],
        "/o/org-a/expenses/export.csv?provider=a%00b",
        "/o/org-a/estimates/catalogue/?region=a%00b",
        "/o/org-a/estimates/catalogue/?provider=a%00b",
    ],
)
def test_a_nul_in_a_text_filter_matches_nothing(owner, org_a, catalog, url):
    Expense.objects.create(organization=org_a, amount=5, incurred_at=timezone.now(), source="api")
    emulate = connection.vendor != "postgresql"
    with connection.execute_wrapper(refuse_nul) if emulate else nullcontext():
        response = owner.get(url)
        body = (
            b"".join(response.streaming_content) if response.streaming else response.content
        ).decode()
    assert response.status_code == 200
    assert "5.0000" not in body and "5.000000000000" not in body


@pytest.mark.parametrize("param", ["provider=a%00b", "currency=U%00D", "tag=env=a%00b"])
def test_a_nul_in_the_spend_summary_api_is_a_400(org_a, alice, param):
    from tests.conftest import api_client

    emulate = connection.vendor != "postgresql"
    with connection.execute_wrapper(refuse_nul) if emulate else nullcontext():
        response = api_client(user=alice).get(f"/api/v1/orgs/org-a/expenses/summary?{param}")
    assert response.status_code == 400
    assert response.json()[param.split("=")[0]] == ["No NUL characters."]
