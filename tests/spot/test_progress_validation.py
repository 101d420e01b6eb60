"""The progress endpoint validates its samples once, in the serializer: a sample time outside
2000 … now + a day is a 400 naming the sample's index, and a rejected report stores nothing."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from estimates.models import UtilizationSample
from spot import orchestrator
from spot.models import ProgressReport


@pytest.fixture
def fleet(make_fleet):
    return make_fleet()


def progress(api, alice, fleet, samples):
    url = f"/api/v1/orgs/org-a/spot/fleets/{fleet.pk}/progress/"
    return api(user=alice).post(url, {"step": 5, "samples": samples})


GOOD = {"at": "2026-11-20T08:00:00Z", "gpu_utilization": 80}


@pytest.mark.parametrize(
    "at",
    [
        lambda now: "1999-12-31T23:59:59Z",
        lambda now: (now + timedelta(days=1, minutes=5)).isoformat(),
        lambda now: "not a time",
    ],
    ids=["before-2000", "over-a-day-ahead", "not-a-time"],
)
def test_a_bad_sample_time_is_400_with_its_index_and_nothing_is_stored(api, alice, fleet, at):
    bad = {"at": at(timezone.now()), "gpu_utilization": 70}
    response = progress(api, alice, fleet, [GOOD, bad, GOOD])
    assert response.status_code == 400
    errors = response.json()["samples"]
    assert list(errors) == ["1"] and list(errors["1"]) == ["at"]
    fleet.refresh_from_db()
    assert fleet.progress_step == 0
    assert not ProgressReport.objects.exists()
    assert not UtilizationSample.objects.exists()


def test_samples_in_range_are_stored_as_before(api, alice, fleet):
    ahead = (timezone.now() + timedelta(hours=23)).replace(microsecond=0)
    samples = [
        {"at": "2000-01-01T00:00:00Z", "gpu_utilization": 10},  # the earliest accepted
        {"at": ahead.isoformat(), "gpu_utilization": 20},  # within the day of clock skew
        {"at": "2026-11-20T09:00:00+01:00", "gpu_utilization": 30},
        {"at": "2026-11-20T09:00:00", "gpu_utilization": 40, "cpu_utilization": 5},  # UTC
        {"gpu_utilization": 50},  # at the report's time
        {"at": "2026-11-20T10:00:00Z", "cpu_utilization": 60},  # no GPU figure: not kept
    ]
    before = timezone.now()
    response = progress(api, alice, fleet, samples)
    assert response.status_code == 200, response.content
    stored = {s.gpu_utilization: s for s in UtilizationSample.objects.all()}
    assert sorted(stored) == [10, 20, 30, 40, 50]
    assert stored[10].at == datetime(2000, 1, 1, tzinfo=UTC)
    assert stored[20].at == ahead
    assert stored[30].at == datetime(2026, 11, 20, 8, tzinfo=UTC)
    assert (stored[40].at, stored[40].cpu_utilization) == (datetime(2026, 11, 20, 9, tzinfo=UTC), 5)
    report = ProgressReport.objects.get()
    assert stored[50].at == report.at and report.at >= before
    assert (stored[10].source, stored[10].instance_type) == ("spot", "p3.2xlarge")
    fleet.refresh_from_db()
    assert fleet.progress_step == 5


def test_the_sample_job_of_a_long_fleet_name_fits_its_column(api, alice, make_fleet):
    """ "fleet <id>: <name> (<instance id>)" with a 120-character name and a 100-character
    instance id: the name is shortened, the fleet id and the instance id are kept."""
    fleet = make_fleet(name="n" * 120)
    url = f"/api/v1/orgs/org-a/spot/fleets/{fleet.pk}/progress/"
    instance_id = "i-" + "x" * 98
    body = {"step": 1, "instance_id": instance_id, "samples": [{"gpu_utilization": 50}]}
    response = api(user=alice).post(url, body)
    assert response.status_code == 200, response.content
    job = UtilizationSample.objects.get().job
    assert len(job) == UtilizationSample._meta.get_field("job").max_length
    assert job.startswith(f"fleet {fleet.pk}: nnn") and job.endswith(f"n… ({instance_id})")


def test_record_progress_takes_validated_datetimes(org_a, fleet):
    at = timezone.now().replace(microsecond=0)
    sample_at = at - timedelta(minutes=1)
    orchestrator.record_progress(fleet, 5, at, "", [{"at": sample_at, "gpu_utilization": 45.0}])
    assert UtilizationSample.objects.for_org(org_a).get().at == sample_at
