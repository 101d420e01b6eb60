"""Fleets on the aws provider against moto's EC2 server on 127.0.0.1: spot launches, an
interruption and its replacement, fallback to on-demand, capacity errors, a fatal error."""

import base64

import boto3
import pytest
from django.utils import timezone

from spot import orchestrator
from spot.models import AttemptState, FleetStatus, Market
from spot.providers import aws
from spot.providers.base import CapacityError, ProviderError


@pytest.fixture
def ec2(aws_env, moto_server):
    aws_env.setenv("AWS_ENDPOINT_URL", moto_server)
    return boto3.client("ec2", region_name="us-east-1")


@pytest.fixture
def image_id(ec2):
    name = [{"Name": "name", "Values": ["amzn2-ami-hvm-2.0.*-x86_64-gp2"]}]
    return ec2.describe_images(Owners=["amazon"], Filters=name)["Images"][0]["ImageId"]


def lifecycle(ec2, instance_id):
    reservation = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]
    return reservation["Instances"][0]


def running(fleet):
    return list(fleet.attempts.filter(state=AttemptState.RUNNING).order_by("slot"))


def test_spot_launch_interruption_replacement_and_fallback(ec2, image_id, make_fleet, commit):
    fleet = make_fleet(
        provider="aws",
        image_id=image_id,
        fallback_on_demand_after=1,
        startup_script="#!/bin/sh\necho resume={{resume_from}} fleet={{fleet_id}}\n",
    )
    assert fleet.status == FleetStatus.RUNNING
    first = running(fleet)[0]
    instance = lifecycle(ec2, first.provider_instance_id)
    assert instance["InstanceLifecycle"] == "spot"
    assert instance["Placement"]["AvailabilityZone"] == "us-east-1a"
    tags = {t["Key"]: t["Value"] for t in instance["Tags"]}
    assert tags["costsite:fleet"] == str(fleet.pk)

    orchestrator.record_checkpoint(fleet, 40, "s3://bucket/ckpt-40", timezone.now())
    commit(orchestrator.interrupt, first, timezone.now())
    fleet.refresh_from_db()
    replacement = running(fleet)[0]
    # After one interruption the policy says on-demand.
    assert replacement.market == Market.ON_DEMAND
    launched = lifecycle(ec2, replacement.provider_instance_id)
    assert "InstanceLifecycle" not in launched
    user_data = ec2.describe_instance_attribute(
        InstanceId=replacement.provider_instance_id, Attribute="userData"
    )["UserData"]["Value"]
    assert f"resume=s3://bucket/ckpt-40 fleet={fleet.pk}" in base64.b64decode(user_data).decode()

    # Completing terminates the instance in EC2.
    commit(orchestrator.record_progress, fleet, fleet.total_steps, timezone.now())
    state = lifecycle(ec2, replacement.provider_instance_id)["State"]["Name"]
    assert state in ("shutting-down", "terminated")


def test_capacity_errors_move_to_the_next_type_then_on_demand(
    ec2, image_id, make_fleet, monkeypatch
):
    real_launch = aws.AwsProvider.launch
    tried = []

    def launch(self, request):
        tried.append((request.instance_type, request.availability_zone, request.market))
        if request.market == Market.SPOT:
            raise CapacityError("InsufficientInstanceCapacity: none left")
        return real_launch(self, request)

    monkeypatch.setattr(aws.AwsProvider, "launch", launch)
    fleet = make_fleet(provider="aws", image_id=image_id, fallback_unavailable_minutes=0)
    assert tried == [
        ("p3.2xlarge", "us-east-1a", "spot"),
        ("p3.2xlarge", "us-east-1b", "spot"),
        ("g5.xlarge", "us-east-1a", "spot"),
        ("g5.xlarge", "us-east-1b", "spot"),
        ("p3.2xlarge", "us-east-1a", "on_demand"),
    ]
    assert fleet.status == FleetStatus.RUNNING
    assert running(fleet)[0].market == Market.ON_DEMAND
    assert "spot unavailable" in fleet.status_reason


def test_without_capacity_the_fleet_waits_for_the_poll(ec2, image_id, make_fleet, monkeypatch):
    def no_capacity(self, request):
        raise CapacityError("InsufficientInstanceCapacity")

    monkeypatch.setattr(aws.AwsProvider, "launch", no_capacity)
    fleet = make_fleet(provider="aws", image_id=image_id, fallback_unavailable_minutes=60)
    assert fleet.status == FleetStatus.PROVISIONING
    assert fleet.spot_unavailable_since is not None
    assert "no capacity" in fleet.status_reason


