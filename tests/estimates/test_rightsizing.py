"""Right-sizing from GPU utilisation: CSV parsing, idempotent storage, synthetic traces of each
class with hand-checked percentiles and savings, the API, the page and the spot progress hook.

Traces are one day of 5-minute samples (288) in a 30-day window, so every job's duty cycle is
24 h / 720 h = 1/30 and a monthly figure is price × 730 / 30. Utilisation and memory are
shuffled evenly spaced values (numpy, fixed seed): the percentile of `linspace(a, b, n)` with
linear interpolation is a + (b − a) × q whatever the order.
"""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from costsite.orgs.models import Team
from estimates import rightsizing, utilization
from estimates.models import UtilizationSample
from estimates.offers import offer_table

DATA = Path(__file__).resolve().parent / "data"
T0 = datetime(2026, 11, 1, tzinfo=UTC)
START, END = T0, T0 + timedelta(days=30)
STEP = timedelta(minutes=5)
N = 288
API = "/api/v1/orgs/org-a/estimates"
RNG = np.random.default_rng(20261122)


def spread(low, high):
    """N evenly spaced values from low to high, shuffled."""
    return RNG.permutation(np.linspace(low, high, N))


def trace(org, job, instance_type, util, memory, total=None, gpus=1, oom_at=(), source="api"):
    rows = [
        {
            "job": job,
            "gpu_index": gpu,
            "at": T0 + i * STEP,
            "gpu_utilization": float(u),
            "gpu_memory_used_gb": float(m),
            "gpu_memory_total_gb": total,
            "oom": i in oom_at,
            "provider": "aws",
            "region": "us-east-1",
            "instance_type": instance_type,
        }
        for gpu in range(gpus)
        for i, (u, m) in enumerate(zip(util, memory, strict=True))
    ]
    return utilization.store(org, rows, source)


def analyse(org, **kwargs):
    samples = UtilizationSample.objects.all()
    results = rightsizing.analyse(org, offer_table(org), samples, START, END, **kwargs)
    return {r["job"]: r for r in results}


# --- Synthetic traces --------------------------------------------------------------------------


def test_over_provisioned_v100_moves_to_a_t4(org_a, catalog):
    trace(org_a, "bert", "p3.2xlarge", spread(10, 40), spread(2, 6))
    job = analyse(org_a)["bert"]
    assert job["samples"] == N and job["gpus"] == 1
    assert job["hours_observed"] == 24.0 and job["duty_cycle"] == pytest.approx(1 / 30, abs=1e-4)
    # linspace(10, 40): p50 = 25, p95 = 10 + 30 × 0.95, p99 = 10 + 30 × 0.99.
    assert job["gpu_utilization"] == {"p50": 25.0, "p95": 38.5, "p99": 39.7, "mean": 25.0}
    # No card size in the samples: the catalogue's V100 (16 GB); 6 / 16 = 37.5 %.
    assert job["gpu_memory"] == {
        "peak_gb": 6.0,
        "p95_gb": 5.8,
        "card_gb": 16.0,
        "card_source": "catalogue",
        "peak_percent": 37.5,
        "p95_percent": 36.25,
    }
    assert job["classification"] == "over_provisioned"
    # Needs ≥ 6 × 1.2 = 7.2 GB and ≥ 125 × 0.385 × 1.2 = 57.75 TFLOP/s: the T4 (65, 16 GB) fits;
    # the A10G's TFLOP/s are not in the catalogue, so g5.xlarge is not offered.
    offer = job["recommendation"]["offer"]
    assert job["recommendation"]["action"] == "switch"
    assert (offer["instance_type"], offer["price_per_hour"]) == ("g4dn.xlarge", "0.526000")
    assert (offer["source"], offer["as_of"]) == ("test fixture", "2026-01-01")
    assert job["current"]["price_per_hour"] == "3.060000"
    # (3.06 − 0.526) × 730 × 1/30 = 61.66066…; the current cost 3.06 × 730 / 30 = 74.46.
    assert job["monthly_savings"] == "61.6607"
    assert job["monthly_cost"] == "74.4600"
    assert job["currency"] == "USD"


