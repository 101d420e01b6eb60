"""Overview + budget detail page render time with many expenses and 200 budgets, against the
raw SQL aggregates those pages show, on PostgreSQL. Goal: ratio ≤ 3. Also reports how the page
time grows with the number of expenses (it should barely grow)."""

import io
import os
import random
import time
from datetime import UTC, datetime, timedelta

from bench.common import BENCH_DATABASE_URL, QUICK, production_env, record, reset_database

BUDGETS = 200
COPY_SQL = (
    "COPY budgets_expense (organization_id, team_id, amount, currency, provider, service, "
    "service_category, region, resource_id, tags, incurred_at, charge_period_end, purchase_type, "
    "source, external_id, description, import_batch_id, created_by_id, created_at) FROM STDIN"
)
PROVIDERS = ["aws", "gcp", "azure"]


def fill(expenses: int) -> None:
    """COPY `expenses` rows for organization 'bench' over the last 90 days (deterministic)."""
    import psycopg

    rng = random.Random(7)  # noqa: S311 - reproducible test data
    now = datetime.now(UTC)
    with psycopg.connect(BENCH_DATABASE_URL, autocommit=True) as conn:
        org_id = conn.execute("SELECT id FROM orgs_organization WHERE slug='bench'").fetchone()[0]
        teams = [
            r[0]
            for r in conn.execute("SELECT id FROM orgs_team WHERE organization_id=%s", [org_id])
        ]
        conn.execute("DELETE FROM budgets_expense")
        buffer = io.StringIO()
        for n in range(expenses):
            when = now - timedelta(seconds=rng.randrange(90 * 86400))
            buffer.write(
                f"{org_id}\t{teams[n % len(teams)]}\t{rng.random() * 50:.6f}\tUSD\t"
                f"{PROVIDERS[n % 3]}\tsvc{n % 40}\tcat\tregion-{n % 7}\t\t{{}}\t"
                f"{when.isoformat()}\t\\N\ton_demand\timport\t\t\t\\N\t\\N\t{now.isoformat()}\n"
            )
        buffer.seek(0)
        with (
            conn.cursor() as cursor,
            cursor.copy(COPY_SQL) as copy,
        ):
            copy.write(buffer.getvalue())
        conn.execute("ANALYZE budgets_expense")
    roll_up()


def roll_up():
    """The expenses went in with COPY, around the product: build their roll-ups as the
    product's writes would have."""
    from budgets import rollups
    from costsite.orgs.models import Organization

    rollups.rebuild(Organization.objects.get(slug="bench"))


def setup_django():
    import django

    os.environ.update(production_env(ALLOWED_HOSTS="testserver"))
    os.environ["DJANGO_SETTINGS_MODULE"] = "costsite.settings"
    django.setup()


def create_org():
    from budgets.models import Budget
    from costsite.accounts.models import User
    from costsite.orgs.membership import create_organization
    from costsite.orgs.models import Team

    owner = User.objects.create_user("bench@example.com", "x")
    org = create_organization("Bench", owner=owner, slug="bench")
    teams = [Team.objects.create(organization=org, name=f"team {i}") for i in range(10)]
    for i in range(BUDGETS):
        Budget.objects.create(
            organization=org,
            name=f"budget {i}",
            amount=10000 + i,
            team=teams[i % 10] if i % 3 else None,
            scope_provider=PROVIDERS[i % 3] if i % 2 else "",
        )
    return owner, org


def time_pages(owner, org, repeat: int) -> float:
    from django.test import Client

    from budgets.models import Budget

    client = Client()
    client.force_login(owner)
    budget = Budget.objects.for_org(org).filter(scope_provider="aws").first()
    urls = ["/o/bench/", f"/o/bench/budgets/{budget.pk}/"]
    for url in urls:
        assert client.get(url, secure=True).status_code == 200
    started = time.perf_counter()
    for _ in range(repeat):
        for url in urls:
            client.get(url, secure=True)
    return (time.perf_counter() - started) / repeat


def time_raw_sql(org, repeat: int) -> float:
    """The aggregates the two pages show: month-to-date spend, and the daily sums of the
    current period for every top-level budget (overview) plus the detail budget."""
    from django.db import connection

    from budgets.models import Budget
    from budgets.periods import current_period

    now = datetime.now(UTC)
    budgets = list(Budget.objects.for_org(org).filter(parent__isnull=True))
    budgets.append(budgets[1])
    queries = []
    for budget in budgets:
        period = current_period(budget, now)
        sql = (
            "SELECT (incurred_at AT TIME ZONE 'UTC')::date, sum(amount) FROM budgets_expense "
            "WHERE organization_id=%s AND currency='USD' AND incurred_at >= %s "
            "AND incurred_at < %s"
        )
        params = [org.pk, period.starts_at, period.ends_at]
        if budget.team_id:
            sql += " AND team_id=%s"
            params.append(budget.team_id)
        if budget.scope_provider:
            sql += " AND provider=%s"
            params.append(budget.scope_provider)
        queries.append((sql + " GROUP BY 1", params))
    queries.append(
        (
            "SELECT sum(amount) FROM budgets_expense WHERE organization_id=%s AND "
            "currency='USD' AND incurred_at >= date_trunc('month', now())",
            [org.pk],
        )
    )
    started = time.perf_counter()
    with connection.cursor() as cursor:
        for _ in range(repeat):
            for sql, params in queries:
                cursor.execute(sql, params)
                cursor.fetchall()
    return (time.perf_counter() - started) / repeat


def main():
    reset_database()
    setup_django()
    owner, org = create_org()
    full = 100_000 if QUICK else 1_000_000
    repeat = 3 if QUICK else 5
    by_rows = {}
    for rows in sorted({10_000, full // 10, full}):
        fill(rows)
        page_s = time_pages(owner, org, repeat)
        sql_s = time_raw_sql(org, repeat)
        by_rows[rows] = {
            "pages_s": round(page_s, 4),
            "sql_s": round(sql_s, 4),
            "ratio": round(page_s / sql_s, 3),
        }
    top = by_rows[full]
    record(
        "dashboard_vs_sql",
        top["pages_s"] / top["sql_s"],
        3,
        "lower",
        "raw SQL of the aggregates the overview and budget detail pages show",
        {"expenses": full, "budgets": BUDGETS, "by_rows": by_rows},
    )


if __name__ == "__main__":
    main()
