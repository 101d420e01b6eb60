"""The AWS fleet provider: EC2 through boto3.

Clients use boto3's default credential chain and honour ``AWS_ENDPOINT_URL``. botocore's standard
retry mode absorbs short throttling; what still fails becomes one of the errors in `base`.
"""

import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError, NoCredentialsError
from botocore.exceptions import ConnectionError as EndpointUnreachable

from spot.providers.base import (
    LIVE_STATES,
    CapacityError,
    InstanceRef,
    Launched,
    LaunchRequest,
    PriceTooLowError,
    ProviderError,
    TransientError,
)

logger = logging.getLogger(__name__)

CLIENT_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5})
BATCH = 100  # instance ids per DescribeInstances / TerminateInstances call
NOT_FOUND = "InvalidInstanceID.NotFound"
NEW_INSTANCE_GRACE = timedelta(minutes=5)

CAPACITY_CODES = {
    "InsufficientInstanceCapacity",
    "MaxSpotInstanceCountExceeded",
    "InstanceLimitExceeded",
    "VcpuLimitExceeded",
    "SpotCapacityNotAvailable",
    "Unsupported",  # the instance type is not offered in that zone
}
THROTTLING_CODES = {"RequestLimitExceeded", "Throttling", "ThrottlingException"}
CREDENTIAL_HINTS = {
    "AuthFailure": "AWS rejected the credentials: check the access key ID and secret access key",
    "InvalidClientTokenId": "AWS does not know the access key ID: check the configured credentials",
    "UnauthorizedOperation": (
        "the AWS credentials may not call ec2:{operation}: allow it in their IAM policy "
        "(launching with an instance profile also needs iam:PassRole)"
    ),
    "ExpiredToken": "the AWS session token has expired: refresh the temporary credentials",
    "RequestExpired": "AWS says the request expired: check the worker's clock",
}
NO_CREDENTIALS = (
    "no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, an AWS profile, "
    "or give the worker an instance role"
)

# How EC2 tells an interruption apart from our own stop or terminate: the instance's state
# reason, or its spot request's status (which changes first, while the instance still runs
# through its two-minute notice).
SPOT_STATE_REASONS = {"Server.SpotInstanceTermination", "Server.SpotInstanceShutdown"}
INTERRUPTED_REQUEST_STATUSES = {
    "marked-for-termination",
    "instance-terminated-by-price",
    "instance-terminated-no-capacity",
    "instance-terminated-launch-group-constraint",
    "instance-stopped-by-price",
    "instance-stopped-no-capacity",
}


class AwsProvider:
    def __init__(self, region: str, client=None):
        self.client = client or boto3.client("ec2", region_name=region, config=CLIENT_CONFIG)

    def launch(self, request: LaunchRequest) -> Launched:
        if not request.image_id:
            raise ProviderError("image_id is required for AWS fleets")
        with _aws_errors():
            instance = self.client.run_instances(**_run_instances_params(request))["Instances"][0]
        zone = instance["Placement"]["AvailabilityZone"]
        return Launched(
            provider_instance_id=instance["InstanceId"],
            instance_type=instance["InstanceType"],
            availability_zone=zone,
            market=request.market,
            launched_at=instance["LaunchTime"],
            spot_price=self._price_at_launch(instance["InstanceType"], zone)
            if request.market == "spot"
            else None,
        )

    def describe(self, instances: list[InstanceRef]) -> dict[str, str]:
        """The state of every instance passed. EC2 lists a new instance only after a moment
        (eventual consistency), so an unknown id is "pending" for a while after its launch."""
        recent = datetime.now(UTC) - NEW_INSTANCE_GRACE
        states = {
            ref.provider_instance_id: "pending" if ref.launched_at > recent else "missing"
            for ref in instances
        }
        with _aws_errors():
            for batch in _batches(list(states)):
                # A filter, unlike InstanceIds, does not refuse the call over one unknown id.
                pages = self.client.get_paginator("describe_instances").paginate(
                    Filters=[{"Name": "instance-id", "Values": batch}]
                )
                found = [
                    instance
                    for page in pages
                    for reservation in page["Reservations"]
                    for instance in reservation["Instances"]
                ]
                interrupted_requests = self._interrupted_spot_requests(found)
                for instance in found:
                    states[instance["InstanceId"]] = _state(instance, interrupted_requests)
        return states

    def terminate(self, instance_ids: list[str]) -> None:
        with _aws_errors():
            for batch in _batches(list(dict.fromkeys(instance_ids))):
                self._terminate_known(batch)

    def spot_price(self, instance_type: str, availability_zone: str = "") -> Decimal | None:
        """The current Linux spot price in that zone, or the lowest across the region's zones."""
        zone_filter = [{"Name": "availability-zone", "Values": [availability_zone]}]
        with _aws_errors():
            rows = self.client.describe_spot_price_history(
                InstanceTypes=[instance_type],
                ProductDescriptions=["Linux/UNIX"],
                StartTime=datetime.now(UTC),  # answers with the price in effect now, per zone
                Filters=zone_filter if availability_zone else [],
            )["SpotPriceHistory"]
        latest = {}
        for row in sorted(rows, key=lambda row: row["Timestamp"]):
            latest[row["AvailabilityZone"]] = Decimal(row["SpotPrice"])
        return min(latest.values(), default=None)

    def _price_at_launch(self, instance_type: str, zone: str) -> Decimal | None:
        try:
            return self.spot_price(instance_type, zone)
        except Exception:  # the instance is running: a missing price must not lose track of it
            logger.warning("no spot price for %s in %s", instance_type, zone, exc_info=True)
            return None

    def _terminate_known(self, ids: list[str]) -> None:
        """Terminate the ids EC2 knows. EC2 refuses the whole call when one id is unknown, so
        the batch is halved until the unknown ids stand alone and are skipped."""
        try:
            self.client.terminate_instances(InstanceIds=ids)
        except ClientError as error:
            if _code(error) != NOT_FOUND:
                raise
            if len(ids) > 1:
                middle = len(ids) // 2
                self._terminate_known(ids[:middle])
                self._terminate_known(ids[middle:])

    def _interrupted_spot_requests(self, instances: list[dict]) -> set[str]:
        request_ids = [
            i["SpotInstanceRequestId"] for i in instances if i.get("SpotInstanceRequestId")
        ]
        if not request_ids:
            return set()
        pages = self.client.get_paginator("describe_spot_instance_requests").paginate(
            Filters=[{"Name": "spot-instance-request-id", "Values": request_ids}]
        )
        return {
            request["SpotInstanceRequestId"]
            for page in pages
            for request in page["SpotInstanceRequests"]
            if request.get("Status", {}).get("Code") in INTERRUPTED_REQUEST_STATUSES
        }


