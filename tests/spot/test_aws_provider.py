"""spot/providers/aws.py: the EC2 fleet provider (no database).

- Launch, describe, terminate and spot prices against a real moto server, reached through
  AWS_ENDPOINT_URL and the provider's default client.
- What moto cannot produce (AWS errors, throttling, interruptions, exact request parameters) with
  botocore's Stubber or a before-send hook on a real client.
"""

import base64
import socket
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace

import boto3
import botocore.endpoint
import pytest
from botocore.awsrequest import AWSResponse
from botocore.config import Config
from botocore.stub import ANY, Stubber

from spot.providers.aws import AwsProvider
from spot.providers.base import (
    CapacityError,
    InstanceRef,
    LaunchRequest,
    PriceTooLowError,
    ProviderError,
    TransientError,
)

pytestmark = pytest.mark.usefixtures("aws_env")

REGION = "us-east-1"
GPU = "g5.xlarge"  # in moto's offerings table, so moto quotes spot prices for it
UNKNOWN_ID = "i-0123456789abcdef0"
LAUNCHED_AT = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def refs(*ids, age=timedelta(hours=1)):
    launched_at = datetime.now(UTC) - age
    return [InstanceRef(instance_id, launched_at) for instance_id in ids]


# --- against a moto server ----------------------------------------------------------------------


@pytest.fixture
def ec2(aws_env, moto_server):
    """A checking client on the moto server; the provider under test builds its own."""
    aws_env.setenv("AWS_ENDPOINT_URL", moto_server)
    return boto3.client("ec2", region_name=REGION)


@pytest.fixture
def image_id(ec2):
    """One of moto's Amazon Linux 2 images (asking for all 1300 of them takes seconds)."""
    name = [{"Name": "name", "Values": ["amzn2-ami-hvm-2.0.*-x86_64-gp2"]}]
    return ec2.describe_images(Owners=["amazon"], Filters=name)["Images"][0]["ImageId"]


@pytest.fixture
def instance_profile(ec2):
    """A fresh instance profile (moto checks that the profile exists); its name and ARN."""
    name = f"fleet-{uuid.uuid4().hex[:8]}"
    profile = boto3.client("iam", region_name=REGION).create_instance_profile(
        InstanceProfileName=name
    )["InstanceProfile"]
    return name, profile["Arn"]


def moto_instance(ec2, instance_id):
    return ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]


def test_spot_launch(ec2, image_id, instance_profile, moto_server):
    name, arn = instance_profile
    provider = AwsProvider(REGION)
    assert provider.client.meta.endpoint_url == moto_server  # only the env var points it there

    launched = provider.launch(
        LaunchRequest(
            region=REGION,
            instance_type=GPU,
            market="spot",
            availability_zone="us-east-1b",
            max_price=Decimal("1.25"),
            image_id=image_id,
            instance_profile=name,
            user_data="#!/bin/sh\necho train\n",
            tags={"costsite:fleet": "7", "Name": "trainer"},
        )
    )

    assert launched.provider_instance_id.startswith("i-")
    assert (launched.instance_type, launched.availability_zone, launched.market) == (
        GPU,
        "us-east-1b",
        "spot",
    )
    assert launched.launched_at.tzinfo is not None
    assert launched.spot_price == Decimal("0.00001")  # moto's one fixed spot price

    instance = moto_instance(ec2, launched.provider_instance_id)
    assert instance["InstanceLifecycle"] == "spot"  # moto records no spot request
    assert instance["Placement"]["AvailabilityZone"] == "us-east-1b"
    assert instance["IamInstanceProfile"]["Arn"] == arn
    expected_tags = [{"Key": "Name", "Value": "trainer"}, {"Key": "costsite:fleet", "Value": "7"}]
    assert sorted(instance["Tags"], key=lambda tag: tag["Key"]) == expected_tags
    user_data = ec2.describe_instance_attribute(
        InstanceId=launched.provider_instance_id, Attribute="userData"
    )["UserData"]["Value"]
    assert base64.b64decode(user_data).decode() == "#!/bin/sh\necho train\n"
    volume_id = instance["BlockDeviceMappings"][0]["Ebs"]["VolumeId"]
    volume = ec2.describe_volumes(VolumeIds=[volume_id])["Volumes"][0]
    assert sorted(volume["Tags"], key=lambda tag: tag["Key"]) == expected_tags