def test_idle_instance_is_stopped_saving_its_whole_cost(org_a, catalog):
    trace(org_a, "notebook", "g5.xlarge", spread(0, 4), spread(1, 2))
    job = analyse(org_a)["notebook"]
    assert job["gpu_utilization"]["p95"] == 3.8
    assert job["classification"] == "idle"
    assert job["recommendation"] == {
        "action": "stop",
        "offer": None,
        "reason": "Stop it: its GPUs are idle.",
    }
    assert job["monthly_savings"] == "24.4793"  # 1.006 × 730 / 30 = 24.47933…


def test_under_provisioned_with_oom_goes_to_a_bigger_card(org_a, catalog):
    # nvidia-smi reports a 16 GB V100 as 16160 MiB = 15.78125 GB; peak 15.2 → 96.3 %.
    trace(org_a, "llm", "p3.2xlarge", spread(60, 90), spread(10, 15.2), 15.78125, oom_at={100})
    job = analyse(org_a)["llm"]
    assert job["gpu_memory"]["card_source"] == "samples"
    assert job["gpu_memory"]["peak_percent"] == pytest.approx(96.32, abs=0.01)
    assert job["gpu_utilization"]["p95"] == 88.5
    assert job["oom_count"] == 1
    assert job["classification"] == "under_provisioned"
    assert job["reasons"][0] == "1 out-of-memory event(s)"
    # ≥ 15.2 × 1.5 = 22.8 GB on a card bigger than 16 GB, compute ratio ≥ 0.885 × 1.2: the A100
    # (312 / 125) of p4d.24xlarge (32.77) beats p4de (40.96); the A10G's compute is unknown.
    recommendation = job["recommendation"]
    assert recommendation["offer"]["instance_type"] == "p4d.24xlarge"
    assert recommendation["reason"] == "≥ 22.8 GB per GPU, a bigger card"
    assert job["monthly_savings"] == "-722.9433"  # (3.06 − 32.77) × 730 / 30


def test_oom_without_memory_readings_still_asks_for_a_bigger_card(org_a, catalog):
    where = {"provider": "aws", "region": "us-east-1", "instance_type": "g4dn.xlarge"}
    rows = [
        {"job": "t4", "at": T0 + i * STEP, "gpu_utilization": float(u), "oom": i == 5, **where}
        for i, u in enumerate(spread(40, 60))
    ]
    utilization.store(org_a, rows, "api")
    job = analyse(org_a)["t4"]
    assert (job["classification"], job["gpu_memory"]["peak_gb"]) == ("under_provisioned", None)
    # A card bigger than the T4's 16 GB with compute ≥ 65 × 0.59 × 1.2: the A100 of p4d.
    assert job["recommendation"]["offer"]["instance_type"] == "p4d.24xlarge"
    assert job["recommendation"]["reason"] == "a bigger card"


def test_right_sized_job_keeps_its_instance(org_a, catalog):
    trace(org_a, "resnet", "p3.2xlarge", spread(50, 80), spread(8, 11))
    job = analyse(org_a)["resnet"]
    assert job["classification"] == "right_sized"
    assert job["gpu_memory"]["peak_percent"] == 68.75
    # A T4 has too little compute (65 < 125 × 0.785 × 1.2): nothing cheaper fits.
    assert job["recommendation"]["action"] == "keep"
    assert job["monthly_savings"] == "0.0000"


def test_multi_gpu_job_needs_as_many_gpus(org_a, catalog):
    trace(org_a, "ddp", "p4d.24xlarge", spread(10, 40), spread(4, 10), gpus=8)
    job = analyse(org_a)["ddp"]
    assert job["gpus"] == 8 and job["samples"] == 8 * N and job["hours_observed"] == 24.0
    assert job["gpu_memory"]["peak_percent"] == 25.0  # of the catalogue's 40 GB
    assert job["classification"] == "over_provisioned"
    # Only 8-GPU offers qualify and p4d.24xlarge is the cheapest of them.
    assert job["recommendation"]["action"] == "keep"
    assert "8 GPU(s)" in job["recommendation"]["reason"]


