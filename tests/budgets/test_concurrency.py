"""Many writers on one budget at once (PostgreSQL): exact totals, one alert per crossed rule."""

import threading
from decimal import Decimal

import pytest
from django.db import connection, connections
from django.db.models import Sum
from django.utils import timezone

from budgets.models import Alert, AlertRule, Budget, Expense
from tests.conftest import api_client

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs real concurrent transactions (PostgreSQL)"
)


@pytest.mark.django_db(transaction=True)
def test_parallel_expenses_cross_thresholds_once(org_a, alice):
    budget = Budget.objects.create(organization=org_a, name="GPU", amount=100)
    for percent in (50, 80, 100):
        AlertRule.objects.create(organization=org_a, budget=budget, percent=percent)
    errors = []

    def writer(worker: int):
        client = api_client(user=alice)
        try:
            for i in range(10):
                response = client.post(
                    "/api/v1/orgs/org-a/expenses/",
                    {
                        "amount": "1.50",
                        "currency": "USD",
                        "incurred_at": timezone.now().isoformat(),
                        "external_id": f"w{worker}-{i}",
                    },
                    format="json",
                )
                if response.status_code != 201:
                    errors.append(response.content)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert Expense.objects.for_org(org_a).aggregate(t=Sum("amount"))["t"] == Decimal("120")
    fired = sorted(Alert.objects.filter(budget=budget).values_list("percent", flat=True))
    assert fired == [Decimal("50"), Decimal("80"), Decimal("100")]
