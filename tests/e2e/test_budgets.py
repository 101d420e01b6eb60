"""Browser: budgets, expenses, alerts, the FOCUS import's progress bar, the admin for finance."""

import re
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from budgets import alerts
from budgets.models import AlertRule, Budget, Expense
from costsite.orgs.roles import Role
from tests.cluster import qcluster
from tests.e2e.ui import drawn_chart, field_error, log_in, open_section

pytestmark = pytest.mark.django_db(transaction=True)

SAMPLE = "tests/budgets/data/focus_1.0_sample_1000.csv"


def stat(page, name):
    return page.locator(".stat", has=page.locator("span", has_text=name)).locator("strong")


def record_expense(page, amount, service):
    form = page.locator("section", has=page.get_by_role("heading", name="Record an expense"))
    form.get_by_label("Amount", exact=True).fill(amount)
    form.get_by_label("Provider", exact=True).fill("aws")
    form.get_by_label("Service", exact=True).fill(service)
    form.get_by_role("button", name="Record").click()
    expect(page.get_by_role("status")).to_contain_text("Expense recorded.")


def test_budget_expenses_chart_and_alert_history(page, org_a, alice):
    log_in(page, alice.email)
    open_section(page, "Budgets")
    page.get_by_role("link", name="New budget").click()
    page.get_by_label("Name", exact=True).fill("GPU training")
    page.get_by_label("Amount", exact=True).fill("100")
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("GPU training")
    expect(stat(page, "Spent")).to_have_text("0.0000")
    page.get_by_label("Percent", exact=True).fill("50")
    page.get_by_role("button", name="Add rule").click()
    expect(page.get_by_role("status")).to_contain_text("Alert rule added.")
    budget_url = page.url

    open_section(page, "Budgets", "Expenses")
    record_expense(page, "30", "EC2 p3.2xlarge")
    page.goto(budget_url)
    history = page.locator("section", has=page.get_by_role("heading", name="Alert history"))
    expect(history).to_contain_text("No alerts fired.")

    open_section(page, "Budgets", "Expenses")
    record_expense(page, "40.50", "EC2 p4d.24xlarge")
    expect(page.get_by_text("2 expenses")).to_be_visible()
    expect(page.get_by_role("row", name=re.compile("40.5000 USD"))).to_contain_text("p4d")

    page.goto(budget_url)
    expect(stat(page, "Spent")).to_have_text("70.5000")
    expect(stat(page, "Remaining")).to_have_text("29.5000")
    expect(page.locator(".stat", has_text="Spent")).to_contain_text("(70.5%)")
    chart = drawn_chart(page, "budget-chart")
    spent = [v for v in chart["data"]["spent"] if v is not None]
    assert spent[-1] == 70.5, chart["data"]
    assert set(chart["data"]["budget"]) == {100}, chart["data"]
    alert = history.get_by_role("row", name=re.compile("Spend crossed 50.00%"))
    expect(alert).to_contain_text("70.5000")
    alert.get_by_role("button", name="Acknowledge").click()
    expect(alert).to_contain_text(f"acknowledged by {alice.email}")


def test_a_bad_amount_keeps_the_error_beside_the_field(page, org_a, alice):
    log_in(page, alice.email, path="/o/org-a/budgets/new/")
    page.get_by_label("Name", exact=True).fill("Typo")
    page.get_by_label("Amount", exact=True).fill("-5")
    page.get_by_role("button", name="Save").click()

    error = field_error(page, "Amount")
    expect(error.locator(".errorlist")).to_have_text(
        "Ensure this value is greater than or equal to 0.01."
    )
    expect(error.get_by_label("Amount", exact=True)).to_have_value("-5")
    expect(error.get_by_label("Amount", exact=True)).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Name", exact=True)).to_have_value("Typo")
    expect(page.locator(".field.has-error")).to_have_count(1)
    assert not Budget.objects.exists()


