"""Checkbox lists of rows on every page (costsite.fields.RowsField): an id no row can have is a
form error, never a query (past 64 bits, a 500 on SQLite)."""

from decimal import Decimal

import pytest

from budgets.models import Budget
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