def test_on_demand_launch_with_profile_arn(ec2, image_id, instance_profile):
    _, arn = instance_profile
    launched = AwsProvider(REGION).launch(
        LaunchRequest(
            region=REGION,
            instance_type=GPU,
            market="on_demand",
            image_id=image_id,
            instance_profile=arn,
        )
    )

    assert launched.market == "on_demand"
    assert launched.spot_price is None
    instance = moto_instance(ec2, launched.provider_instance_id)
    assert "InstanceLifecycle" not in instance
    assert launched.availability_zone == instance["Placement"]["AvailabilityZone"] != ""
    assert instance["IamInstanceProfile"]["Arn"] == arn


def test_image_id_is_required():
    provider = AwsProvider(REGION, client=object())  # never called
    with pytest.raises(ProviderError, match="image_id is required for AWS fleets"):
        provider.launch(LaunchRequest(region=REGION, instance_type=GPU, market="spot"))


def run(ec2, image_id, count):
    reservation = ec2.run_instances(
        ImageId=image_id, InstanceType=GPU, MinCount=count, MaxCount=count
    )
    return [instance["InstanceId"] for instance in reservation["Instances"]]


def test_describe_running_terminated_and_unknown(ec2, image_id):
    running, terminated = run(ec2, image_id, 2)
    ec2.terminate_instances(InstanceIds=[terminated])
    unknown = [f"i-{n:017x}" for n in range(1, 151)]
    provider = AwsProvider(REGION)
    calls = []
    provider.client.meta.events.register(
        "before-call.ec2.DescribeInstances", lambda **kwargs: calls.append(kwargs)
    )

    states = provider.describe(refs(running, terminated, *unknown, running))

    assert states == {running: "running", terminated: "terminated"} | dict.fromkeys(
        unknown, "missing"
    )
    assert len(calls) == 2  # 152 distinct ids in batches of 100
    assert provider.describe([]) == {}
    assert len(calls) == 2


def test_unknown_id_of_a_new_launch_is_pending(ec2):
    """EC2 may not list an instance for a moment after launching it (eventual consistency)."""
    provider = AwsProvider(REGION)
    assert provider.describe(refs(UNKNOWN_ID, age=timedelta(minutes=1))) == {UNKNOWN_ID: "pending"}
    assert provider.describe(refs(UNKNOWN_ID, age=timedelta(minutes=6))) == {UNKNOWN_ID: "missing"}


def test_terminate_is_idempotent(ec2, image_id):
    first, second = run(ec2, image_id, 2)
    provider = AwsProvider(REGION)

    provider.terminate([first, UNKNOWN_ID])
    provider.terminate([first, second, UNKNOWN_ID])  # already gone and never known: no error
    provider.terminate([])

    assert provider.describe(refs(first, second, UNKNOWN_ID)) == {
        first: "terminated",
        second: "terminated",
        UNKNOWN_ID: "missing",
    }


def test_spot_price_from_moto(ec2):
    provider = AwsProvider(REGION)
    assert provider.spot_price(GPU) == Decimal("0.00001")
    assert provider.spot_price(GPU, "us-east-1c") == Decimal("0.00001")
    assert provider.spot_price("p3.2xlarge") is None  # moto has no history for this type


# --- Stubber on a real client -------------------------------------------------------------------


@pytest.fixture
def stubbed():
    client = boto3.session.Session().client("ec2", region_name=REGION)
    with Stubber(client) as stub:
        yield AwsProvider(REGION, client=client), stub
        stub.assert_no_pending_responses()