def test_unknown_instance_type_is_analysed_without_a_recommendation(org_a, catalog):
    trace(org_a, "onprem", "dgx-a100", spread(10, 40), spread(2, 6))
    job = analyse(org_a)["onprem"]
    assert job["classification"] == "right_sized"  # no card size: memory classes unknown
    assert job["gpu_memory"]["peak_percent"] is None
    assert job["current"] is None and job["monthly_savings"] is None
    assert job["recommendation"] == {
        "action": "none",
        "offer": None,
        "reason": "Unknown aws instance type 'dgx-a100'.",
    }


def test_batch_analysis_sorts_by_saving_and_respects_the_window_and_org(org_a, org_b, catalog):
    trace(org_a, "bert", "p3.2xlarge", spread(10, 40), spread(2, 6))
    trace(org_a, "notebook", "g5.xlarge", spread(0, 4), spread(1, 2))
    trace(org_b, "theirs", "g5.xlarge", spread(0, 4), spread(1, 2))
    utilization.store(
        org_a,
        [{"job": "later", "at": END, "gpu_utilization": 1.0}],  # the window is [start, end)
        "api",
    )
    assert list(analyse(org_a)) == ["bert", "notebook"]
    report = rightsizing.report(
        org_a, offer_table(org_a), UtilizationSample.objects.all(), START, END
    )
    assert report["total_monthly_savings"] == "86.1400"  # 61.6607 + 24.4793
    assert report["window"]["hours"] == 720.0


def test_observed_hours_leave_out_gaps_between_runs():
    minutes = np.array([0, 5, 10, 130, 135]) * 60.0
    # Three samples cover 15 minutes, the two after a 2-hour gap another 10.
    assert rightsizing._observed_seconds(np.zeros(5, dtype=int), minutes) == 25 * 60


def test_spot_fleet_jobs_are_priced_at_spot(org_a, catalog):
    trace(org_a, "fleet 1: bert", "p3.2xlarge", spread(10, 40), spread(2, 6), source="spot")
    job = analyse(org_a)["fleet 1: bert"]
    assert job["current"]["purchase_option"] == "spot"
    assert job["recommendation"]["offer"]["instance_type"] == "g4dn.xlarge"
    assert job["monthly_savings"] == "4.8667"  # (0.40 − 0.20) × 730 / 30


# --- Storing and CSV ---------------------------------------------------------------------------


def test_store_is_idempotent_and_counts_duplicates_in_the_batch(org_a):
    row = {"job": "j", "at": T0, "gpu_utilization": 50.0}
    assert utilization.store(org_a, [row, {**row, "gpu_index": 1}, row], "api") == (2, 1)
    assert utilization.store(org_a, [row, {**row, "at": T0 + STEP}], "api") == (1, 1)
    assert UtilizationSample.objects.for_org(org_a).count() == 3


def test_store_refuses_another_organizations_team(org_a, org_b):
    team = Team.objects.create(organization=org_b, name="B")
    with pytest.raises(ValueError, match="another organization"):
        utilization.store(org_a, [{"job": "j", "at": T0, "gpu_utilization": 1.0}], "api", team)


def test_parse_nvidia_smi_csv():
    rows, errors = utilization.parse_csv(
        (DATA / "nvidia_smi.csv").read_bytes(), {"job": "train", "provider": "aws"}
    )
    assert errors == []
    assert len(rows) == 4
    assert rows[0] == {
        "job": "train",
        "gpu_index": 0,
        "at": datetime(2026, 11, 20, 8, 0, 0, 123000, tzinfo=UTC),
        "gpu_utilization": 87.0,
        "gpu_memory_used_gb": 29.796875,  # 30512 MiB / 1024
        "gpu_memory_total_gb": 40.0,
        "provider": "aws",
        "region": "",
        "instance_type": "",
    }
    assert [r["gpu_index"] for r in rows] == [0, 1, 0, 1]


