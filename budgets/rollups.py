"""Daily spend roll-ups (DailySpend): kept exact by every expense write, read by budget figures.

Writers call `add_rows` after inserting and `subtract_rows` (on rows they locked with `lock`)
before deleting or changing, inside their own transaction, so a roll-up never disagrees with the
expenses a committed transaction left. The sums are computed by the database from the stored
rows, grouped by the organization-local day, so they match what a query over expenses returns.
"""

import zoneinfo
from collections.abc import Iterator

from django.db import connection, transaction
from django.db.models import Count, Sum
from django.db.models.functions import TruncDate

from budgets.models import DailySpend, Expense
from costsite.orgs.models import Organization

CHUNK = 5000
KEY = ("day", "team_key", "provider", "service_category", "region", "currency")
GROUP_FIELDS = ("day", "team_id", "provider", "service_category", "region", "currency")


def lock(expenses) -> list[int]:
    """Lock the rows of `expenses` for this transaction; their ids."""
    return list(expenses.select_for_update().order_by("pk").values_list("pk", flat=True))


def lock_in_chunks(expenses) -> Iterator[list[int]]:
    pks = lock(expenses)
    for start in range(0, len(pks), CHUNK):
        yield pks[start : start + CHUNK]


def add_rows(pks: list[int]) -> None:
    for start in range(0, len(pks), CHUNK):
        apply(Expense.objects.filter(pk__in=pks[start : start + CHUNK]), +1)


def subtract_rows(pks: list[int]) -> None:
    for start in range(0, len(pks), CHUNK):
        apply(Expense.objects.filter(pk__in=pks[start : start + CHUNK]), -1)


def apply(expenses, sign: int) -> None:
    """Add (sign +1) or subtract (-1) the stored `expenses` to or from the roll-ups."""
    zones = dict(
        Organization.objects.filter(
            pk__in=expenses.order_by().values("organization_id")
        ).values_list("pk", "time_zone")
    )
    for org_id, zone in sorted(zones.items()):
        _upsert(org_id, grouped(expenses.filter(organization_id=org_id), zone), sign)


def grouped(expenses, zone: str):
    """(day, team, provider, category, region, currency, total, count) of `expenses`."""
    return (
        expenses.annotate(day=TruncDate("incurred_at", tzinfo=zoneinfo.ZoneInfo(zone)))
        .values(*GROUP_FIELDS)
        .annotate(total=Sum("amount"), count=Count("pk"))
        .values_list(*GROUP_FIELDS, "total", "count")
        .order_by()
    )


def _upsert(org_id: int, rows, sign: int) -> None:
    """Add the rows to the roll-ups in key order (so concurrent writers lock rows in the same
    order and cannot deadlock); drop keys left with no expenses."""
    params = sorted(
        (org_id, day, team or 0, provider, category, region, currency, sign * total, sign * n)
        for day, team, provider, category, region, currency, total, n in rows
    )
    if not params:
        return
    table = DailySpend._meta.db_table
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {table} (organization_id, {', '.join(KEY)}, amount, expenses) "  # noqa: S608 - fixed names
            f"VALUES ({', '.join(['%s'] * 9)}) "
            f"ON CONFLICT (organization_id, {', '.join(KEY)}) DO UPDATE SET "
            f"amount = {table}.amount + excluded.amount, "
            f"expenses = {table}.expenses + excluded.expenses",
            params,
        )
    if sign < 0:  # only the days just touched: not a scan of all the organization's rows
        days = {row[1] for row in params}
        DailySpend.objects.filter(organization_id=org_id, day__in=days, expenses__lte=0).delete()


@transaction.atomic
def rebuild(organization: Organization) -> None:
    """Recompute an organization's roll-ups from its expenses (after a time zone change), all or
    nothing: budgets would read a half-built set as less spend."""
    DailySpend.objects.filter(organization=organization).delete()
    _upsert(
        organization.pk,
        grouped(Expense.objects.for_org(organization), organization.time_zone),
        +1,
    )


def forget_team(team) -> None:
    """A deleted team's spend moves to 'no team', as its expenses do (SET_NULL)."""
    rows = DailySpend.objects.filter(organization_id=team.organization_id, team_key=team.pk)
    moved = list(rows.values_list(*KEY, "amount", "expenses"))
    rows.delete()
    _upsert(team.organization_id, ((d, None, *rest) for d, _, *rest in moved), +1)


def remember_time_zone(sender, instance, update_fields=None, **kwargs):
    """pre_save of Organization: note the stored time zone, to see whether it changes."""
    if update_fields is not None and "time_zone" not in update_fields:
        instance._stored_time_zone = None
        return
    stored = Organization.objects.filter(pk=instance.pk).values_list("time_zone", flat=True)
    instance._stored_time_zone = stored.first() if instance.pk else None


def follow_time_zone(sender, instance, created, **kwargs):
    """post_save of Organization: local days moved, so re-group the roll-ups."""
    if not created and instance._stored_time_zone not in (None, instance.time_zone):
        rebuild(instance)


def on_team_delete(sender, instance, **kwargs):
    forget_team(instance)


def drift(organization: Organization) -> list[tuple]:
    """Keys whose roll-up differs from the expenses (empty when all is well). Amounts are
    compared to 8 places: SQLite sums decimals as floats."""
    want = {
        (day, team or 0, provider, category, region, currency): (round(total, 8), n)
        for day, team, provider, category, region, currency, total, n in grouped(
            Expense.objects.for_org(organization), organization.time_zone
        )
    }
    have = {
        tuple(row[:6]): (round(row[6], 8), row[7])
        for row in DailySpend.objects.for_org(organization).values_list(*KEY, "amount", "expenses")
    }
    return sorted(
        (key, have.get(key), want.get(key))
        for key in want.keys() | have.keys()
        if have.get(key) != want.get(key)
    )
