"""The admin site is for staff only; uploads are never served back or stored outside imports/."""

from django.core.files.uploadedfile import SimpleUploadedFile

from budgets.models import ExpenseImport
from tests.conftest import api_client


def test_a_non_staff_owner_is_sent_to_the_admin_login(client, org_a, alice):
    assert not alice.is_staff
    client.force_login(alice)
    for url in ["/admin/", "/admin/orgs/team/", "/admin/budgets/expense/"]:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")


def test_media_is_not_served(client, db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    (tmp_path / "imports").mkdir()
    (tmp_path / "imports" / "bill.csv").write_text("secret,1\n")
    for url in ["/media/imports/bill.csv", "/media/", "/static/../media/imports/bill.csv"]:
        assert client.get(url).status_code == 404


def test_an_upload_name_cannot_place_the_file(org_a, alice, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    header = b"ProviderName,BillingCurrency,ChargePeriodStart,ChargePeriodEnd,BilledCost\n"
    row = b"AWS,USD,2026-11-01 00:00:00,2026-11-01 01:00:00,1.25\n"
    upload = SimpleUploadedFile("../../../evil.html", header + row, "text/html")
    response = api_client(user=alice).post(
        "/api/v1/orgs/org-a/expenses/import",
        {"file": upload, "cost_column": "BilledCost"},
        format="multipart",
    )
    assert response.status_code == 202, response.content
    batch = ExpenseImport.objects.for_org(org_a).get()
    assert batch.filename == "evil.html"  # Django keeps only the base name of a client path
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert len(written) == 1 and written[0].is_relative_to(tmp_path / "media" / "imports")
    assert ".." not in batch.file.name and "evil" not in batch.file.name
