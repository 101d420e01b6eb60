"""Many writers at once (PostgreSQL; SQLite serialises writers, CI runs these on PostgreSQL):
exact Decimal totals everywhere they are shown, one alert per rule per period, one
notification per alert; one interruption posted many times at once, one replacement."""

import threading
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.db import connection, connections
from django.db.models import Count, Sum
from django.utils import timezone

from budgets import recording
from budgets.figures import figures
from budgets.models import Alert, AlertRule, Budget, Expense, ExpenseSource
from costsite.notify.channels import create_channel
from costsite.notify.models import Delivery
from spot import fleets
from spot.models import AttemptState, InterruptionEvent
from tests.conftest import api_client
from tests.spot.conftest import warning

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs real concurrent transactions (PostgreSQL)"
    ),
]

WRITERS, EACH = 8, 25


def in_threads(count: int, work) -> list[str]:
    """Run `work(n)` in `count` threads released together; the errors they raised."""
    barrier = threading.Barrier(count)
    errors = []

    def run(n):
        try:
            barrier.wait()
            work(n)
        except Exception as exc:
            errors.append(repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return errors


def amount(writer: int, item: int) -> Decimal:
    # Cents and a sub-cent tail, as billing rows have: a float anywhere would show.
    return Decimal("0.25") + Decimal(writer * EACH + item) / 1000 + Decimal("0.000000000007")


def test_parallel_writers_and_evaluations_keep_exact_totals_and_fire_each_rule_once(org_a, alice):
    budget = Budget.objects.create(organization=org_a, name="GPU", amount=Decimal("60.00"))
    channel = create_channel(org_a, "ops", "email", "ops@example.com")
    for percent in (50, 80, 100):
        rule = AlertRule.objects.create(organization=org_a, budget=budget, percent=percent)
        rule.channels.add(channel)
    written = [amount(w, i) for w in range(WRITERS) for i in range(EACH)]
    expected = sum(written, Decimal(0))
    assert expected > budget.amount  # every threshold is crossed on the way

    def writer(n):
        for i in range(EACH):
            values = {
                "amount": amount(n, i),
                "incurred_at": timezone.now(),
                "external_id": f"{n}-{i}",
            }
            # Each write evaluates the organization's budgets after its commit (inline here):
            # evaluations run in parallel with each other and with the writes.
            _, created = recording.record(org_a, values, ExpenseSource.API, alice)
            assert created
        # A retried request (same external id) from every writer at once adds nothing.
        _, created = recording.record(
            org_a,
            {"amount": amount(n, 0), "incurred_at": timezone.now(), "external_id": f"{n}-0"},
            ExpenseSource.API,
        )
        assert not created

    assert in_threads(WRITERS, writer) == []
    stored = Expense.objects.for_org(org_a).aggregate(n=Count("id"), total=Sum("amount"))
    assert stored == {"n": WRITERS * EACH, "total": expected}
    current = figures(budget)  # from the daily roll-ups every write keeps
    assert sum(current.daily.values()) == expected
    shown_spent = expected.quantize(Decimal("0.0001"), ROUND_HALF_UP)  # figures show 4 places
    assert current.spent == shown_spent
    shown = api_client(user=alice).get(f"/api/v1/orgs/org-a/budgets/{budget.pk}/").json()
    assert Decimal(shown["figures"]["spent"]) == shown_spent
    fired = Alert.objects.filter(budget=budget).values_list("percent", flat=True)
    assert sorted(fired) == [50, 80, 100]
    assert Delivery.objects.filter(channel=channel).count() == 3


def test_one_interruption_posted_many_times_at_once_is_handled_once(
    catalog, org_a, alice, alice_write_token
):
    fleet = fleets.create(
        org_a,
        {
            "name": "posted",
            "provider": "simulated",
            "region": "us-east-1",
            "instance_types": ["p3.2xlarge"],
            "availability_zones": ["us-east-1a", "us-east-1b"],
            "target_count": 1,
            "total_steps": 1000,
        },
        alice,
    )
    first = fleet.attempts.get()
    event = warning("same-event", first.provider_instance_id)  # one event, delivered 6 times
    statuses = []

    def post(_):
        client = api_client(token=alice_write_token)
        response = client.post("/api/v1/orgs/org-a/spot/events/", event, format="json")
        statuses.append(response.status_code)

    assert in_threads(6, post) == []
    assert sorted(statuses) == [200] * 5 + [202]  # accepted once, then known
    assert InterruptionEvent.objects.filter(fleet=fleet).count() == 1
    assert fleet.attempts.filter(state=AttemptState.RUNNING).count() == 1
    assert fleet.attempts.count() == 2
    assert Expense.objects.for_org(org_a).filter(source=ExpenseSource.SPOT).count() == 1