def test_a_fatal_provider_error_fails_the_fleet(ec2, make_fleet, monkeypatch):
    def denied(self, request):
        raise ProviderError("AWS rejected the credentials")

    monkeypatch.setattr(aws.AwsProvider, "launch", denied)
    fleet = make_fleet(provider="aws", image_id="ami-12345678")
    assert fleet.status == FleetStatus.FAILED
    assert fleet.status_reason == "AWS rejected the credentials"


def test_a_completed_fleet_with_a_known_workload_records_a_training_run(
    ec2, image_id, make_fleet, commit
):
    from datetime import timedelta

    from estimates.models import TrainingRun
    from spot.models import Attempt

    fleet = make_fleet(
        provider="aws", image_id=image_id, target_count=2, model_params=1e8, training_tokens=1e9
    )
    Attempt.objects.update(launched_at=timezone.now() - timedelta(hours=2))
    commit(orchestrator.record_progress, fleet, fleet.total_steps, timezone.now())
    run = TrainingRun.objects.get(external_id=f"spot-fleet-{fleet.pk}")
    # 2 × p3.2xlarge (1 V100 each) for 2 h: 4 GPU-hours, fp16 (V100 has no bf16).
    assert (run.accelerator.name, run.gpu_count, run.precision) == ("V100", 2, "fp16")
    assert run.gpu_hours == pytest.approx(4.0, rel=1e-3)
    assert run.flops == 6 * 1e8 * 1e9 and run.source == "spot"


def completed_fleet(org, **workload):
    """A completed aws fleet: 2 × p3.2xlarge (1 V100 each, 125 TFLOP/s in fp16) for 2 h, so
    4 useful GPU-hours, at most 1.8e18 FLOPs."""
    from datetime import timedelta

    from spot.models import Attempt, Fleet

    fleet = Fleet.objects.create(
        organization=org,
        name="llm",
        provider="aws",
        region="us-east-1",
        instance_types=["p3.2xlarge"],
        target_count=2,
        total_steps=10,
        status=FleetStatus.COMPLETED,
        **workload,
    )
    ended = timezone.now()
    for slot in range(2):
        Attempt.objects.create(
            organization=org,
            fleet=fleet,
            slot=slot,
            provider_instance_id=f"i-{slot}",
            market=Market.SPOT,
            instance_type="p3.2xlarge",
            price_per_hour="0.9",
            on_demand_price_per_hour="3.06",
            state=AttemptState.TERMINATED,
            launched_at=ended - timedelta(hours=2),
            ended_at=ended,
        )
    return fleet


@pytest.mark.parametrize(
    ("workload", "flops"),
    [
        ({"model_params": 1e8, "training_tokens": 1e9}, 6e17),
        # Given FLOPs win over params × tokens, as in a recorded training run.
        ({"model_params": 1e8, "training_tokens": 1e9, "training_flops": 9e17}, 9e17),
        ({"training_flops": 1.8e18}, 1.8e18),  # the hardware's peak: MFU exactly 1
        ({"training_flops": 1.8e15}, 1.8e15),  # the lowest plausible MFU, 1e-3
    ],
)
def test_a_plausible_completed_fleet_records_its_run(catalog, org_a, workload, flops):
    from estimates.models import TrainingRun
    from spot import runs

    fleet = completed_fleet(org_a, **workload)
    assert runs.record(fleet) is not None
    run = TrainingRun.objects.for_org(org_a).get(external_id=f"spot-fleet-{fleet.pk}")
    assert run.flops == flops and run.gpu_hours == pytest.approx(4.0, rel=1e-3)


@pytest.mark.parametrize(
    "workload",
    [
        {"training_flops": 1.9e18},  # faster than the V100s' peak
        {"training_flops": 1.7e15},  # MFU below 1e-3: a typo, as the training-run API says
        {"model_params": 1e3, "training_tokens": 1e9},  # 1e3 params: a typo for 1e9
        {"model_params": 1e8},  # no tokens: the workload is not known
        {},
    ],
)
def test_an_implausible_or_unknown_workload_records_no_run(catalog, org_a, workload):
    from estimates.models import TrainingRun
    from spot import runs

    assert runs.record(completed_fleet(org_a, **workload)) is None
    assert not TrainingRun.objects.exists()


def test_the_training_run_api_refuses_what_a_fleet_does_not_record(api, catalog, org_a, alice):
    """One plausibility rule: the run a fleet would not record is a 400 naming gpu_hours."""
    body = {"name": "typo", "accelerator": "V100", "gpu_count": 2, "precision": "fp16"}
    for flops in (1.9e18, 1.7e15):
        response = api(user=alice).post(
            "/api/v1/orgs/org-a/estimates/runs/", {**body, "flops": flops, "gpu_hours": 4}
        )
        assert response.status_code == 400 and list(response.json()) == ["gpu_hours"]
