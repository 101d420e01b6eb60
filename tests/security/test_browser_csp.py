"""The Content-Security-Policy in a real browser: pages that depend on scripts still work and
the browser reports no violation (a violation is a console error, which fails these tests)."""

import re
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from budgets.models import Budget, Expense
from tests.e2e.conftest import browser, page, pages  # noqa: F401 - the browser fixtures
from tests.e2e.ui import log_in

pytestmark = pytest.mark.slow


def test_api_docs_render_swagger_ui(page, db):  # noqa: F811
    page.goto("/api/docs/")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("costsite API")
    expect(page.locator(".opblock-tag").first).to_be_visible()


def test_budget_bars_get_their_width_from_the_script(page, org_a, alice):  # noqa: F811
    Budget.objects.create(organization=org_a, name="GPU", amount=Decimal("1000"))
    Expense.objects.create(
        organization=org_a,
        amount=Decimal("250"),
        provider="aws",
        service="EC2",
        incurred_at=timezone.now(),
        source="manual",
    )
    log_in(page, alice.email)
    page.goto("/o/org-a/budgets/")
    bar = page.locator(".progress .bar").first
    expect(bar).to_have_attribute("style", re.compile(r"width: 25%"))


def test_admin_works_under_the_policy(page, org_a, alice):  # noqa: F811
    alice.is_staff = alice.is_superuser = True
    alice.save()
    log_in(page, alice.email, path="/admin/login/?next=/admin/")
    page.goto("/admin/orgs/team/add/")
    expect(page.locator("#id_members_from")).to_be_visible()  # filter_horizontal, built by JS
    page.goto("/admin/budgets/expense/add/")
    expect(page.locator(".datetimeshortcuts").first).to_be_visible()  # calendar links, by JS