def test_import_the_focus_sample_and_watch_the_progress_bar(
    page, org_a, alice, settings, tmp_path, monkeypatch
):
    settings.MEDIA_ROOT = tmp_path
    with qcluster("orm", monkeypatch, MEDIA_ROOT=str(tmp_path)):
        log_in(page, alice.email)
        open_section(page, "Budgets", "Billing import")
        page.get_by_label("File", exact=True).set_input_files(SAMPLE)
        page.get_by_label("Cost column", exact=True).select_option("BilledCost")
        page.get_by_role("button", name="Import").click()

        expect(page.get_by_role("heading", level=1)).to_have_text("focus_1.0_sample_1000.csv")
        status = page.locator("#import-status")
        expect(status.locator(".badge")).to_have_text("Completed", timeout=60_000)
    bar = status.get_by_role("progressbar")
    expect(bar).to_have_attribute("aria-valuenow", "100")
    full, filled = bar.bounding_box()["width"], bar.locator(".bar").bounding_box()["width"]
    assert full > 0 and abs(filled - full) <= 2, (filled, full)
    expect(status).to_contain_text("1000 of 1000 rows processed")
    expect(status.locator("strong")).to_have_text("1000")
    expect(status).not_to_have_attribute("data-poll", "")

    open_section(page, "Budgets", "Expenses")
    expect(page.get_by_text("1000 expenses")).to_be_visible()


def test_a_finance_user_edits_a_budget_in_the_admin(page, org_a, org_b, member):
    finance = member(org_a, Role.FINANCE)
    finance.is_staff = True
    finance.save()
    ours = Budget.objects.create(organization=org_a, name="Research", amount=Decimal("1000"))
    Budget.objects.create(organization=org_b, name="Their budget", amount=Decimal("5"))

    log_in(page, finance.email, path="/admin/login/")
    page.get_by_role("link", name="Budgets", exact=True).click()
    expect(page.get_by_role("link", name="Research")).to_be_visible()
    expect(page.get_by_text("Their budget")).to_have_count(0)
    page.get_by_role("link", name="Research").click()
    expect(page.locator(".field-organization .readonly")).to_have_text("Org A")
    page.get_by_label("Amount:").fill("2500")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
    expect(page.get_by_role("row", name=re.compile("Research"))).to_contain_text("2500")

    page.goto(f"/o/org-a/budgets/{ours.pk}/")
    expect(page.locator(".stat", has_text="Spent")).to_contain_text("of 2500.00 USD")
    change = page.get_by_role("row", name=re.compile(r"amount"))
    expect(change).to_contain_text("1000.00")
    expect(change).to_contain_text("2500")
    expect(change).to_contain_text("admin")


def test_snooze_an_alert_then_delete_the_expense_behind_it(page, org_a, alice):
    budget = Budget.objects.create(organization=org_a, name="Nightly CI", amount=Decimal("100"))
    AlertRule.objects.create(organization=org_a, budget=budget, percent=50)
    Expense.objects.create(
        organization=org_a, amount=Decimal("80"), incurred_at=timezone.now(), source="manual"
    )
    assert alerts.evaluate(budget)

    log_in(page, alice.email, path=f"/o/org-a/budgets/{budget.pk}/")
    history = page.locator("section", has=page.get_by_role("heading", name="Alert history"))
    alert = history.get_by_role("row", name=re.compile("Spend crossed 50.00%"))
    alert.get_by_role("combobox").select_option("72")
    alert.get_by_role("button", name="Snooze").click()
    expect(page.get_by_role("status")).to_contain_text("No reminder of this alert for 72 h.")
    expect(alert).to_contain_text("snoozed until")

    open_section(page, "Budgets", "Expenses")
    page.get_by_role("row", name=re.compile("80.0000 USD")).get_by_role(
        "button", name="Delete"
    ).click()
    expect(page.get_by_role("status")).to_contain_text("Deleted the expense of 80 USD.")
    assert page.dialogs == ["Delete this expense of 80.0000 USD?"]
    expect(page.get_by_text("No expenses.")).to_be_visible()
