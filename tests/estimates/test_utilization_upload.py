"""The GPU-utilisation CSV upload through the portal page and through the API: one function
behind both, so the same file gets the same errors, and the same stored rows."""

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from costsite.orgs.models import Team
from estimates import utilization, utilization_upload
from estimates.models import UtilizationSample

DATA = Path(__file__).resolve().parent / "data"
PAGE = "/o/org-a/estimates/rightsizing/"
API = "/api/v1/orgs/org-a/estimates/utilization/upload"
HEADER = b"timestamp, index, utilization.gpu [%], memory.used [MiB], memory.total [MiB]\n"
GOOD_ROW = b"2026/11/20 08:00:00.000, 0, 87 %, 30512 MiB, 40960 MiB\n"
SMALL_LIMIT = 1024 * 1024

TRAIN = {"job": "train"}
BAD_UPLOADS = {
    "not a CSV": (
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01",
        TRAIN,
        {"file": ["The header is not UTF-8 text."]},
        [],
    ),
    "unknown column": (
        b"timestamp, index, utilization.gpu [%], memory.used [MiB], name\n" + GOOD_ROW,
        TRAIN,
        {
            "file": [
                "Unknown column 'name' for the nvidia-smi format. Accepted columns: timestamp, "
                "index, utilization.gpu [%], memory.used [MiB], memory.total [MiB] (optional)."
            ]
        },
        [],
    ),
    "row error on line 3": (
        HEADER + GOOD_ROW + b"2026/11/20 08:01:00.000, 0, abc %, 30512 MiB, 40960 MiB\n",
        TRAIN,
        {"file": ["1 row(s) rejected; nothing was stored."]},
        [{"line": 3, "errors": {"utilization.gpu": "not a number: 'abc %'"}}],
    ),
    "oversized": (
        HEADER + b"\n" * SMALL_LIMIT,
        TRAIN,
        {"file": ["The file is larger than 1 MB."]},
        [],
    ),
    "no job": (
        HEADER + GOOD_ROW,
        {},
        {"job": ["Required: the nvidia-smi format has no job column."]},
        [],
    ),
}


def post_to_page(client, content, **fields):
    file = SimpleUploadedFile("gpu.csv", content, "text/csv")
    response = client.post(PAGE, {"file": file, **fields})
    assert response.status_code == 200, response.status_code
    form = response.context["upload"]
    errors = {name: list(messages) for name, messages in form.errors.items()}
    return errors, response.context["row_errors"] or []


def post_to_api(client, content, **fields):
    file = SimpleUploadedFile("gpu.csv", content, "text/csv")
    response = client.post(API, {"file": file, **fields}, format="multipart")
    assert response.status_code == 400, response.content
    body = response.json()
    return body, body.pop("rows", [])


@pytest.fixture
def small_limit(monkeypatch):
    """A 1 MB limit, so the oversized file stays small."""
    monkeypatch.setattr(utilization, "MAX_UPLOAD_BYTES", SMALL_LIMIT)


@pytest.mark.parametrize(
    ("content", "fields", "errors", "rows"), BAD_UPLOADS.values(), ids=BAD_UPLOADS
)
def test_page_and_api_report_the_same_errors_and_store_nothing(
    client, api, org_a, alice, small_limit, content, fields, errors, rows
):
    client.force_login(alice)
    assert post_to_page(client, content, **fields) == (errors, rows)
    assert post_to_api(api(user=alice), content, **fields) == (errors, rows)
    assert not UtilizationSample.objects.exists()


def test_an_oversized_file_is_reported_beside_other_field_errors(
    client, api, org_a, alice, small_limit
):
    content = BAD_UPLOADS["oversized"][0]
    client.force_login(alice)
    page_errors, _ = post_to_page(client, content, provider="ibm")
    api_errors, _ = post_to_api(api(user=alice), content, provider="ibm")
    for errors in (page_errors, api_errors):
        assert errors["file"] == ["The file is larger than 1 MB."] and "provider" in errors


# Every stored column but the primary key.
STORED_FIELDS = [f.attname for f in UtilizationSample._meta.concrete_fields if not f.primary_key]


def test_page_and_api_store_the_same_rows(client, api, org_a, alice):
    team = Team.objects.create(organization=org_a, name="ML")
    fields = {"job": "train", "provider": "aws", "region": "us-east-1", "team": team.pk}
    content = (DATA / "nvidia_smi.csv").read_bytes()
    samples = UtilizationSample.objects.for_org(org_a).order_by("at", "gpu_index")

    client.force_login(alice)
    page = client.post(PAGE, {"file": SimpleUploadedFile("gpu.csv", content), **fields})
    assert page.status_code == 302
    from_page = list(samples.values(*STORED_FIELDS))
    samples.delete()
    file = SimpleUploadedFile("gpu.csv", content)
    response = api(user=alice).post(API, {"file": file, **fields}, format="multipart")
    assert response.json() == {"created": 4, "duplicates": 0}
    from_api = list(samples.values(*STORED_FIELDS))

    assert len(from_page) == 4 and from_page[0]["team_id"] == team.pk
    assert from_page == from_api


class Unreadable:
    """An upload whose size is known but which must not be read."""

    size = SMALL_LIMIT + 1

    def read(self):
        raise AssertionError("an oversized file was read")


def test_upload_refuses_an_oversized_file_before_reading_it(org_a, small_limit):
    result = utilization_upload.upload_csv(org_a, Unreadable(), job="train")
    assert not result.stored
    assert result.errors == {"file": ["The file is larger than 1 MB."]}


def test_a_dcgm_file_without_a_job_column_takes_each_rows_host_name(api, org_a, alice):
    content = (
        b"timestamp,gpu,DCGM_FI_DEV_GPU_UTIL,DCGM_FI_DEV_FB_USED,DCGM_FI_DEV_FB_FREE,Hostname\n"
        b"2026-01-20T08:00:00Z,0,40,6144,10016,node-1\n"
        b"2026-01-20T08:01:00Z,0,42,6656,9504,node-2\n"
    )
    file = SimpleUploadedFile("dcgm.csv", content)
    response = api(user=alice).post(API, {"file": file}, format="multipart")
    assert response.status_code == 201, response.content
    jobs = UtilizationSample.objects.for_org(org_a).values_list("job", flat=True)
    assert sorted(jobs) == ["node-1", "node-2"]
