"""Pulling daily costs from AWS Cost Explorer into an organization's expenses (idempotent:
each day × service × region is one expense with a stable external id)."""

from datetime import UTC, datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from budgets import cost_explorer
from budgets.alerts import queue_evaluation
from budgets.models import CloudCostSource, Expense, ExpenseSource
from budgets.recording import insert_new


def store(organization, records) -> tuple[int, int]:
    """(created, already stored)."""
    with transaction.atomic():
        new = insert_new(
            organization,
            [
                Expense(
                    organization=organization,
                    amount=record.amount,
                    currency=record.currency,
                    provider="aws",
                    service=record.service[:200],
                    region=record.region,
                    incurred_at=datetime.combine(record.day, time.min, tzinfo=UTC),
                    charge_period_end=datetime.combine(
                        record.day + timedelta(days=1), time.min, tzinfo=UTC
                    ),
                    source=ExpenseSource.CLOUD,
                    external_id=record.external_id,
                    description="AWS Cost Explorer" + (" (estimated)" if record.estimated else ""),
                )
                for record in records
            ],
        )
    if new:
        queue_evaluation(organization.pk)
    return len(new), len(records) - len(new)


def pull(source: CloudCostSource, days: int, client=None, today=None) -> str:
    today = today or timezone.now().date()
    start, end = today - timedelta(days=days), today
    try:
        records = cost_explorer.fetch_daily_costs(
            start, end, client=client, account_id=source.account_label
        )
    except cost_explorer.CostExplorerError as exc:
        result = f"failed: {exc}"
    else:
        created, skipped = store(source.organization, records)
        result = f"{created} new, {skipped} already stored ({start} to {end})"
    CloudCostSource.objects.filter(pk=source.pk).update(
        last_pulled_at=timezone.now(), last_result=result[:500]
    )
    return result
