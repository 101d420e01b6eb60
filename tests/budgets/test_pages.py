"""Budget and spend pages: figures, chart data, forms, exports, admin history."""

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from budgets.models import AlertRule, Budget, BudgetChange, Expense
from costsite.orgs.roles import Role


@pytest.fixture
def budget(org_a):
    budget = Budget.objects.create(organization=org_a, name="GPU training", amount=1000)
    AlertRule.objects.create(organization=org_a, budget=budget, percent=80)
    Expense.objects.create(
        organization=org_a,
        amount=Decimal("250.5"),
        provider="aws",
        service="EC2",
        incurred_at=timezone.now(),
        source="manual",
    )
    return budget


def test_budget_list_and_detail_show_figures_and_chart(client, alice, budget):
    client.force_login(alice)
    listing = client.get("/o/org-a/budgets/").content.decode()
    assert "GPU training" in listing and "250.5000" in listing and "25.05%" in listing
    page = client.get(f"/o/org-a/budgets/{budget.pk}/")
    html = page.content.decode()
    assert "250.5000" in html and 'data-chart="budget-chart"' in html
    chart = page.context["chart"]
    assert chart["type"] == "line"
    labels = [d["label"] for d in chart["datasets"]]
    assert {"spent", "budget", "forecast", "80% threshold"} <= set(labels)
    spent = next(d for d in chart["datasets"] if d["label"] == "spent")["data"]
    assert spent[-1] == 250.5
    json.dumps(chart)  # serialisable for json_script


def test_budget_form_errors_stay_beside_fields(client, alice, org_a, budget):
    client.force_login(alice)
    response = client.post(
        "/o/org-a/budgets/new/",
        {
            "name": "Child",
            "amount": "5000",
            "currency": "USD",
            "period": "monthly",
            "parent": budget.pk,
        },
    )
    assert response.status_code == 200
    assert "amount" in response.context["form"].errors
    assert 'value="5000"' in response.content.decode()
    response = client.post(
        "/o/org-a/budgets/new/", {"name": "Q", "amount": "5", "currency": "USD", "period": "custom"}
    )
    assert "end" in response.context["form"].errors


def test_expense_form_records_and_lists(client, alice, org_a):
    client.force_login(alice)
    response = client.post(
        "/o/org-a/expenses/",
        {
            "amount": "42.10",
            "currency": "usd",
            "incurred_at": "2026-11-20 09:30",
            "purchase_type": "spot",
            "provider": "gcp",
        },
    )
    assert response.status_code == 302
    expense = Expense.objects.for_org(org_a).get()
    assert (expense.amount, expense.currency, expense.source) == (Decimal("42.1"), "USD", "manual")
    page = client.get("/o/org-a/expenses/?provider=gcp").content.decode()
    assert "42.1000 USD" in page


def test_csv_exports(client, alice, org_a, budget):
    client.force_login(alice)
    export = b"".join(client.get("/o/org-a/expenses/export.csv").streaming_content).decode()
    assert export.splitlines()[0].startswith("incurred_at,amount,currency")
    assert "250.500000000000" in export
    report = client.get("/o/org-a/reports/?start=2026-01-01&end=2026-12-31&group_by=provider")
    assert report.context["result"]["total"] == "250.5000"
    csv_text = b"".join(
        client.get(
            "/o/org-a/reports/export.csv?start=2026-01-01&end=2026-12-31&group_by=service"
        ).streaming_content
    ).decode()
    assert "EC2,250.5000,1,USD" in csv_text


@pytest.mark.parametrize("team", ["9223372036854775808", "9" * 5000, "0"])
def test_a_team_id_no_row_can_have_is_ignored_not_a_500(client, alice, org_a, budget, team):
    client.force_login(alice)
    page = client.get("/o/org-a/expenses/", {"team": team})
    assert page.status_code == 200 and "250.5000" in page.content.decode()
    export = client.get("/o/org-a/expenses/export.csv", {"team": team})
    assert "250.500000000000" in b"".join(export.streaming_content).decode()


def test_report_with_a_bad_range_says_why(client, alice, org_a):
    client.force_login(alice)
    response = client.get("/o/org-a/reports/?start=2026-11-10&end=2026-11-01&group_by=day")
    assert response.status_code == 200 and "before the start" in response.content.decode()


def test_overview_shows_budget_status_and_month_to_date(client, alice, budget):
    client.force_login(alice)
    page = client.get("/o/org-a/").content.decode()
    assert "GPU training" in page and "250.5000" in page