def _run_instances_params(request: LaunchRequest) -> dict:
    params = {
        "ImageId": request.image_id,
        "InstanceType": request.instance_type,
        "MinCount": 1,
        "MaxCount": 1,
        # Makes botocore's own retries of this call idempotent: never two instances for one launch.
        "ClientToken": str(uuid.uuid4()),
    }
    if request.availability_zone:
        params["Placement"] = {"AvailabilityZone": request.availability_zone}
    if request.subnet_id:
        params["SubnetId"] = request.subnet_id
    if request.security_group_ids:
        params["SecurityGroupIds"] = list(request.security_group_ids)
    if request.instance_profile:
        key = "Arn" if request.instance_profile.startswith("arn:") else "Name"
        params["IamInstanceProfile"] = {key: request.instance_profile}
    if request.user_data:
        params["UserData"] = request.user_data  # botocore base64-encodes it
    if request.tags:
        tags = [{"Key": str(key), "Value": str(value)} for key, value in request.tags.items()]
        params["TagSpecifications"] = [
            {"ResourceType": resource, "Tags": tags} for resource in ("instance", "volume")
        ]
    if request.market == "spot":
        spot_options = {"SpotInstanceType": "one-time", "InstanceInterruptionBehavior": "terminate"}
        if request.max_price is not None:
            spot_options["MaxPrice"] = f"{request.max_price:f}"
        params["InstanceMarketOptions"] = {"MarketType": "spot", "SpotOptions": spot_options}
    return params


def _state(instance: dict, interrupted_requests: set[str]) -> str:
    name = instance["State"]["Name"]
    if (
        instance.get("StateReason", {}).get("Code") in SPOT_STATE_REASONS
        or instance.get("SpotInstanceRequestId") in interrupted_requests
    ):
        return "interrupted"
    if name in LIVE_STATES:
        return name
    return "stopped" if name in ("stopping", "stopped") else "terminated"


def _batches(ids: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(ids), BATCH):
        yield ids[start : start + BATCH]


def _code(error: ClientError) -> str:
    return error.response.get("Error", {}).get("Code", "")


@contextmanager
def _aws_errors():
    """Turn botocore failures into provider errors; messages never carry credentials."""
    try:
        yield
    except NoCredentialsError as error:
        raise ProviderError(NO_CREDENTIALS) from error
    except EndpointUnreachable as error:  # the request never reached EC2: safe to send again
        raise TransientError(f"cannot reach EC2: {error}") from error
    except ClientError as error:
        code = _code(error)
        message = f"{code}: {error.response.get('Error', {}).get('Message', '')}"
        if code == "SpotMaxPriceTooLow":
            raise PriceTooLowError(message) from error
        if code in CAPACITY_CODES:
            raise CapacityError(message) from error
        if code in THROTTLING_CODES:
            raise TransientError(f"EC2 is still throttling after retries ({message})") from error
        if code in CREDENTIAL_HINTS:
            hint = CREDENTIAL_HINTS[code].format(operation=error.operation_name)
            raise ProviderError(f"{hint} ({code})") from error
        raise ProviderError(f"EC2 {error.operation_name} failed: {message}") from error
