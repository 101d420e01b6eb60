"""POST /expenses/bulk: a fixed number of queries however many rows, same answers as before."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from budgets import alerts, recording, rollups
from budgets.models import Alert, AlertRule, Budget, DailySpend, Expense
from costsite.notify.channels import create_channel
from costsite.notify.models import Delivery
from tests.conftest import api_client

BULK = "/api/v1/orgs/org-a/expenses/bulk"


@pytest.fixture
def client(alice_write_token):
    return api_client(token=alice_write_token)


def row(amount="1", **fields):
    return {"amount": str(amount), "incurred_at": timezone.now().isoformat(), **fields}


def post(client, rows):
    return client.post(BULK, {"expenses": rows}, format="json")


def queries_for(client, rows) -> int:
    with CaptureQueriesContext(connection) as context:
        assert post(client, rows).status_code == 201
    return len(context.captured_queries)


def mixed_rows(prefix, count):
    """Half keyed, half blank, one repeat of an earlier row, one id stored before."""
    rows = [row(external_id=f"{prefix}-{n}" if n % 2 else "") for n in range(count - 2)]
    return [*rows, row(external_id=f"{prefix}-1"), row(external_id="stored")]


def test_queries_do_not_grow_with_the_batch(client, org_a):
    assert post(client, [row(external_id="stored")]).status_code == 201  # and warms up the token
    # 50 rows stay within one INSERT on SQLite (999 parameters a statement, 19 per row).
    assert queries_for(client, mixed_rows("few", 5)) == queries_for(client, mixed_rows("many", 50))
    assert Expense.objects.for_org(org_a).count() == 1 + 3 + 48
    assert not rollups.drift(org_a)


def test_rows_without_external_id_are_each_stored(client, org_a):
    response = post(client, [row(5), row(5), row(5, external_id=""), row(5, external_id="k")])
    body = response.json()
    assert (body["created"], body["duplicates"]) == (4, 0)
    assert len(set(body["ids"])) == 4
    assert Expense.objects.for_org(org_a).filter(external_id="").count() == 3


def test_repeats_and_stored_ids_return_the_existing_expense(client, org_a):
    stored = post(client, [row(7, external_id="a")]).json()["ids"][0]
    rows = [row(1, external_id="a"), row(2, external_id="b"), row(3), row(4, external_id="b")]
    body = post(client, rows).json()
    new_b, blank = Expense.objects.for_org(org_a).exclude(pk=stored).order_by("pk")
    assert body == {"created": 2, "duplicates": 2, "ids": [stored, new_b.pk, blank.pk, new_b.pk]}
    assert (new_b.external_id, new_b.amount, blank.amount) == ("b", 2, 3)
    assert Expense.objects.get(pk=stored).amount == 7  # the stored one is left as it was


def test_rollups_count_each_stored_row_once(client, org_a):
    post(client, [row("1.25", external_id="x", provider="aws")])
    rows = [row("1.25", external_id="x", provider="aws"), row("2.5"), row("2.5"), row("0.1")]
    assert post(client, rows).status_code == 201
    assert not rollups.drift(org_a)
    assert sum(DailySpend.objects.for_org(org_a).values_list("expenses", flat=True)) == 4
    assert sum(DailySpend.objects.for_org(org_a).values_list("amount", flat=True)) == Decimal(
        "6.35"
    )


def test_a_batch_with_one_bad_row_stores_nothing(client, org_a):
    response = post(client, [row(1, external_id="ok"), row(2), row("x"), row(3)])
    assert response.status_code == 400
    errors = response.json()["expenses"]  # the bad rows only, by index
    assert list(errors) == ["2"] and "amount" in errors["2"]
    assert not Expense.objects.for_org(org_a).exists()
    assert not DailySpend.objects.for_org(org_a).exists()


def test_a_concurrent_writer_wins_and_is_not_counted_twice(client, org_a, monkeypatch):
    """Another request stores "b" after this batch looked ids up and before it inserts."""
    look_up = recording._stored_external_ids

    def racing(organization, external_ids):
        stored = look_up(organization, external_ids)
        Expense(organization=org_a, amount=9, incurred_at=timezone.now(), external_id="b").save()
        return stored

    monkeypatch.setattr(recording, "_stored_external_ids", racing)
    body = post(client, [row(1, external_id="a"), row(2, external_id="b"), row(3)]).json()
    winner = Expense.objects.for_org(org_a).get(external_id="b")
    assert (body["created"], body["duplicates"], body["ids"][1]) == (2, 1, winner.pk)
    assert winner.amount == 9
    assert Expense.objects.for_org(org_a).count() == 3
    assert not rollups.drift(org_a)


def test_a_crossing_batch_is_evaluated_once_and_fires_once(
    client, org_a, django_capture_on_commit_callbacks, monkeypatch
):
    budget = Budget.objects.create(organization=org_a, name="GPU", amount=100)
    rule = AlertRule.objects.create(organization=org_a, budget=budget, percent=80)
    channel = create_channel(org_a, "ops", "email", "ops@example.com")
    rule.channels.add(channel)
    evaluations = []
    enqueue = alerts.enqueue
    monkeypatch.setattr(alerts, "enqueue", lambda org: evaluations.append(org) or enqueue(org))
    with django_capture_on_commit_callbacks(execute=True):
        assert post(client, [row(10) for _ in range(10)]).status_code == 201  # 80% at row 8
    assert evaluations == [org_a.pk]
    assert Alert.objects.filter(rule=rule).count() == 1
    assert Alert.objects.get(rule=rule).spent == 100
    assert Delivery.objects.filter(channel=channel, event="budget.threshold_crossed").count() == 1


def test_a_batch_of_duplicates_schedules_no_evaluation(
    client, org_a, django_capture_on_commit_callbacks
):
    post(client, [row(external_id="a")])
    with django_capture_on_commit_callbacks() as scheduled:
        body = post(client, [row(external_id="a"), row(external_id="a")]).json()
    assert (body["created"], body["duplicates"]) == (0, 2)
    assert scheduled == []