def price_row(zone, price, hour):
    return {
        "AvailabilityZone": zone,
        "InstanceType": GPU,
        "ProductDescription": "Linux/UNIX",
        "SpotPrice": price,
        "Timestamp": datetime(2026, 11, 22, hour, tzinfo=UTC),
    }


def price_params(filters=()):
    return {
        "InstanceTypes": [GPU],
        "ProductDescriptions": ["Linux/UNIX"],
        "StartTime": ANY,
        "Filters": list(filters),
    }


def test_spot_price_is_each_zones_latest_and_the_lowest_zone(stubbed):
    provider, stub = stubbed
    rows = [
        price_row("us-east-1a", "0.500000", 11),
        price_row("us-east-1a", "0.300000", 9),  # older: replaced by 0.50
        price_row("us-east-1b", "0.420000", 10),
    ]
    stub.add_response("describe_spot_price_history", {"SpotPriceHistory": rows}, price_params())
    zone_filter = [{"Name": "availability-zone", "Values": ["us-east-1a"]}]
    stub.add_response(
        "describe_spot_price_history", {"SpotPriceHistory": rows[:2]}, price_params(zone_filter)
    )
    stub.add_response("describe_spot_price_history", {"SpotPriceHistory": []}, price_params())

    assert provider.spot_price(GPU) == Decimal("0.42")
    assert provider.spot_price(GPU, "us-east-1a") == Decimal("0.5")
    assert provider.spot_price(GPU) is None


def launched_instance(zone="us-east-1d"):
    return {
        "Instances": [
            {
                "InstanceId": UNKNOWN_ID,
                "InstanceType": GPU,
                "Placement": {"AvailabilityZone": zone},
                "LaunchTime": LAUNCHED_AT,
            }
        ]
    }


def test_launch_request_parameters(stubbed):
    provider, stub = stubbed
    profile = "arn:aws:iam::123456789012:instance-profile/trainer"
    tags = [{"Key": "costsite:fleet", "Value": "7"}]
    stub.add_response(
        "run_instances",
        launched_instance(),
        {
            "ImageId": "ami-12345678",
            "InstanceType": GPU,
            "MinCount": 1,
            "MaxCount": 1,
            "ClientToken": ANY,
            "Placement": {"AvailabilityZone": "us-east-1d"},
            "SubnetId": "subnet-1",
            "SecurityGroupIds": ["sg-1", "sg-2"],
            "IamInstanceProfile": {"Arn": profile},
            "UserData": "#!/bin/sh\n",
            "TagSpecifications": [
                {"ResourceType": "instance", "Tags": tags},
                {"ResourceType": "volume", "Tags": tags},
            ],
            "InstanceMarketOptions": {
                "MarketType": "spot",
                "SpotOptions": {
                    "SpotInstanceType": "one-time",
                    "InstanceInterruptionBehavior": "terminate",
                    "MaxPrice": "0.75",
                },
            },
        },
    )
    zone_filter = [{"Name": "availability-zone", "Values": ["us-east-1d"]}]
    stub.add_response(
        "describe_spot_price_history",
        {"SpotPriceHistory": [price_row("us-east-1d", "0.610000", 11)]},
        price_params(zone_filter),
    )

    launched = provider.launch(
        LaunchRequest(
            region=REGION,
            instance_type=GPU,
            market="spot",
            availability_zone="us-east-1d",
            max_price=Decimal("0.75"),
            image_id="ami-12345678",
            instance_profile=profile,
            subnet_id="subnet-1",
            security_group_ids=("sg-1", "sg-2"),
            user_data="#!/bin/sh\n",
            tags={"costsite:fleet": 7},
        )
    )

    assert launched.spot_price == Decimal("0.61")
    assert launched.launched_at == LAUNCHED_AT


