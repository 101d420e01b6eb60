"""The overview and budget pages issue the same number of queries however many expenses."""

from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from budgets.models import AlertRule, Budget, Expense


def queries_for(client, urls) -> list[int]:
    counts = []
    for url in urls:
        with CaptureQueriesContext(connection) as context:
            assert client.get(url).status_code == 200
        counts.append(len(context.captured_queries))
    return counts


def add_expenses(org, count):
    now = timezone.now()
    Expense.objects.bulk_create(
        Expense(
            organization=org,
            amount=1,
            source="import",
            provider="aws",
            incurred_at=now - timedelta(hours=i % 200),
        )
        for i in range(count)
    )


def test_page_queries_do_not_grow_with_expenses(client, alice, org_a):
    budget = Budget.objects.create(organization=org_a, name="GPU", amount=1000)
    Budget.objects.create(organization=org_a, name="Other", amount=10, scope_provider="aws")
    AlertRule.objects.create(organization=org_a, budget=budget, percent=80)
    client.force_login(alice)
    urls = ["/o/org-a/", f"/o/org-a/budgets/{budget.pk}/", "/o/org-a/budgets/", "/o/org-a/reports/"]
    add_expenses(org_a, 10)
    few = queries_for(client, urls)
    add_expenses(org_a, 10_000)
    many = queries_for(client, urls)
    assert few == many