def test_unreadable_csv_and_nul_job_names_are_upload_errors_not_crashes():
    header = b"timestamp, index, utilization.gpu [%], memory.used [MiB]\n"
    huge = header + b'2026-11-20T08:00:00Z, 0, 5, "' + b"9" * 200_000 + b'"\n'
    with pytest.raises(utilization.UploadError, match="Line 2 cannot be read as CSV"):
        utilization.parse_csv(huge, {"job": "j"})
    dcgm = b"timestamp,gpu,DCGM_FI_DEV_GPU_UTIL,DCGM_FI_DEV_FB_USED,DCGM_FI_DEV_FB_FREE,job\n"
    nul = dcgm + b"2026-11-20T08:00:00Z,0,40,6144,10016,a\x00b\n"
    rows, errors = utilization.parse_csv(nul, {})
    assert rows == [] and errors == [{"line": 2, "errors": {"job": "contains a NUL character"}}]


def test_parse_nvidia_smi_nounits_and_iso_and_unix_times():
    content = (
        b"timestamp, index, utilization.gpu [%], memory.used [MiB]\n"
        b"2026-11-20T08:00:00Z, 0, 87, 2048\n"
        b"1795161600, 0, 50, [N/A]\n"
    )
    rows, errors = utilization.parse_csv(content, {"job": "j"})
    assert errors == []
    assert [r["at"] for r in rows] == [
        datetime(2026, 11, 20, 8, tzinfo=UTC),
        datetime(2026, 11, 20, 8, tzinfo=UTC),
    ]
    assert [r["gpu_memory_used_gb"] for r in rows] == [2.0, None]


def test_parse_dcgm_csv():
    rows, errors = utilization.parse_csv((DATA / "dcgm.csv").read_bytes(), {})
    assert errors == []
    assert [(r["job"], r["gpu_index"], r["gpu_utilization"]) for r in rows] == [
        ("node-1", 0, 40.0),  # no job: the Hostname
        ("node-1", 0, 42.0),
        ("notebook", 1, 3.0),
    ]
    assert rows[0]["gpu_memory_used_gb"] == 6.0
    assert rows[0]["gpu_memory_total_gb"] == 15.78125  # (6144 + 10016) MiB used + free
    assert rows[2]["at"] == datetime(2026, 11, 20, 7, tzinfo=UTC)


def test_dcgm_upload_job_applies_to_rows_without_one():
    rows, _ = utilization.parse_csv((DATA / "dcgm.csv").read_bytes(), {"job": "pretrain"})
    assert [r["job"] for r in rows] == ["pretrain", "pretrain", "notebook"]


def test_every_bad_row_is_reported_with_its_line():
    rows, errors = utilization.parse_csv((DATA / "bad_rows.csv").read_bytes(), {"job": "j"})
    assert len(rows) == 2
    assert errors == [
        {"line": 3, "errors": {"utilization.gpu": "not a number: 'abc %'"}},
        {"line": 4, "errors": {"utilization.gpu": "must be 0-100 %: '120 %'"}},
        {"line": 5, "errors": {"memory.used": "negative: '-5 MiB'"}},
        {
            "line": 6,
            "errors": {
                "timestamp": "out of range: 1999-12-31T23:59:59+00:00 is before 2000 or in "
                "the future"
            },
        },
        {
            "line": 8,
            "errors": {
                "utilization.gpu": "not a finite number: 'NaN %'",
                "memory.used": "not a finite number: 'Infinity MiB'",
            },
        },
        {"line": 9, "errors": {"line": "not UTF-8 text"}},
        {"line": 10, "errors": {"line": "3 values for 5 columns"}},
        {"line": 11, "errors": {"memory.used": "48.8281 GB used is more than the card's 40 GB"}},
        {
            "line": 12,
            "errors": {
                "timestamp": "out of range: 2999-01-01T00:00:00+00:00 is before 2000 or in "
                "the future"
            },
        },
    ]


