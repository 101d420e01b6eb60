"""The temporary table a billing import stages its checked rows in, then inserts from in one
set-based statement that skips stored external ids.

On PostgreSQL the rows go in with `COPY` (psycopg 3); elsewhere (SQLite, local runs) with batched
INSERTs. The table lives on the import's own database connection and disappears with it, so a
worker killed half-way leaves nothing behind.
"""

import json

from django.db import connection

from budgets.models import Expense, ExpenseSource

TABLE = "budgets_import_stage"
COLUMNS = (
    "amount",
    "currency",
    "provider",
    "service",
    "service_category",
    "region",
    "resource_id",
    "tags",
    "incurred_at",
    "charge_period_end",
    "purchase_type",
    "external_id",
    "description",
)
POSTGRES_TYPES = {
    "amount": "numeric",
    "tags": "jsonb",
    "incurred_at": "timestamptz",
    "charge_period_end": "timestamptz",
}


class Stage:
    """`with Stage() as stage: stage.add(values); stage.flush(); stage.insert_expenses(...)`."""

    def __init__(self):
        self.postgres = connection.vendor == "postgresql"
        self.pending: list[tuple] = []
        self.staged = 0

    def __enter__(self):
        types = POSTGRES_TYPES if self.postgres else {}
        columns = ", ".join(f"{name} {types.get(name, 'text')}" for name in COLUMNS)
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {TABLE}")
            cursor.execute(f"CREATE TEMPORARY TABLE {TABLE} ({columns})")
        return self

    def __exit__(self, *exc):
        if connection.connection is not None and connection.is_usable():
            with connection.cursor() as cursor:
                cursor.execute(f"DROP TABLE IF EXISTS {TABLE}")

    def add(self, row) -> None:
        """Stage one focus.FocusRow (already checked)."""
        self.pending.append(
            (
                row.amount,
                row.currency,
                row.provider[:32],
                row.service[:200],
                row.service_category[:80],
                row.region[:60],
                row.resource_id[:500],
                json.dumps(row.tags),
                row.charge_period_start,
                row.charge_period_end,
                row.purchase_type,
                f"focus:{row.external_id}",
                row.description,
            )
        )

    def flush(self) -> None:
        if not self.pending:
            return
        with connection.cursor() as cursor:
            if self.postgres:
                sql = f"COPY {TABLE} ({', '.join(COLUMNS)}) FROM STDIN"
                with cursor.cursor.copy(sql) as copy:
                    for values in self.pending:
                        copy.write_row(values)
            else:
                ops = connection.ops
                cursor.executemany(
                    f"INSERT INTO {TABLE} VALUES ({', '.join(['%s'] * len(COLUMNS))})",  # noqa: S608
                    [
                        (
                            ops.adapt_decimalfield_value(values[0], 24, 12),
                            *values[1:8],
                            ops.adapt_datetimefield_value(values[8]),
                            ops.adapt_datetimefield_value(values[9]),
                            *values[10:],
                        )
                        for values in self.pending
                    ],
                )
        self.staged += len(self.pending)
        self.pending = []

    def insert_expenses(self, batch, now) -> int:
        """Insert every staged row whose external id the organization has not stored; how many.
        Run inside the transaction that also updates the roll-ups and finishes the import."""
        self.flush()
        fixed = ("organization_id", "team_id", "import_batch_id", "source", "created_at")
        table = Expense._meta.db_table
        with connection.cursor() as cursor:
            if self.postgres:
                # The commit need not wait for the disk: a crash before the WAL gets there loses
                # this whole transaction - rows, roll-ups and the completed status together -
                # and the import is resumed (importer.resume_stalled).
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
            cursor.execute(
                f"INSERT INTO {table} ({', '.join(fixed + COLUMNS)}) "  # noqa: S608 - fixed names
                f"SELECT %s, %s, %s, %s, %s, {', '.join(COLUMNS)} FROM {TABLE} WHERE 1 = 1 "
                "ON CONFLICT (organization_id, external_id) WHERE NOT (external_id = '') "
                "DO NOTHING",
                [
                    batch.organization_id,
                    batch.team_id,
                    batch.pk,
                    ExpenseSource.IMPORT,
                    connection.ops.adapt_datetimefield_value(now),
                ],
            )
            return cursor.rowcount
