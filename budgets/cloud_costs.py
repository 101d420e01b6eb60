"""Pulling daily costs from AWS Cost Explorer into an organization's expenses (idempotent:
each day × service × region is one expense with a stable external id, updated when Cost
Explorer revises the day, and removed when it revises the day's cost to zero)."""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from budgets import cost_explorer
from budgets.alerts import queue_evaluation
from budgets.models import CloudCostSource, Expense, ExpenseSource
from budgets.recording import insert_new
from costsite.periods import day_bounds

# What a re-pull may change of a stored day (the amount above all: recent days are revised).
REVISED_FIELDS = ("amount", "currency", "description", "incurred_at", "charge_period_end")


def expense_of(organization, record: cost_explorer.DailyCost) -> Expense:
    """The expense of one Cost Explorer record: its day from the organization's local midnight
    to the next, so it counts in that day's budget period and report."""
    starts, ends = day_bounds(record.day, record.day, organization.time_zone)
    return Expense(
        organization=organization,
        amount=record.amount,
        currency=record.currency,
        provider="aws",
        service=record.service[:200],
        region=record.region,
        incurred_at=starts,
        charge_period_end=ends,
        source=ExpenseSource.CLOUD,
        external_id=record.external_id,
        description="AWS Cost Explorer" + (" (estimated)" if record.estimated else ""),
    )


def revise(organization, pulled: list[Expense]) -> int:
    """Bring the stored expenses with the external ids of `pulled` up to date with them; how
    many changed. Each is saved on its own with the fields that changed, so the roll-ups follow
    where they must (Expense.save)."""
    wanted = {}
    for expense in pulled:
        wanted.setdefault(expense.external_id, expense)
    stored = (
        Expense.objects.for_org(organization)
        .filter(external_id__in=list(wanted))
        .select_for_update()
        .order_by("pk")
    )
    revised = 0
    for expense in stored:
        fresh = wanted[expense.external_id]
        changed = [f for f in REVISED_FIELDS if getattr(expense, f) != getattr(fresh, f)]
        if changed:
            for field in changed:
                setattr(expense, field, getattr(fresh, field))
            expense.save(update_fields=changed)  # roll-ups redone only if a rolled-up field changed
            revised += 1
    return revised


def zeroed(organization, answer: cost_explorer.DailyCosts, account_label: str) -> list[int]:
    """The stored expenses of this account and metric, for a day the answer covers, that the
    answer no longer has: Cost Explorer leaves out a cost revised to zero."""
    if not answer.days:
        return []
    prefix, suffix = f"aws-ce:{account_label}:", f":{answer.metric}"
    pulled = {record.external_id for record in answer.records}
    # A day's expense starts at the organization's local midnight (or, stored before days were
    # local, at UTC midnight): a day either side holds them all.
    starts, ends = day_bounds(
        min(answer.days) - timedelta(days=1),
        max(answer.days) + timedelta(days=1),
        organization.time_zone,
    )
    candidates = Expense.objects.for_org(organization).filter(
        source=ExpenseSource.CLOUD,
        incurred_at__gte=starts,
        incurred_at__lt=ends,
        external_id__startswith=prefix,
    )
    days = {day.isoformat() for day in answer.days}
    return [
        pk
        for pk, external_id in candidates.values_list("pk", "external_id")
        if external_id.startswith(prefix)  # (SQLite's LIKE ignores case)
        and external_id[len(prefix) : len(prefix) + 10] in days
        and external_id.endswith(suffix)
        and external_id not in pulled
    ]


def store(
    organization, answer: cost_explorer.DailyCosts, account_label: str
) -> tuple[int, int, int]:
    """(created, revised, removed): new days are inserted, stored ones updated where they
    changed, and those revised to zero removed."""
    expenses = [expense_of(organization, record) for record in answer.records]
    with transaction.atomic():
        new = insert_new(organization, expenses)
        inserted = {expense.external_id for expense in new}
        revised = revise(organization, [e for e in expenses if e.external_id not in inserted])
        removed, _ = Expense.objects.filter(
            pk__in=zeroed(organization, answer, account_label)
        ).delete()
    if new or revised or removed:
        queue_evaluation(organization.pk)
    return len(new), revised, removed


def pull(source: CloudCostSource, days: int, client=None, today=None) -> str:
    today = today or timezone.now().date()
    start, end = today - timedelta(days=days), today
    try:
        answer = cost_explorer.fetch_daily_costs(
            start, end, client=client, account_id=source.account_label
        )
    except cost_explorer.CostExplorerError as exc:
        result = f"failed: {exc}"
    else:
        created, revised, removed = store(source.organization, answer, source.account_label)
        result = (
            f"{created} new, {len(answer.records) - created} already stored, {revised} of them "
            f"revised, {removed} removed as revised to zero ({start} to {end})"
        )
    CloudCostSource.objects.filter(pk=source.pk).update(
        last_pulled_at=timezone.now(), last_result=result[:500]
    )
    return result