def test_spot_launch_without_max_price_or_price_history(stubbed):
    provider, stub = stubbed
    stub.add_response(
        "run_instances",
        launched_instance("us-east-1a"),
        {
            "ImageId": "ami-12345678",
            "InstanceType": GPU,
            "MinCount": 1,
            "MaxCount": 1,
            "ClientToken": ANY,
            "IamInstanceProfile": {"Name": "trainer"},
            "InstanceMarketOptions": {
                "MarketType": "spot",
                "SpotOptions": {
                    "SpotInstanceType": "one-time",
                    "InstanceInterruptionBehavior": "terminate",
                },
            },
        },
    )
    stub.add_client_error("describe_spot_price_history", service_error_code="UnauthorizedOperation")

    launched = provider.launch(
        LaunchRequest(
            region=REGION,
            instance_type=GPU,
            market="spot",
            image_id="ami-12345678",
            instance_profile="trainer",
        )
    )

    assert (launched.provider_instance_id, launched.availability_zone) == (UNKNOWN_ID, "us-east-1a")
    assert launched.spot_price is None  # the price lookup failed; the launch did not


def spot_instance(instance_id, state, reason="", request_id=""):
    instance = {"InstanceId": instance_id, "State": {"Name": state}}
    if reason:
        instance["StateReason"] = {"Code": reason, "Message": reason}
    if request_id:
        instance["SpotInstanceRequestId"] = request_id
    return instance


def test_describe_recognises_interruptions(stubbed):
    provider, stub = stubbed
    instances = [
        spot_instance("i-reclaimed", "terminated", "Server.SpotInstanceTermination", "sir-1"),
        spot_instance("i-no-capacity", "shutting-down", "", "sir-2"),
        spot_instance("i-noticed", "running", "", "sir-3"),  # in its two-minute notice
        spot_instance("i-ours", "terminated", "Client.UserInitiatedShutdown", "sir-4"),
        spot_instance("i-healthy", "running", "", "sir-5"),
        spot_instance("i-stopped", "stopped", "Client.UserInitiatedShutdown"),
        spot_instance("i-stopping", "stopping"),
        spot_instance("i-starting", "pending"),
    ]
    ids = [instance["InstanceId"] for instance in instances]
    stub.add_response(
        "describe_instances",
        {"Reservations": [{"Instances": instances}]},
        {"Filters": [{"Name": "instance-id", "Values": ids}]},
    )
    statuses = {
        "sir-1": "instance-terminated-no-capacity",
        "sir-2": "instance-terminated-by-price",
        "sir-3": "marked-for-termination",
        "sir-4": "instance-terminated-by-user",
        "sir-5": "fulfilled",
    }
    stub.add_response(
        "describe_spot_instance_requests",
        {
            "SpotInstanceRequests": [
                {"SpotInstanceRequestId": request_id, "Status": {"Code": code}}
                for request_id, code in statuses.items()
            ]
        },
        {"Filters": [{"Name": "spot-instance-request-id", "Values": list(statuses)}]},
    )

    assert provider.describe(refs(*ids)) == {
        "i-reclaimed": "interrupted",
        "i-no-capacity": "interrupted",
        "i-noticed": "interrupted",
        "i-ours": "terminated",
        "i-healthy": "running",
        "i-stopped": "stopped",
        "i-stopping": "stopped",
        "i-starting": "pending",
    }


