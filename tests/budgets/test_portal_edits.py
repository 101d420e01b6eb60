"""Portal parity with the API: deleting an expense, the expense list's team, purchase type and
currency filters, and editing an alert rule."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from budgets import rollups
from budgets.models import Alert, AlertRule, Budget, Expense
from budgets.periods import current_period
from costsite.notify.channels import create_channel
from costsite.notify.models import ChannelKind
from costsite.orgs.models import AuditAction, AuditEvent, Team
from costsite.orgs.roles import Role

HUGE_ID = "9" * 25  # past 64 bits: no row can have it


def expense(org, amount, **fields):
    return Expense.objects.create(
        organization=org,
        amount=Decimal(amount),
        currency=fields.pop("currency", "USD"),
        incurred_at=fields.pop("incurred_at", timezone.now()),
        source="manual",
        **fields,
    )


@pytest.fixture
def finance_client(client, org_a, member):
    client.force_login(member(org_a, Role.FINANCE))
    return client


@pytest.fixture
def evaluations(monkeypatch):
    """The organizations whose budget evaluation the pages queued."""
    queued = []
    monkeypatch.setattr("budgets.views.queue_evaluation", queued.append)
    return queued


# --- Deleting an expense -----------------------------------------------------------------------


def test_finance_deletes_one_expense_and_the_rollups_stay_exact(
    finance_client, org_a, org_b, django_capture_on_commit_callbacks
):
    team = Team.objects.create(organization=org_a, name="ML")
    budget = Budget.objects.create(organization=org_a, name="B", amount=100, scope_provider="aws")
    rule = AlertRule.objects.create(organization=org_a, budget=budget, percent=50)
    credit = expense(org_a, "-60", provider="aws", team=team)
    same_day = expense(org_a, "80", provider="aws", team=team)
    earlier = expense(org_a, "7.25", provider="gcp", incurred_at=timezone.now() - timedelta(1))
    foreign = expense(org_b, "5")
    with django_capture_on_commit_callbacks(execute=True):
        response = finance_client.post(f"/o/org-a/expenses/{credit.pk}/delete/")
    assert response.status_code == 302
    assert response["Location"] == "/o/org-a/expenses/"
    assert set(Expense.objects.for_org(org_a)) == {same_day, earlier}
    assert Expense.objects.filter(pk=foreign.pk).exists()
    assert rollups.drift(org_a) == [] and rollups.drift(org_b) == []
    # The evaluation was queued: without the credit, 80 of 100 (aws) crosses the 50 % rule.
    assert [a.spent for a in rule.alerts.all()] == [Decimal("80.0000")]
    event = AuditEvent.objects.get(organization=org_a, action=AuditAction.EXPENSE_DELETED)
    assert (event.target_type, event.target_id) == ("expense", str(credit.pk))
    assert "expense" in finance_client.get(response["Location"]).content.decode().lower()


def test_delete_goes_back_to_the_filtered_list_and_nowhere_else(finance_client, org_a):
    row = expense(org_a, "3", provider="aws")
    response = finance_client.post(
        f"/o/org-a/expenses/{row.pk}/delete/"
        "?provider=aws&team=7&currency=USD&page=2&next=https://evil.example/"
    )
    assert response.status_code == 302
    assert response["Location"] == ("/o/org-a/expenses/?provider=aws&currency=USD&team=7&page=2")


@pytest.mark.parametrize("role", [Role.OWNER, Role.ADMIN, Role.FINANCE])
def test_the_list_offers_delete_to_the_apis_roles_keeping_the_filters(client, org_a, member, role):
    row = expense(org_a, "3", provider="aws")
    client.force_login(member(org_a, role))
    html = client.get("/o/org-a/expenses/?provider=aws&source=manual").content.decode()
    assert f'action="/o/org-a/expenses/{row.pk}/delete/?provider=aws&amp;source=manual"' in html
    assert "data-confirm=" in html


@pytest.mark.parametrize("role", [Role.MEMBER, Role.VIEWER])
def test_members_and_viewers_may_not_delete_expenses(client, org_a, member, evaluations, role):
    row = expense(org_a, "3")
    client.force_login(member(org_a, role))
    assert "/delete/" not in client.get("/o/org-a/expenses/").content.decode()
    assert client.post(f"/o/org-a/expenses/{row.pk}/delete/").status_code == 403
    # Same as the API: a member records expenses, but only finance writers delete them.
    api = client.delete(f"/api/v1/orgs/org-a/expenses/{row.pk}/")
    assert api.status_code == 403
    assert Expense.objects.filter(pk=row.pk).exists() and evaluations == []


def test_another_organizations_expense_is_404_and_stays(finance_client, org_b, evaluations):
    foreign = expense(org_b, "5")
    assert finance_client.post(f"/o/org-a/expenses/{foreign.pk}/delete/").status_code == 404
    assert finance_client.post(f"/o/org-b/expenses/{foreign.pk}/delete/").status_code == 404
    assert Expense.objects.filter(pk=foreign.pk).exists() and evaluations == []
    assert not AuditEvent.objects.filter(action=AuditAction.EXPENSE_DELETED).exists()


def test_delete_is_post_only_and_odd_ids_are_404(finance_client, org_a, evaluations):
    row = expense(org_a, "3")
    assert finance_client.get(f"/o/org-a/expenses/{row.pk}/delete/").status_code == 405
    assert finance_client.post(f"/o/org-a/expenses/{HUGE_ID}/delete/").status_code == 404
    assert finance_client.post("/o/org-a/expenses/0/delete/").status_code == 404
    assert finance_client.post("/o/org-a/expenses/%C2%B2/delete/").status_code == 404
    assert Expense.objects.filter(pk=row.pk).exists() and evaluations == []


# --- The expense list's filters ----------------------------------------------------------------


def test_the_list_filters_by_team_purchase_type_and_currency(client, alice, org_a, org_b):
    ml = Team.objects.create(organization=org_a, name="ML team")
    ops = Team.objects.create(organization=org_a, name="Ops team")
    Team.objects.create(organization=org_b, name="Rival team")
    expense(org_a, "1.11", team=ml, purchase_type="spot", currency="EUR")
    expense(org_a, "2.22", team=ml, purchase_type="on_demand")
    expense(org_a, "3.33", team=ops, purchase_type="spot")
    client.force_login(alice)
    page = client.get("/o/org-a/expenses/").content.decode()
    assert "ML team" in page and "Ops team" in page and "Rival team" not in page
    assert 'name="purchase_type"' in page and ">Commitment<" in page
    assert 'name="currency"' in page

    def shown(**params):
        response = client.get("/o/org-a/expenses/", params)
        assert response.status_code == 200
        return sorted(str(e.amount.normalize()) for e in response.context["expenses"])

    assert shown(team=ml.pk) == ["1.11", "2.22"]
    assert shown(team=ml.pk, purchase_type="spot") == ["1.11"]
    assert shown(purchase_type="spot") == ["1.11", "3.33"]
    assert shown(currency="EUR") == ["1.11"]
    assert shown(purchase_type="commitment") == []
    selected = client.get("/o/org-a/expenses/", {"team": ml.pk, "purchase_type": "spot"})
    html = selected.content.decode()
    assert f'<option value="{ml.pk}" selected>ML team</option>' in html
    assert '<option value="spot" selected>Spot</option>' in html


@pytest.mark.parametrize(
    "params",
    [
        {"currency": "US\x00D"},
        {"purchase_type": "spot\x00"},
        {"team": HUGE_ID},
        {"team": "²"},
        {"team": "-1"},
        {"currency": "x" * 5000},
    ],
)
def test_odd_filter_values_are_not_a_500(client, alice, org_a, params):
    expense(org_a, "4")
    client.force_login(alice)
    assert client.get("/o/org-a/expenses/", params).status_code == 200
    export = client.get("/o/org-a/expenses/export.csv", params)
    assert export.status_code == 200
    b"".join(export.streaming_content)


# --- Editing an alert rule ---------------------------------------------------------------------


@pytest.fixture
def rule(org_a):
    budget = Budget.objects.create(organization=org_a, name="GPU", amount=100)
    return AlertRule.objects.create(organization=org_a, budget=budget, percent=80)


def fire(rule, percent):
    """An alert of `rule` at `percent` in the current period (as the evaluation would store)."""
    period = current_period(rule.budget, timezone.now())
    return Alert.objects.create(
        organization=rule.organization,
        rule=rule,
        budget=rule.budget,
        period_start=period.first_day,
        period_end=period.last_day,
        kind=rule.kind,
        percent=percent,
        spent="85",
        forecast="85",
        amount="100",
        currency="USD",
    )


def test_finance_edits_a_rule_and_the_new_threshold_fires_this_period(
    finance_client, org_a, rule, django_capture_on_commit_callbacks
):
    channel = create_channel(org_a, "Ops email", ChannelKind.EMAIL, "ops@example.com")
    expense(org_a, "85")
    fire(rule, "80")  # 80 % fired already this period
    page = finance_client.get(f"/o/org-a/budgets/rules/{rule.pk}/edit/")
    assert page.status_code == 200 and 'value="80.00"' in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = finance_client.post(
            f"/o/org-a/budgets/rules/{rule.pk}/edit/",
            {"percent": "85", "kind": "actual", "channels": [channel.pk]},
        )
    assert response.status_code == 302
    assert response["Location"] == f"/o/org-a/budgets/{rule.budget_id}/"
    rule.refresh_from_db()
    assert (rule.percent, rule.kind, list(rule.channels.all())) == (
        Decimal("85"),
        "actual",
        [channel],
    )
    assert sorted(a.percent for a in rule.alerts.all()) == [Decimal("80"), Decimal("85")]


def test_changing_only_the_channels_is_not_a_clash(finance_client, org_a, rule, evaluations):
    channel = create_channel(org_a, "Ops email", ChannelKind.EMAIL, "ops@example.com")
    response = finance_client.post(
        f"/o/org-a/budgets/rules/{rule.pk}/edit/",
        {"percent": "80", "kind": "actual", "channels": [channel.pk]},
    )
    assert response.status_code == 302
    assert list(rule.channels.all()) == [channel] and evaluations == [org_a.pk]


def test_the_detail_page_links_each_rule_to_its_edit_page(client, org_a, member, rule):
    edit = f'href="/o/org-a/budgets/rules/{rule.pk}/edit/"'
    client.force_login(member(org_a, Role.FINANCE))
    assert edit in client.get(f"/o/org-a/budgets/{rule.budget_id}/").content.decode()
    client.force_login(member(org_a, Role.MEMBER))
    assert edit not in client.get(f"/o/org-a/budgets/{rule.budget_id}/").content.decode()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"percent": "90", "kind": "forecast"}, "percent"),  # the budget has that rule
        ({"percent": "abc", "kind": "actual"}, "percent"),
        ({"percent": "0", "kind": "actual"}, "percent"),
        ({"percent": "1e400", "kind": "actual"}, "percent"),
        ({"percent": "9\x00", "kind": "actual"}, "percent"),
        ({"percent": "80", "kind": "sometimes"}, "kind"),
        ({"percent": "80", "kind": "actual", "channels": [HUGE_ID]}, "channels"),
        ({"percent": "80", "kind": "actual", "channels": ["²"]}, "channels"),
        ({"percent": "80", "kind": "actual", "channels": "foreign"}, "channels"),
        ({}, "percent"),
    ],
)
def test_bad_rule_input_is_a_form_error(
    finance_client, org_a, org_b, rule, evaluations, data, field
):
    AlertRule.objects.create(organization=org_a, budget=rule.budget, percent=90, kind="forecast")
    if data.get("channels") == "foreign":
        data["channels"] = [create_channel(org_b, "B", ChannelKind.EMAIL, "b@example.com").pk]
    response = finance_client.post(f"/o/org-a/budgets/rules/{rule.pk}/edit/", data)
    assert response.status_code == 200
    assert field in response.context["form"].errors
    rule.refresh_from_db()
    assert (rule.percent, rule.kind, rule.channels.count()) == (Decimal("80"), "actual", 0)
    assert evaluations == []


@pytest.mark.parametrize("role", [Role.MEMBER, Role.VIEWER])
def test_members_and_viewers_may_not_edit_rules(client, org_a, member, rule, evaluations, role):
    client.force_login(member(org_a, role))
    url = f"/o/org-a/budgets/rules/{rule.pk}/edit/"
    assert client.get(url).status_code == 403
    assert client.post(url, {"percent": "50", "kind": "actual"}).status_code == 403
    rule.refresh_from_db()
    assert rule.percent == Decimal("80") and evaluations == []


def test_another_organizations_rule_is_404(client, charlie, org_a, org_b, rule, evaluations):
    """Charlie (org B's owner) addresses org A's rule under his own slug."""
    client.force_login(charlie)
    url = f"/o/org-b/budgets/rules/{rule.pk}/edit/"
    assert client.get(url).status_code == 404
    assert client.post(url, {"percent": "50", "kind": "actual"}).status_code == 404
    assert client.get(f"/o/org-b/budgets/rules/{HUGE_ID}/edit/").status_code == 404
    rule.refresh_from_db()
    assert rule.percent == Decimal("80") and evaluations == []