@pytest.mark.parametrize(
    ("content", "field", "message"),
    [
        (b"", "file", "The file is empty."),
        (b"host,util\nn1,5\n", "file", "Unrecognised columns: host, util. Accepted columns: "),
        (
            b"timestamp, index, utilization.gpu [%], memory.used [MiB], name\n",
            "file",
            "Unknown column 'name' for the nvidia-smi format. Accepted columns: timestamp, index, "
            "utilization.gpu [%], memory.used [MiB], memory.total [MiB] (optional).",
        ),
        (
            b"timestamp,gpu,DCGM_FI_DEV_GPU_UTIL\n",
            "file",
            "Missing column(s) DCGM_FI_DEV_FB_USED for the DCGM exporter format.",
        ),
        (b"timestamp, index, utilization.gpu [%], memory.used [GiB]\n", "file", "expected [MiB]"),
        (
            b"timestamp, index, utilization.gpu [%], memory.used [MiB]\n",
            "file",
            "The file has a header but no samples.",
        ),
        (b"\xff\xfe,a\n", "file", "The header is not UTF-8 text."),
    ],
)
def test_unreadable_files(content, field, message):
    with pytest.raises(utilization.UploadError) as caught:
        utilization.parse_csv(content, {"job": "j"})
    assert caught.value.field == field and message in str(caught.value)


def test_nvidia_smi_files_need_a_job():
    with pytest.raises(utilization.UploadError) as caught:
        utilization.parse_csv((DATA / "nvidia_smi.csv").read_bytes(), {})
    assert caught.value.field == "job"


def test_files_over_20_mb_are_refused():
    header = (DATA / "nvidia_smi.csv").read_bytes()
    content = header + b"\n" * (utilization.MAX_UPLOAD_BYTES - len(header) + 1)
    with pytest.raises(utilization.UploadError, match="larger than 20 MB"):
        utilization.parse_csv(content, {"job": "j"})


# --- API ---------------------------------------------------------------------------------------

SAMPLE = {"job": "train", "at": "2026-11-20T08:00:00Z", "gpu_utilization": 80}


def test_bulk_samples_are_stored_once(api, org_a, alice):
    client = api(user=alice)
    team = Team.objects.create(organization=org_a, name="ML")
    body = {
        "samples": [
            {**SAMPLE, "gpu_memory_used_gb": 30, "gpu_memory_total_gb": 40, "oom": True},
            {**SAMPLE, "gpu_index": 1, "provider": "aws", "instance_type": "p4d.24xlarge"},
        ],
        "team": team.pk,
    }
    response = client.post(f"{API}/utilization/", body)
    assert response.status_code == 201, response.content
    assert response.json() == {"created": 2, "duplicates": 0}
    assert client.post(f"{API}/utilization/", body).json() == {"created": 0, "duplicates": 2}
    sample = UtilizationSample.objects.for_org(org_a).get(gpu_index=0)
    assert (sample.team, sample.oom, sample.source) == (team, True, "api")


@pytest.mark.parametrize(
    ("sample", "field"),
    [
        ({"gpu_utilization": 101}, "gpu_utilization"),
        ({"gpu_utilization": -1}, "gpu_utilization"),
        ({"gpu_memory_used_gb": -2}, "gpu_memory_used_gb"),
        ({"gpu_memory_used_gb": 50, "gpu_memory_total_gb": 40}, "gpu_memory_used_gb"),
        ({"at": "1990-01-01T00:00:00Z"}, "at"),
        ({"at": "not a date"}, "at"),
        ({"provider": "ibm"}, "provider"),
        ({"gpu_index": 40000}, "gpu_index"),
        ({"job": ""}, "job"),
    ],
)
def test_bulk_rejects_bad_samples_and_stores_none(api, org_a, alice, sample, field):
    body = {"samples": [SAMPLE, {**SAMPLE, "gpu_index": 1, **sample}]}
    response = api(user=alice).post(f"{API}/utilization/", body)
    assert response.status_code == 400
    assert field in response.json()["samples"]["1"]
    assert not UtilizationSample.objects.exists()


