"""FOCUS import end to end: API upload → django-q2 task (inline) → expenses."""

import csv
import gzip
import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Sum

from budgets.models import Expense, ExpenseImport
from tests.conftest import api_client

SAMPLE = Path(__file__).resolve().parent / "data" / "focus_1.0_sample_1000.csv"
SAMPLE_TOTAL = Decimal("20.52022672899")
API = "/api/v1/orgs/org-a/expenses"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def upload(org_a, alice, django_capture_on_commit_callbacks):
    client = api_client(user=alice)

    def send(content: bytes, name="focus.csv", **fields):
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                f"{API}/import",
                {"file": SimpleUploadedFile(name, content), **fields},
                format="multipart",
            )
        assert response.status_code == 202, response.content
        return client.get(f"{API}/imports/{response.json()['id']}/").json()

    return send


def total(org):
    return Expense.objects.for_org(org).aggregate(total=Sum("amount"))["total"]


def test_the_real_sample_imports_exactly(upload, org_a):
    report = upload(SAMPLE.read_bytes())
    assert report["status"] == "completed"
    assert (report["rows_total"], report["rows_imported"], report["rows_skipped"]) == (
        1000,
        1000,
        0,
    )
    assert total(org_a) == SAMPLE_TOTAL
    assert Expense.objects.for_org(org_a).filter(provider="aws").count() == 942
    assert not ExpenseImport.objects.get(pk=report["id"]).file  # the upload is removed


def test_reimport_and_reordered_and_gzipped_copies_add_nothing(upload, org_a):
    upload(SAMPLE.read_bytes())
    again = upload(SAMPLE.read_bytes())
    assert (again["rows_imported"], again["rows_skipped"]) == (0, 1000)
    rows = list(csv.reader(io.StringIO(SAMPLE.read_text(encoding="utf-8"))))
    order = list(reversed(range(len(rows[0]))))
    reordered = io.StringIO()
    csv.writer(reordered).writerows([[row[i] for i in order] for row in rows])
    report = upload(gzip.compress(reordered.getvalue().encode()), name="focus.csv.gz")
    assert (report["status"], report["rows_imported"], report["rows_skipped"]) == (
        "completed",
        0,
        1000,
    )
    assert total(org_a) == SAMPLE_TOTAL


def test_an_overlapping_file_adds_only_the_new_rows(upload, org_a):
    lines = SAMPLE.read_bytes().splitlines(keepends=True)
    upload(b"".join(lines[:601]))  # header + 600 rows
    report = upload(b"".join([lines[0], *lines[401:]]))  # rows 401..1000
    assert (report["rows_imported"], report["rows_skipped"]) == (400, 200)
    assert total(org_a) == SAMPLE_TOTAL


def test_a_bad_row_rejects_the_whole_file(upload, org_a):
    rows = list(csv.reader(io.StringIO(SAMPLE.read_text(encoding="utf-8"))))
    cost = rows[0].index("BilledCost")
    rows[3][cost] = "lots"  # line 4
    rows[7][cost] = "NaN"  # line 8
    text = io.StringIO()
    csv.writer(text).writerows(rows)
    report = upload(text.getvalue().encode())
    assert report["status"] == "failed" and report["rows_rejected"] == 2
    assert [error["line"] for error in report["errors"]] == [4, 8]
    assert all("BilledCost" in error["reason"] for error in report["errors"])
    assert Expense.objects.for_org(org_a).count() == 0


def test_effective_cost_column(upload, org_a):
    report = upload(SAMPLE.read_bytes(), cost_column="EffectiveCost")
    assert report["status"] == "completed"
    expected = Decimal(0)
    with SAMPLE.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["EffectiveCost"] not in ("NULL", ""):
                expected += Decimal(row["EffectiveCost"])
    assert total(org_a) == expected


def test_a_file_that_is_not_focus_fails_with_a_reason(upload, org_a):
    report = upload(b"name,amount\nx,1\n")
    assert report["status"] == "failed"
    assert (
        "ProviderName" in report["errors"][0]["reason"]
        or "BilledCost" in report["errors"][0]["reason"]
    )


def test_the_progress_page_shows_the_report(upload, org_a, alice, client):
    report = upload(SAMPLE.read_bytes())
    client.force_login(alice)
    page = client.get(f"/o/org-a/expenses/imports/{report['id']}/").content.decode()
    assert "1000 of 1000 rows processed" in page and "<strong>1000</strong> imported" in page


def test_a_long_provider_name_is_cut_to_the_column(upload, org_a):
    name = "Oracle Cloud Infrastructure Services Worldwide"  # 46 characters, the column 32
    content = (
        b"ProviderName,BillingCurrency,ChargePeriodStart,ChargePeriodEnd,BilledCost\n"
        + name.encode()
        + b",USD,2024-09-18 22:00:00,2024-09-18 23:00:00,1.5\n"
    )
    report = upload(content)
    assert report["status"] == "completed", report
    expense = Expense.objects.for_org(org_a).get()
    assert expense.provider == "oracle-cloud-infrastructure-services-worldwide"[:32]


def test_an_implausible_date_rejects_the_file_naming_its_line(upload, org_a):
    org_a.time_zone = "Asia/Tokyo"  # where 9999-12-31 23:00 UTC would be year 10000
    org_a.save()
    report = upload(
        b"BilledCost,BillingCurrency,ChargePeriodStart,ChargePeriodEnd,ProviderName\n"
        b"1.5,USD,2026-11-01T00:00:00Z,2026-11-02T00:00:00Z,AWS\n"
        b"2.5,USD,9999-12-31T23:00:00Z,9999-12-31T23:30:00Z,AWS\n"
    )
    assert report["status"] == "failed" and report["rows_rejected"] == 1
    assert [error["line"] for error in report["errors"]] == [3]
    assert "out of range" in report["errors"][0]["reason"]
    assert not Expense.objects.for_org(org_a).exists()