@pytest.mark.parametrize(
    ("code", "error", "match"),
    [
        ("InsufficientInstanceCapacity", CapacityError, "InsufficientInstanceCapacity: AWS says"),
        ("MaxSpotInstanceCountExceeded", CapacityError, "MaxSpotInstanceCountExceeded"),
        ("InstanceLimitExceeded", CapacityError, "InstanceLimitExceeded"),
        ("VcpuLimitExceeded", CapacityError, "VcpuLimitExceeded"),
        ("SpotCapacityNotAvailable", CapacityError, "SpotCapacityNotAvailable"),
        ("Unsupported", CapacityError, "Unsupported"),
        ("SpotMaxPriceTooLow", PriceTooLowError, "SpotMaxPriceTooLow: AWS says"),
        ("ThrottlingException", TransientError, "still throttling"),
        ("Throttling", TransientError, "still throttling"),
        (
            "AuthFailure",
            ProviderError,
            r"check the access key ID and secret access key \(AuthFailure",
        ),
        ("InvalidClientTokenId", ProviderError, "does not know the access key ID"),
        ("UnauthorizedOperation", ProviderError, "may not call ec2:RunInstances: allow it"),
        ("ExpiredToken", ProviderError, "refresh the temporary credentials"),
        ("RequestExpired", ProviderError, "check the worker's clock"),
        ("InvalidAMIID.NotFound", ProviderError, "EC2 RunInstances failed: InvalidAMIID.NotFound"),
    ],
)
def test_launch_errors_are_mapped(stubbed, code, error, match):
    provider, stub = stubbed
    stub.add_client_error("run_instances", service_error_code=code, service_message="AWS says no")
    request = LaunchRequest(region=REGION, instance_type=GPU, market="spot", image_id="ami-1")

    with pytest.raises(ProviderError, match=match) as raised:
        provider.launch(request)

    assert type(raised.value) is error
    if code in {"AuthFailure", "UnauthorizedOperation"}:
        assert "AWS says no" not in str(raised.value)  # our hint instead of AWS's encoded details


def test_other_calls_map_errors_too(stubbed):
    provider, stub = stubbed
    stub.add_client_error("describe_instances", service_error_code="AuthFailure")
    stub.add_client_error("terminate_instances", service_error_code="UnauthorizedOperation")
    stub.add_client_error("describe_spot_price_history", service_error_code="RequestLimitExceeded")

    with pytest.raises(ProviderError, match="AuthFailure"):
        provider.describe(refs(UNKNOWN_ID))
    with pytest.raises(ProviderError, match="ec2:TerminateInstances"):
        provider.terminate([UNKNOWN_ID])
    with pytest.raises(TransientError):
        provider.spot_price(GPU)


THROTTLED = (
    b'<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error>'
    b"<Code>RequestLimitExceeded</Code><Message>Request limit exceeded.</Message>"
    b"</Error></Errors><RequestID>r-1</RequestID></Response>"
)


def test_throttling_after_standard_retries_is_transient(monkeypatch):
    provider = AwsProvider(REGION)  # the default client, with its retry configuration
    attempts, delays = [], []

    def throttle(request, **kwargs):
        attempts.append(request.url)
        return AWSResponse(request.url, 503, {}, SimpleNamespace(stream=lambda: iter([THROTTLED])))

    provider.client.meta.events.register("before-send.ec2.RunInstances", throttle)
    monkeypatch.setattr(botocore.endpoint, "time", SimpleNamespace(sleep=delays.append))
    request = LaunchRequest(region=REGION, instance_type=GPU, market="spot", image_id="ami-1")

    with pytest.raises(TransientError, match="RequestLimitExceeded"):
        provider.launch(request)

    assert len(attempts) == 6  # the first try and botocore's 5 standard-mode retries
    assert len(delays) == 5


def test_no_credentials(aws_env):
    aws_env.delenv("AWS_ACCESS_KEY_ID")
    aws_env.delenv("AWS_SECRET_ACCESS_KEY")
    request = LaunchRequest(region=REGION, instance_type=GPU, market="spot", image_id="ami-1")

    with pytest.raises(ProviderError, match="no AWS credentials found: set AWS_ACCESS_KEY_ID"):
        AwsProvider(REGION).launch(request)


def test_unreachable_endpoint_is_transient():
    with socket.socket() as sock:  # a port that was free a moment ago: nothing listens on it
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = boto3.session.Session().client(
        "ec2",
        region_name=REGION,
        endpoint_url=f"http://127.0.0.1:{port}",
        config=Config(retries={"mode": "standard", "max_attempts": 1}, connect_timeout=2),
    )
    with pytest.raises(TransientError, match=f"cannot reach EC2: .*127.0.0.1:{port}"):
        AwsProvider(REGION, client=client).describe(refs(UNKNOWN_ID))