def test_bulk_rejects_nan_empty_lists_and_foreign_teams(api, org_a, org_b, alice):
    client = api(user=alice)
    nan = '{"samples": [{"job": "j", "at": "2026-11-20T08:00:00Z", "gpu_utilization": NaN}]}'
    response = client.generic("POST", f"{API}/utilization/", nan, "application/json")
    assert response.status_code == 400
    assert "samples" in client.post(f"{API}/utilization/", {"samples": []}).json()
    foreign = Team.objects.create(organization=org_b, name="B")
    response = client.post(f"{API}/utilization/", {"samples": [SAMPLE], "team": foreign.pk})
    assert response.status_code == 400 and "team" in response.json()


def upload(client, name, **fields):
    file = SimpleUploadedFile(name, (DATA / name).read_bytes(), "text/csv")
    return client.post(f"{API}/utilization/upload", {"file": file, **fields}, format="multipart")


def test_csv_upload_and_idempotent_re_upload(api, org_a, alice):
    client = api(user=alice)
    fields = {"job": "train", "provider": "aws", "region": "us-east-1"}
    response = upload(client, "nvidia_smi.csv", instance_type="p4d.24xlarge", **fields)
    assert response.status_code == 201, response.content
    assert response.json() == {"created": 4, "duplicates": 0}
    again = upload(client, "nvidia_smi.csv", instance_type="p4d.24xlarge", **fields)
    assert again.json() == {"created": 0, "duplicates": 4}
    stored = UtilizationSample.objects.for_org(org_a)
    assert set(stored.values_list("source", "instance_type", "region")) == {
        ("csv", "p4d.24xlarge", "us-east-1")
    }
    assert upload(client, "dcgm.csv").json() == {"created": 3, "duplicates": 0}


def test_csv_upload_with_bad_rows_is_rejected_whole(api, org_a, alice):
    response = upload(api(user=alice), "bad_rows.csv", job="train")
    assert response.status_code == 400
    body = response.json()
    assert body["file"] == ["9 row(s) rejected; nothing was stored."]
    assert [row["line"] for row in body["rows"]] == [3, 4, 5, 6, 8, 9, 10, 11, 12]
    assert body["rows"][0] == {"line": 3, "errors": {"utilization.gpu": "not a number: 'abc %'"}}
    assert not UtilizationSample.objects.exists()


def test_csv_upload_field_errors(api, org_a, alice, monkeypatch):
    client = api(user=alice)
    assert "job" in upload(client, "nvidia_smi.csv").json()
    assert "provider" in upload(client, "nvidia_smi.csv", job="j", provider="ibm").json()
    empty = SimpleUploadedFile("empty.csv", b"", "text/csv")
    response = client.post(f"{API}/utilization/upload", {"file": empty}, format="multipart")
    assert response.status_code == 400 and "file" in response.json()
    monkeypatch.setattr(utilization, "MAX_UPLOAD_BYTES", 1024 * 1024)
    big = SimpleUploadedFile("big.csv", b"\n" * (1024 * 1024 + 1), "text/csv")
    response = client.post(f"{API}/utilization/upload", {"file": big}, format="multipart")
    assert response.json() == {"file": ["The file is larger than 1 MB."]}


def test_list_filters_by_job_and_time(api, org_a, org_b, alice):
    rows = [
        {"job": job, "at": T0 + i * STEP, "gpu_utilization": 10.0}
        for job in ("a", "b")
        for i in range(3)
    ]
    utilization.store(org_a, rows, "api")
    utilization.store(org_b, rows, "api")
    client = api(user=alice)
    assert client.get(f"{API}/utilization/").json()["count"] == 6
    since, until = (T0 + STEP).isoformat(), (T0 + 2 * STEP).isoformat()
    query = {"job": "a", "since": since, "until": until}
    results = client.get(f"{API}/utilization/", query).json()["results"]
    assert [(r["job"], r["at"]) for r in results] == [("a", "2026-11-01T00:05:00Z")]