def test_admin_records_who_changed_an_amount(client, org_a, member, budget):
    finance = member(org_a, Role.FINANCE)
    finance.is_staff = True
    finance.save()
    client.force_login(finance)
    page = client.get(f"/admin/budgets/budget/{budget.pk}/change/")
    assert page.status_code == 200
    form = page.context["adminform"].form
    data = {
        name: (value if value is not None else "")
        for name, value in form.initial.items()
        if name in form.fields
    }
    data.update(
        {
            "amount": "1200.00",
            "alert_rules-TOTAL_FORMS": "0",
            "alert_rules-INITIAL_FORMS": "0",
            "changes-TOTAL_FORMS": "0",
            "changes-INITIAL_FORMS": "0",
        }
    )
    data.pop("organization", None)
    response = client.post(f"/admin/budgets/budget/{budget.pk}/change/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    change = BudgetChange.objects.get(budget=budget, field="amount")
    assert (change.old_value, change.new_value, change.changed_by, change.via) == (
        "1000.00",
        "1200.00",
        finance,
        "admin",
    )


def test_period_boundaries_in_the_organizations_time_zone(org_a):
    from budgets.figures import figures

    org_a.time_zone = "Asia/Tokyo"
    org_a.save()
    budget = Budget.objects.create(organization=org_a, name="b", amount=100)
    # 2026-11-30 16:00 UTC is already December 1 in Tokyo: not in November's budget
    Expense.objects.create(
        organization=org_a,
        amount=7,
        source="manual",
        incurred_at=datetime(2026, 11, 30, 16, 0, tzinfo=UTC),
    )
    Expense.objects.create(
        organization=org_a,
        amount=3,
        source="manual",
        incurred_at=datetime(2026, 11, 30, 14, 0, tzinfo=UTC),
    )
    november = figures(budget, datetime(2026, 11, 30, 14, 30, tzinfo=UTC))
    december = figures(budget, datetime(2026, 12, 1, 1, 0, tzinfo=UTC))
    assert (november.spent, december.spent) == (Decimal("3.0000"), Decimal("7.0000"))


def test_admin_enforces_allocation_rules(client, org_a, member, budget):
    finance = member(org_a, Role.FINANCE)
    finance.is_staff = True
    finance.save()
    client.force_login(finance)
    response = client.post(
        "/admin/budgets/budget/add/",
        {
            "name": "Too big",
            "parent": budget.pk,
            "amount": "5000",
            "currency": "USD",
            "period": "monthly",
            "alert_rules-TOTAL_FORMS": "0",
            "alert_rules-INITIAL_FORMS": "0",
            "changes-TOTAL_FORMS": "0",
            "changes-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200
    assert "amount" in response.context["adminform"].form.errors
    assert not Budget.objects.filter(name="Too big").exists()


def test_far_dates_and_odd_ids_are_refused_not_crashed(client, alice, org_a):
    client.force_login(alice)
    report = client.get("/o/org-a/reports/?start=2026-11-01&end=9999-12-31&group_by=day")
    assert report.status_code == 200 and "between 2000-01-01" in report.content.decode()
    assert client.get("/o/org-a/expenses/?team=²").status_code == 200
    api = client.get("/api/v1/orgs/org-a/expenses/summary?team=²")
    assert api.status_code == 400 and "team" in api.json()


def test_budget_dates_and_tag_keys_are_checked_in_the_portal_and_the_api(client, alice, org_a):
    client.force_login(alice)
    page = client.post(
        "/o/org-a/budgets/new/",
        {
            "name": "far",
            "amount": "10",
            "currency": "USD",
            "period": "custom",
            "start": "2026-01-01",
            "end": "9999-12-31",
            "scope_tag_key": "x\ny",
            "scope_tag_value": "y",
        },
    )
    assert page.status_code == 200
    errors = page.context["form"].errors
    assert "end" in errors and "scope_tag_key" in errors
    api = client.post(
        "/api/v1/orgs/org-a/budgets/",
        {
            "name": "far",
            "amount": "10",
            "currency": "USD",
            "period": "custom",
            "start": "2026-01-01",
            "end": "9999-12-31",
        },
        content_type="application/json",
    )
    assert api.status_code == 400 and "end" in api.json()
    carbon = client.post(
        "/api/v1/orgs/org-a/carbon/budgets/",
        {
            "name": "far",
            "limit_kg": 5,
            "period": "custom",
            "start": "1900-01-01",
            "end": "2026-01-01",
        },
        content_type="application/json",
    )
    assert carbon.status_code == 400 and "start" in carbon.json()


def test_month_to_date_leaves_out_later_days_of_the_month(org_a, alice, monkeypatch):
    from budgets import overview

    monkeypatch.setattr(overview.timezone, "now", lambda: datetime(2026, 3, 15, 12, tzinfo=UTC))
    for day, amount in ((10, "40"), (20, "2")):  # the 20th: dated ahead (a reservation, say)
        Expense.objects.create(
            organization=org_a,
            amount=Decimal(amount),
            currency=org_a.currency,
            provider="aws",
            incurred_at=datetime(2026, 3, day, 12, tzinfo=UTC),
            source="manual",
        )
    membership = org_a.memberships.get(user=alice)
    assert overview.spend_panel(org_a, membership)["month_to_date"] == Decimal("40")


def test_a_budget_scoped_by_a_lookup_named_tag_shows_on_every_page(client, alice, org_a):
    Budget.objects.create(
        organization=org_a, name="Tagged", amount=100, scope_tag_key="contains", scope_tag_value="x"
    )
    client.force_login(alice)
    for url in ("/o/org-a/", "/o/org-a/budgets/"):
        page = client.get(url)
        assert page.status_code == 200 and "Tagged" in page.content.decode()


def test_an_implausible_expense_date_is_a_field_error_in_the_portal(client, alice, org_a):
    org_a.time_zone = "Asia/Tokyo"
    org_a.save()
    client.force_login(alice)
    response = client.post(
        "/o/org-a/expenses/",
        {
            "amount": "10",
            "currency": "USD",
            "incurred_at": "9999-12-31T23:00",
            "purchase_type": "on_demand",
        },
    )
    assert response.status_code == 200
    assert "between 2000" in response.context["form"].errors["incurred_at"][0]
    assert not Expense.objects.for_org(org_a).exists()


@pytest.fixture
def finance(org_a, member):
    """A finance member with the staff flag and no Django model permissions."""
    user = member(org_a, Role.FINANCE)
    user.is_staff = True
    user.save()
    return user


@pytest.fixture
def finance_client(client, finance):
    client.force_login(finance)
    return client


def rule_errors(response):
    formsets = response.context["inline_admin_formsets"]
    return next(f.formset.errors for f in formsets if f.formset.prefix == "alert_rules")


def admin_expense(**changes):
    now = timezone.now()
    return {
        "amount": "80",
        "currency": "USD",
        "tags": "{}",
        "incurred_at_0": now.strftime("%Y-%m-%d"),
        "incurred_at_1": now.strftime("%H:%M:%S"),
        "purchase_type": "on_demand",
        "source": "manual",
        **changes,
    }


def test_admin_expenses_follow_the_portals_rules(finance_client, finance, org_a):
    org_a.time_zone = "Asia/Tokyo"
    org_a.save()
    far = finance_client.post(
        "/admin/budgets/expense/add/",
        admin_expense(incurred_at_0="9999-12-31", incurred_at_1="23:00:00"),
    )
    assert far.status_code == 200
    assert "between 2000" in far.context["adminform"].form.errors["incurred_at"][0]
    far_end = finance_client.post(
        "/admin/budgets/expense/add/",
        admin_expense(charge_period_end_0="9999-12-31", charge_period_end_1="23:00:00"),
    )
    assert "between 2000" in far_end.context["adminform"].form.errors["charge_period_end"][0]
    lowercase = finance_client.post("/admin/budgets/expense/add/", admin_expense(currency="usd"))
    assert lowercase.status_code == 302
    [added] = Expense.objects.for_org(org_a)
    assert (added.currency, added.created_by) == ("USD", finance)
    edit = admin_expense(amount="90")
    assert (
        finance_client.post(f"/admin/budgets/expense/{added.pk}/change/", edit).status_code == 302
    )
    added.refresh_from_db()
    assert (added.amount, added.created_by) == (Decimal("90"), finance)  # still who added it


def test_admin_expense_writes_evaluate_alerts(
    finance_client, org_a, django_capture_on_commit_callbacks
):
    budget = Budget.objects.create(organization=org_a, name="B", amount=100)
    rule = AlertRule.objects.create(organization=org_a, budget=budget, percent=50)
    credit = Expense.objects.create(
        organization=org_a, amount=-60, incurred_at=timezone.now(), source="manual"
    )
    with django_capture_on_commit_callbacks(execute=True):
        added = finance_client.post("/admin/budgets/expense/add/", admin_expense(amount="80"))
    assert added.status_code == 302
    assert not rule.alerts.exists()  # 80 - 60 = 20 %
    with django_capture_on_commit_callbacks(execute=True):
        deleted = finance_client.post(
            f"/admin/budgets/expense/{credit.pk}/delete/", {"post": "yes"}
        )
    assert deleted.status_code == 302
    assert [a.spent for a in rule.alerts.all()] == [Decimal("80.0000")]


def budget_admin_data(page, **changes):
    form = page.context["adminform"].form
    data = {n: ("" if v is None else v) for n, v in form.initial.items() if n in form.fields}
    data.pop("organization", None)
    data.update({"changes-TOTAL_FORMS": "0", "changes-INITIAL_FORMS": "0", **changes})
    return data


def test_finance_staff_edit_alert_rules_and_see_the_history_in_admin(finance_client, org_a, budget):
    url = f"/admin/budgets/budget/{budget.pk}/change/"
    page = finance_client.get(url)
    formsets = {f.formset.prefix: f for f in page.context["inline_admin_formsets"]}
    assert set(formsets) == {"alert_rules", "changes"}
    assert formsets["alert_rules"].has_add_permission
    assert not formsets["changes"].has_change_permission
    rule = AlertRule.objects.get(budget=budget)
    response = finance_client.post(
        url,
        budget_admin_data(
            page,
            **{
                "alert_rules-TOTAL_FORMS": "2",
                "alert_rules-INITIAL_FORMS": "1",
                "alert_rules-0-id": str(rule.pk),
                "alert_rules-0-budget": str(budget.pk),
                "alert_rules-0-percent": "80",
                "alert_rules-0-kind": "actual",
                "alert_rules-1-budget": str(budget.pk),
                "alert_rules-1-percent": "100",
                "alert_rules-1-kind": "forecast",
            },
        ),
    )
    assert response.status_code == 302
    rules = AlertRule.objects.for_org(org_a).filter(budget=budget)
    assert sorted((r.kind, r.percent) for r in rules) == [
        ("actual", Decimal("80")),
        ("forecast", Decimal("100")),
    ]


def test_admin_alert_rules_only_use_the_budgets_own_channels(
    finance_client, finance, org_a, org_b, budget
):
    from costsite.notify.channels import create_channel
    from costsite.orgs.models import Membership

    Membership.objects.create(organization=org_b, user=finance, role=Role.FINANCE)
    own = create_channel(org_a, "A hook", "email", "ops@a.example")
    other = create_channel(org_b, "B hook", "email", "ops@b.example")
    url = f"/admin/budgets/budget/{budget.pk}/change/"
    page = finance_client.get(url)
    rules = next(
        f for f in page.context["inline_admin_formsets"] if f.formset.prefix == "alert_rules"
    )
    assert list(rules.formset.empty_form.fields["channels"].queryset) == [own]
    new_rule = {
        "alert_rules-TOTAL_FORMS": "1",
        "alert_rules-INITIAL_FORMS": "0",
        "alert_rules-0-budget": str(budget.pk),
        "alert_rules-0-percent": "50",
        "alert_rules-0-kind": "actual",
    }
    refused = finance_client.post(
        url, budget_admin_data(page, **new_rule, **{"alert_rules-0-channels": [str(other.pk)]})
    )
    assert refused.status_code == 200 and "channels" in rule_errors(refused)[0]
    assert not AlertRule.objects.filter(budget=budget, percent=50).exists()
    added = finance_client.post(
        url, budget_admin_data(page, **new_rule, **{"alert_rules-0-channels": [str(own.pk)]})
    )
    assert added.status_code == 302
    assert list(AlertRule.objects.get(budget=budget, percent=50).channels.all()) == [own]


def test_a_new_budgets_rules_in_admin_use_its_organizations_channels(client, org_a, org_b, member):
    from costsite.notify.channels import create_channel

    admin_user = member(org_a, Role.FINANCE)
    admin_user.is_staff = admin_user.is_superuser = True
    admin_user.save()
    client.force_login(admin_user)
    other = create_channel(org_b, "B hook", "email", "ops@b.example")
    response = client.post(
        "/admin/budgets/budget/add/",
        {
            "organization": str(org_a.pk),
            "name": "New",
            "amount": "100",
            "currency": "USD",
            "period": "monthly",
            "alert_rules-TOTAL_FORMS": "1",
            "alert_rules-INITIAL_FORMS": "0",
            "alert_rules-0-percent": "50",
            "alert_rules-0-kind": "actual",
            "alert_rules-0-channels": [str(other.pk)],
            "changes-TOTAL_FORMS": "0",
            "changes-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200
    assert rule_errors(response)[0]["channels"] == [
        "Use channels of the budget's own organization."
    ]
    assert not Budget.objects.filter(name="New").exists()


def test_report_exports_refuse_control_characters_and_quote_the_file_name(
    client, alice, org_a, budget
):
    client.force_login(alice)
    url = "/o/org-a/reports/export.csv"
    window = {"start": "2026-01-01", "end": "2026-12-31", "group_by": "provider"}
    assert client.get(url, {**window, "tag_key": "team\nx"}).status_code == 400
    assert client.get(url, {**window, "start": "someday"}).status_code == 400
    export = client.get(url, {**window, "tag_key": 'équipe "x"'})
    assert export.status_code == 200
    assert export["Content-Disposition"] == (
        "attachment; filename*=utf-8''org-a-spend-by-tag-%C3%A9quipe%20%22x%22.csv"
    )
