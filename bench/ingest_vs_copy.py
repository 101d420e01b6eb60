"""FOCUS import rows/s through the product's import path (the import task: parse, check every
row, de-duplicate, insert) against PostgreSQL `COPY` of the same file into a bare table.
Goal: ratio ≥ 0.5. Also reports how import time grows with the row count, and the store floor:
the rate at which the expense table takes the same rows already parsed (`time_store_floor`)."""

import csv
import os
import random
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.common import QUICK, ROOT, production_env, record, reset_database

SAMPLE = ROOT / "tests" / "budgets" / "data" / "focus_1.0_sample_1000.csv"
WORK = ROOT / "bench" / "work"


def generate(rows: int, path: Path) -> None:
    """A deterministic FOCUS file: the sample's rows with shifted charge periods and costs."""
    rng = random.Random(20261122)  # noqa: S311 - reproducible test data, not security
    with SAMPLE.open(encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        templates = list(reader)
    start_col = header.index("ChargePeriodStart")
    end_col = header.index("ChargePeriodEnd")
    cost_col = header.index("BilledCost")
    base = datetime(2026, 1, 1, tzinfo=UTC)
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        for n in range(rows):
            row = list(templates[n % len(templates)])
            hour = base + timedelta(hours=n // len(templates))
            row[start_col] = hour.strftime("%Y-%m-%d %H:%M:%S")
            row[end_col] = (hour + timedelta(hours=1)).strftime("%Y-%m-%d %H:%M:%S")
            row[cost_col] = f"{rng.random() * 3:.10f}"
            writer.writerow(row)


def time_copy(path: Path) -> float:
    import psycopg

    from bench.common import BENCH_DATABASE_URL

    with path.open(encoding="utf-8") as handle:
        header = next(csv.reader(handle))
    columns = ", ".join(f'"{name}" text' for name in header)
    with psycopg.connect(BENCH_DATABASE_URL, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_copy")
        conn.execute(f"CREATE UNLOGGED TABLE bench_copy ({columns})")
        started = time.perf_counter()
        with (
            conn.cursor() as cursor,
            cursor.copy("COPY bench_copy FROM STDIN WITH (FORMAT csv, HEADER true)") as copy,
            path.open("rb") as data,
        ):
            while chunk := data.read(1 << 20):
                copy.write(chunk)
        elapsed = time.perf_counter() - started
        conn.execute("DROP TABLE bench_copy")
    return elapsed


def time_import(path: Path) -> float:
    """Run the import task in this process against the bench database."""
    import django

    os.environ.update(production_env())
    os.environ["DJANGO_SETTINGS_MODULE"] = "costsite.settings"
    django.setup()
    from django.core.files import File
    from django.db import connection

    from budgets import importer
    from budgets.models import ExpenseImport
    from costsite.orgs.models import Organization

    org, _ = Organization.objects.get_or_create(slug="bench", defaults={"name": "Bench"})
    with connection.cursor() as cursor:  # start empty: every row is new
        cursor.execute("TRUNCATE budgets_expense, budgets_dailyspend")
    with path.open("rb") as handle:
        batch = ExpenseImport.objects.create(
            organization=org, filename=path.name, file=File(handle, name=path.name)
        )
    started = time.perf_counter()
    outcome = importer.run(batch.pk)
    elapsed = time.perf_counter() - started
    batch.refresh_from_db()
    if outcome != "completed" or batch.rows_imported != batch.rows_total:
        raise RuntimeError(f"import {outcome}: {batch.errors[:3]}")
    return elapsed


def time_store_floor() -> float:
    """Seconds to store the imported rows again, already parsed and checked, with one INSERT …
    SELECT from an unlogged copy: the cost of the expense table itself (its indexes and foreign
    keys), which no parser can go below. Leaves the table as it found it."""
    import psycopg

    from bench.common import BENCH_DATABASE_URL

    with psycopg.connect(BENCH_DATABASE_URL, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_parsed")
        conn.execute("CREATE UNLOGGED TABLE bench_parsed AS SELECT * FROM budgets_expense")
        conn.execute("TRUNCATE budgets_expense")
        started = time.perf_counter()
        with conn.transaction():  # foreign keys are checked at commit
            conn.execute("INSERT INTO budgets_expense SELECT * FROM bench_parsed")
        elapsed = time.perf_counter() - started
        conn.execute("DROP TABLE bench_parsed")
    return elapsed


def main():
    reset_database()
    WORK.mkdir(exist_ok=True)
    full = 100_000 if QUICK else 1_000_000
    scaling = {}
    for rows in sorted({10_000, full // 10, full}):
        path = WORK / f"focus-{rows}.csv"
        if not path.exists():
            generate(rows, path)
        copy_s = time_copy(path)
        import_s = time_import(path)
        store_s = time_store_floor()
        scaling[rows] = {
            "copy_rows_per_s": round(rows / copy_s),
            "import_rows_per_s": round(rows / import_s),
            "import_s": round(import_s, 2),
            "store_floor_rows_per_s": round(rows / store_s),
            "store_floor_ratio": round(copy_s / store_s, 3),
        }
    top = scaling[full]
    record(
        "ingest_vs_copy",
        top["import_rows_per_s"] / top["copy_rows_per_s"],
        0.5,
        "higher",
        "PostgreSQL COPY of the same file into a bare (unlogged) table",
        {
            "rows": full,
            "by_rows": scaling,
            "file_mb": round((WORK / f"focus-{full}.csv").stat().st_size / 1e6, 1),
        },
    )


if __name__ == "__main__":
    main()