def test_rightsizing_endpoint(api, org_a, bob, catalog):
    trace(org_a, "bert", "p3.2xlarge", spread(10, 40), spread(2, 6))
    trace(org_a, "notebook", "g5.xlarge", spread(0, 4), spread(1, 2))
    client = api(user=bob)  # a viewer reads
    response = client.get(f"{API}/rightsizing/", {"end": "2026-11-30", "days": 30})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["window"]["start"] == "2026-11-01T00:00:00+00:00"
    assert [j["job"] for j in body["jobs"]] == ["bert", "notebook"]
    assert (body["total_monthly_savings"], body["currency"]) == ("86.1400", "USD")
    one = client.get(f"{API}/rightsizing", {"end": "2026-11-30", "job": "notebook"}).json()
    assert [j["job"] for j in one["jobs"]] == ["notebook"]
    assert one["total_monthly_savings"] == "24.4793"


@pytest.mark.parametrize(
    "query",
    [
        {"days": 0},
        {"days": "x"},
        {"end": "30/11/2026"},
        {"end": "9999-12-31"},  # would overflow the window
        {"end": "0001-01-01"},
        {"purchase_option": "cheap"},
    ],
)
def test_rightsizing_endpoint_rejects_bad_queries(api, org_a, alice, query):
    response = api(user=alice).get(f"{API}/rightsizing/", query)
    assert response.status_code == 400
    assert set(response.json()) == set(query)


# --- Page --------------------------------------------------------------------------------------

PAGE = "/o/org-a/estimates/rightsizing/"


def test_page_window_far_dates_are_a_form_error(client, alice, org_a):
    client.force_login(alice)
    response = client.get(PAGE, {"end": "9999-12-31", "days": 30})
    assert response.status_code == 200
    assert "between 2000-01-01" in response.content.decode()


def test_page_shows_recommendations_with_prices_and_sources(client, org_a, alice, catalog):
    trace(org_a, "bert", "p3.2xlarge", spread(10, 40), spread(2, 6))
    client.force_login(alice)
    page = client.get(PAGE, {"end": "2026-11-30", "days": "30"}).content.decode()
    assert "Over-provisioned" in page and "g4dn.xlarge" in page
    assert "61.6607 USD" in page and "test fixture, 2026-01-01" in page
    assert 'enctype="multipart/form-data"' in page


def test_viewer_sees_the_table_but_cannot_upload(client, org_a, bob, catalog):
    trace(org_a, "bert", "p3.2xlarge", spread(10, 40), spread(2, 6))
    client.force_login(bob)
    page = client.get(PAGE, {"end": "2026-11-30"}).content.decode()
    assert "61.6607 USD" in page and 'enctype="multipart/form-data"' not in page
    file = SimpleUploadedFile("s.csv", (DATA / "nvidia_smi.csv").read_bytes())
    assert client.post(PAGE, {"file": file, "job": "j"}).status_code == 403
    assert UtilizationSample.objects.count() == N


def test_page_upload_stores_and_redirects(client, org_a, alice):
    client.force_login(alice)
    file = SimpleUploadedFile("s.csv", (DATA / "nvidia_smi.csv").read_bytes())
    response = client.post(PAGE + "?days=7", {"file": file, "job": "train", "provider": "aws"})
    assert response.status_code == 302 and response["Location"] == PAGE + "?days=7"
    assert UtilizationSample.objects.for_org(org_a).filter(job="train").count() == 4


def test_page_upload_errors_are_shown_beside_fields_and_input_kept(client, org_a, alice):
    client.force_login(alice)
    file = SimpleUploadedFile("bad.csv", (DATA / "bad_rows.csv").read_bytes())
    response = client.post(PAGE, {"file": file, "job": "train-7", "region": "us-east-1"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "9 row(s) rejected; nothing was stored." in page
    assert "Line 3: utilization.gpu — not a number: &#x27;abc %&#x27;" in page
    assert 'value="train-7"' in page and 'value="us-east-1"' in page
    file = SimpleUploadedFile("s.csv", (DATA / "nvidia_smi.csv").read_bytes())
    response = client.post(PAGE, {"file": file})
    assert "has no job column" in str(response.context["upload"].errors["job"])
    assert not UtilizationSample.objects.exists()


def test_page_window_errors(client, org_a, alice):
    client.force_login(alice)
    response = client.get(PAGE, {"days": "5"})
    assert response.context["report"] is None
    assert "days" in response.context["window"].errors


# --- Spot fleets' progress reports --------------------------------------------------------------


@pytest.fixture
def fleet(org_a):
    from spot.models import Attempt, Fleet

    team = Team.objects.create(organization=org_a, name="Research")
    fleet = Fleet.objects.create(
        organization=org_a,
        team=team,
        name="bert",
        provider="simulated",
        region="us-east-1",
        instance_types=["g4dn.xlarge", "p3.2xlarge"],
        target_count=1,
        total_steps=1000,
        status="running",
    )
    Attempt.objects.create(
        organization=org_a,
        fleet=fleet,
        slot=0,
        provider_instance_id="i-0abc",
        market="spot",
        instance_type="p3.2xlarge",
        price_per_hour="0.40",
        on_demand_price_per_hour="3.06",
        launched_at=timezone.now(),
    )
    return fleet


def test_progress_samples_become_utilisation_samples(org_a, fleet):
    from spot import orchestrator

    at = timezone.now().replace(microsecond=0)
    earlier = at - timedelta(minutes=1)  # validated by the API (SampleInput)
    samples = [
        {"at": earlier, "gpu_utilization": 40.0, "gpu_memory_used_gb": 5.0},
        {"gpu_utilization": 45.0, "gpu_memory_used_gb": 5.5, "cpu_utilization": 30.0},
        {"at": earlier, "gpu_memory_used_gb": 1.0},  # no utilisation: skipped
    ]
    orchestrator.record_progress(fleet, 5, at, "i-0abc", samples)
    stored = UtilizationSample.objects.for_org(org_a).order_by("at")
    assert [(s.at, s.gpu_utilization, s.cpu_utilization) for s in stored] == [
        (at - timedelta(minutes=1), 40.0, None),
        (at, 45.0, 30.0),
    ]
    first = stored[0]
    assert first.job == f"fleet {fleet.pk}: bert (i-0abc)"  # one job per instance
    assert (first.provider, first.region, first.instance_type) == ("aws", "us-east-1", "p3.2xlarge")
    assert (first.source, first.team) == ("spot", fleet.team)
    # The same samples again add nothing; another instance's fall back to the first type.
    orchestrator.record_progress(fleet, 6, at, "i-0abc", samples)
    assert stored.count() == 2
    orchestrator.record_progress(fleet, 7, at + timedelta(minutes=5), "i-gone", samples[1:2])
    assert stored.last().instance_type == "g4dn.xlarge"


def test_progress_endpoint_stores_samples(api, org_a, alice, fleet, catalog):
    body = {
        "step": 5,
        "instance_id": "i-0abc",
        "samples": [{"at": "2026-11-20T08:00:00Z", "gpu_utilization": 2, "gpu_memory_used_gb": 1}],
    }
    url = f"/api/v1/orgs/org-a/spot/fleets/{fleet.pk}/progress/"
    assert api(user=alice).post(url, body).status_code == 200
    sample = UtilizationSample.objects.for_org(org_a).get()
    assert (sample.at, sample.source) == (datetime(2026, 11, 20, 8, tzinfo=UTC), "spot")
    window = (datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC))
    job = rightsizing.analyse(org_a, offer_table(org_a), UtilizationSample.objects.all(), *window)
    assert job[0]["classification"] == "idle"
    assert job[0]["current"]["purchase_option"] == "spot"
