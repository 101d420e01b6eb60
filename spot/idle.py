"""Idle-resource cleanup on AWS: find what costs money doing nothing, price it, delete it.

`scan` reads one region through an EC2 client (boto3 paginators) and returns plain `Found`
records: unattached EBS volumes, snapshots the account owns that are older than N days and back
no AMI it owns, Elastic IPs without an association, and instances stopped for more than N days
(priced as their attached EBS volumes). `run_scan` is the task body: it claims a queued scan,
scans with boto3's default credential chain (boto3 honours AWS_ENDPOINT_URL) and stores the
result atomically, or records why it failed in words a person can act on. `delete` deletes
selected resources in AWS one by one, records who deleted what on the rows and in the
`costsite.audit` log, and reports each failure without stopping the others.
"""

import itertools
import logging
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    NoCredentialsError,
    PartialCredentialsError,
)
from botocore.exceptions import ConnectionError as BotocoreConnectionError
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django_q.tasks import async_task

from costsite.orgs.audit import record as record_audit
from costsite.orgs.models import AuditAction
from estimates.models import Provider, Region
from spot import idle_rates
from spot.models import IdleKind, IdleResource, IdleScan, ScanStatus

audit = logging.getLogger("costsite.audit")
logger = logging.getLogger(__name__)

CLIENT_CONFIG = Config(
    retries={"max_attempts": 5, "mode": "standard"}, connect_timeout=5, read_timeout=30
)
MAX_DAYS = 3650
# A scan still "running" this long after it was queued lost its worker; it may be taken over.
# A scan runs under the cluster's task timeout, so a running scan older than that has no live
# worker; the broker offers its task again after `retry` (longer), and this lets it take over.
STALE_AFTER = timedelta(seconds=settings.Q_CLUSTER["timeout"])
VOLUME_IDS_PER_CALL = 200  # describe_volumes filter values per request
# "User initiated (2026-01-31 09:15:00 GMT)"; moto writes UTC instead of GMT.
STOPPED_AT = re.compile(r"\((\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}) (?:GMT|UTC)\)")

_BAD_CREDENTIALS = {
    "AuthFailure",
    "InvalidClientTokenId",
    "SignatureDoesNotMatch",
    "UnrecognizedClientException",
}
_EXPIRED = {"ExpiredToken", "ExpiredTokenException", "RequestExpired", "TokenRefreshRequired"}
_DENIED = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"}


class IdleError(Exception):
    """An AWS call failed; the message says why and what to do, without a stack trace."""


@dataclass(frozen=True)
class Found:
    kind: str  # IdleKind
    resource_id: str
    description: str
    size_gb: float | None
    idle_since: datetime | None
    monthly_cost: Decimal
    currency: str
    price_basis: str


@dataclass(frozen=True)
class DeleteResult:
    id: int
    resource_id: str
    kind: str
    result: str  # "deleted", "failed" or "already_deleted"
    error: str = ""


# --- errors -------------------------------------------------------------------------------------


@contextmanager
def aws_errors(region: str) -> Iterator[None]:
    """Re-raise credential, permission, connection and API failures as IdleError."""
    try:
        yield
    except (NoCredentialsError, PartialCredentialsError) as exc:
        raise IdleError(
            "No AWS credentials were found. Give the task worker credentials through "
            "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or an instance or task "
            "role."
        ) from exc
    except BotocoreConnectionError as exc:
        raise IdleError(
            f"Could not reach AWS EC2 in {region}: {exc}. Check the worker's network access, "
            "and AWS_ENDPOINT_URL if it is set."
        ) from exc
    except ClientError as exc:
        error = exc.response.get("Error", {})
        code, message = error.get("Code", ""), error.get("Message", "")
        if code in _BAD_CREDENTIALS:
            hint = "AWS rejected the credentials: check the access key and secret."
        elif code in _EXPIRED:
            hint = "The AWS credentials have expired: refresh them and try again."
        elif code in _DENIED:
            hint = f"The credentials are not allowed to call {exc.operation_name}: grant it in IAM."
        else:
            hint = f"AWS refused {exc.operation_name}."
        raise IdleError(f"{hint} ({code}: {message})") from exc
    except BotoCoreError as exc:
        raise IdleError(f"The AWS call failed: {exc}") from exc


def ec2_client(region: str):
    """An EC2 client from boto3's default credential chain, in a fresh session so credentials
    are resolved for each scan rather than cached for the life of the worker."""
    return boto3.session.Session(region_name=region).client("ec2", config=CLIENT_CONFIG)


# --- scanning -----------------------------------------------------------------------------------


def _pages(client, operation: str, key: str, **params) -> Iterator[dict]:
    for page in client.get_paginator(operation).paginate(**params):
        yield from page.get(key, [])


def _name(item: dict) -> str:
    for tag in item.get("Tags") or []:
        if tag.get("Key") == "Name" and tag.get("Value"):
            return f" “{tag['Value']}”"
    return ""


def _clip(text: str) -> str:
    return text if len(text) <= 500 else text[:499] + "…"


def stopped_since(reason: str) -> datetime | None:
    """When a user stopped an instance, from its StateTransitionReason; None if not stated."""
    match = STOPPED_AT.search(reason or "")
    if match is None:
        return None
    return datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)


def _volumes(client, region: str) -> Iterator[Found]:
    filters = [{"Name": "status", "Values": ["available"]}]
    for volume in _pages(client, "describe_volumes", "Volumes", Filters=filters):
        size, volume_type = volume["Size"], volume.get("VolumeType", "standard")
        priced = idle_rates.price_volume(volume_type, size, region)
        created = volume.get("CreateTime")
        yield Found(
            kind=IdleKind.VOLUME,
            resource_id=volume["VolumeId"],
            description=_clip(
                f"{size} GiB {volume_type} volume{_name(volume)} in "
                f"{volume.get('AvailabilityZone', region)}, attached to nothing"
                + (f"; created {created:%Y-%m-%d}" if created else "")
            ),
            size_gb=float(size),
            idle_since=None,
            monthly_cost=priced.monthly_cost,
            currency=priced.currency,
            price_basis=priced.basis,
        )


def _image_snapshot_ids(client) -> set[str]:
    """Snapshots behind AMIs the account owns: deleting them would break the image."""
    return {
        mapping["Ebs"]["SnapshotId"]
        for image in _pages(client, "describe_images", "Images", Owners=["self"])
        for mapping in image.get("BlockDeviceMappings", [])
        if mapping.get("Ebs", {}).get("SnapshotId")
    }


def _snapshots(client, region: str, min_age_days: int, now: datetime) -> Iterator[Found]:
    cutoff = now - timedelta(days=min_age_days)
    in_images = _image_snapshot_ids(client)
    for snapshot in _pages(client, "describe_snapshots", "Snapshots", OwnerIds=["self"]):
        started = snapshot["StartTime"]
        if started > cutoff or snapshot["SnapshotId"] in in_images:
            continue
        size, tier = snapshot.get("VolumeSize", 0), snapshot.get("StorageTier", "standard")
        priced = idle_rates.price_snapshot(size, region, tier)
        note = f": {snapshot['Description']}" if snapshot.get("Description") else ""
        yield Found(
            kind=IdleKind.SNAPSHOT,
            resource_id=snapshot["SnapshotId"],
            description=_clip(
                f"Snapshot{_name(snapshot)} of {snapshot.get('VolumeId', 'a volume')} "
                f"({size} GiB, {tier} tier), taken {started:%Y-%m-%d}{note}"
            ),
            size_gb=float(size),
            idle_since=started,
            monthly_cost=priced.monthly_cost,
            currency=priced.currency,
            price_basis=priced.basis,
        )


def _addresses(client, region: str) -> Iterator[Found]:
    # DescribeAddresses is not paginated: one call returns every address of the region.
    for address in client.describe_addresses().get("Addresses", []):
        if address.get("AssociationId"):
            continue
        priced = idle_rates.price_address(region)
        yield Found(
            kind=IdleKind.ADDRESS,
            resource_id=address.get("AllocationId") or address["PublicIp"],
            description=_clip(
                f"Elastic IP {address['PublicIp']}{_name(address)}, associated with nothing"
            ),
            size_gb=None,
            idle_since=None,
            monthly_cost=priced.monthly_cost,
            currency=priced.currency,
            price_basis=priced.basis,
        )


def _volume_details(client, volume_ids: list[str]) -> dict[str, dict]:
    details = {}
    for start in range(0, len(volume_ids), VOLUME_IDS_PER_CALL):
        chunk = volume_ids[start : start + VOLUME_IDS_PER_CALL]
        filters = [{"Name": "volume-id", "Values": chunk}]
        for volume in _pages(client, "describe_volumes", "Volumes", Filters=filters):
            details[volume["VolumeId"]] = volume
    return details


def _stopped_instances(client, region: str, min_days: int, now: datetime) -> Iterator[Found]:
    cutoff = now - timedelta(days=min_days)
    filters = [{"Name": "instance-state-name", "Values": ["stopped"]}]
    stopped = []
    for reservation in _pages(client, "describe_instances", "Reservations", Filters=filters):
        for instance in reservation.get("Instances", []):
            since = stopped_since(instance.get("StateTransitionReason", ""))
            # Without a stop time there is no telling how long it has been idle: skip it.
            if since is not None and since <= cutoff:
                stopped.append((instance, since))
    mappings = {
        instance["InstanceId"]: [
            m["Ebs"]
            for m in instance.get("BlockDeviceMappings", [])
            if m.get("Ebs", {}).get("VolumeId")
        ]
        for instance, _ in stopped
    }
    volume_ids = [ebs["VolumeId"] for ebs in itertools.chain.from_iterable(mappings.values())]
    volumes = _volume_details(client, volume_ids)
    for instance, since in stopped:
        attached = [
            (volumes[ebs["VolumeId"]], ebs.get("DeleteOnTermination", False))
            for ebs in mappings[instance["InstanceId"]]
            if ebs["VolumeId"] in volumes
        ]
        priced = idle_rates.price_volumes(
            [(v.get("VolumeType", "standard"), v["Size"]) for v, _ in attached], region
        )
        kept = [v["VolumeId"] for v, deleted_with_it in attached if not deleted_with_it]
        sizes = ", ".join(f"{v['Size']} GiB {v.get('VolumeType', 'standard')}" for v, _ in attached)
        yield Found(
            kind=IdleKind.INSTANCE,
            resource_id=instance["InstanceId"],
            description=_clip(
                f"{instance.get('InstanceType', 'Instance')}{_name(instance)} stopped since "
                f"{since:%Y-%m-%d}; priced as its EBS volumes ({sizes or 'none'}), not compute."
                + (
                    f" Terminating it keeps {', '.join(kept)} (not deleted on termination)."
                    if kept
                    else ""
                )
            ),
            size_gb=float(sum(v["Size"] for v, _ in attached)),
            idle_since=since,
            monthly_cost=priced.monthly_cost,
            currency=priced.currency,
            price_basis=priced.basis,
        )


def scan(
    client, region: str, snapshot_min_age_days: int, stopped_min_days: int, now: datetime
) -> list[Found]:
    """Idle resources of one region. AWS errors propagate as botocore exceptions."""
    return [
        *_volumes(client, region),
        *_snapshots(client, region, snapshot_min_age_days, now),
        *_addresses(client, region),
        *_stopped_instances(client, region, stopped_min_days, now),
    ]


# --- scans as stored rows -----------------------------------------------------------------------


def aws_regions() -> list[tuple[str, str]]:
    """(code, name) of the AWS regions in the price catalogue: the regions one may scan."""
    return list(Region.objects.filter(provider=Provider.AWS).values_list("code", "name"))


def start_scan(org, user, region: str, snapshot_min_age_days: int, stopped_min_days: int):
    """A queued scan; its task is queued once the surrounding transaction commits."""
    scan_row = IdleScan.objects.create(
        organization=org,
        region=region,
        snapshot_min_age_days=snapshot_min_age_days,
        stopped_min_days=stopped_min_days,
        created_by=user,
    )
    transaction.on_commit(
        lambda: async_task(
            "spot.tasks.scan_idle", scan_row.pk, task_name=f"idle-scan-{scan_row.pk}"
        )
    )
    return scan_row


def _claim(scan_id: int, now: datetime) -> bool:
    """queued → running, or take over a scan whose worker died."""
    return bool(
        IdleScan.objects.filter(pk=scan_id)
        .filter(
            Q(status=ScanStatus.QUEUED)
            | Q(status=ScanStatus.RUNNING, started_at__lt=now - STALE_AFTER)
        )
        .update(status=ScanStatus.RUNNING, started_at=now)
    )


def _account_id(region: str) -> str:
    """The scanned account, for the record; a scan does not fail for want of it."""
    try:
        sts = boto3.session.Session(region_name=region).client("sts", config=CLIENT_CONFIG)
        return sts.get_caller_identity().get("Account", "")
    except (BotoCoreError, ClientError):
        return ""


def _fail(scan_id: int, error: str) -> str:
    IdleScan.objects.filter(pk=scan_id).update(
        status=ScanStatus.FAILED, error=_clip(error), finished_at=timezone.now()
    )
    return f"failed: {error}"


def run_scan(scan_id: int) -> str:
    """Scan the region of a queued scan and store what was found (the task body)."""
    now = timezone.now()
    if not _claim(scan_id, now):
        return "not queued (already running or finished)"
    scan_row = IdleScan.objects.get(pk=scan_id)
    try:
        with aws_errors(scan_row.region):
            found = scan(
                ec2_client(scan_row.region),
                scan_row.region,
                scan_row.snapshot_min_age_days,
                scan_row.stopped_min_days,
                now,
            )
    except IdleError as exc:
        return _fail(scan_id, str(exc))
    except Exception as exc:
        logger.exception("Idle scan %s failed", scan_id)
        return _fail(
            scan_id, f"The scan failed unexpectedly ({type(exc).__name__}); see the worker log."
        )
    account_id = _account_id(scan_row.region)
    with transaction.atomic():
        IdleResource.objects.bulk_create(
            IdleResource(
                organization_id=scan_row.organization_id,
                scan_id=scan_id,
                region=scan_row.region,
                kind=item.kind,
                resource_id=item.resource_id,
                description=item.description,
                size_gb=item.size_gb,
                idle_since=item.idle_since,
                monthly_cost=item.monthly_cost,
                currency=item.currency,
                price_basis=item.price_basis,
            )
            for item in found
        )
        IdleScan.objects.filter(pk=scan_id).update(
            status=ScanStatus.DONE, account_id=account_id, error="", finished_at=timezone.now()
        )
    return f"{len(found)} idle resources"


def monthly_totals(resources: Iterable[IdleResource]) -> tuple[Decimal, Decimal]:
    """(monthly cost of the resources not deleted yet, monthly cost of those deleted)."""
    resources = list(resources)
    waste = sum((r.monthly_cost for r in resources if r.deleted_at is None), Decimal(0))
    saved = sum((r.monthly_cost for r in resources if r.deleted_at is not None), Decimal(0))
    return waste, saved


# --- deleting -----------------------------------------------------------------------------------


def _delete_in_aws(client, resource: IdleResource) -> None:
    if resource.kind == IdleKind.VOLUME:
        client.delete_volume(VolumeId=resource.resource_id)
    elif resource.kind == IdleKind.SNAPSHOT:
        client.delete_snapshot(SnapshotId=resource.resource_id)
    elif resource.kind == IdleKind.ADDRESS:
        if resource.resource_id.startswith("eipalloc-"):
            client.release_address(AllocationId=resource.resource_id)
        else:
            client.release_address(PublicIp=resource.resource_id)
    else:
        client.terminate_instances(InstanceIds=[resource.resource_id])


def _audit_details(resource: IdleResource, **extra) -> dict:
    return {
        "region": resource.region,
        "scan": resource.scan_id,
        "monthly_cost": str(resource.monthly_cost),
        "currency": resource.currency,
        **extra,
    }


def delete(resources: Iterable[IdleResource], user) -> list[DeleteResult]:
    """Delete each resource in AWS; one failure does not stop the others.

    Deleted rows get deleted_at/deleted_by; failed ones get delete_error. Both are also written
    to the `costsite.audit` log with who asked, the organization and the monthly cost, and to
    the organization's audit events.
    """
    who = getattr(user, "email", str(user))
    clients = {}
    results = []
    for resource in resources:
        if resource.deleted_at is not None:
            results.append(
                DeleteResult(resource.pk, resource.resource_id, resource.kind, "already_deleted")
            )
            continue
        try:
            with aws_errors(resource.region):
                if resource.region not in clients:
                    clients[resource.region] = ec2_client(resource.region)
                _delete_in_aws(clients[resource.region], resource)
        except IdleError as exc:
            error = _clip(str(exc))
            IdleResource.objects.filter(pk=resource.pk, deleted_at__isnull=True).update(
                delete_error=error
            )
            audit.warning(
                "%s could not delete %s %s in %s (organization %s, scan %s): %s",
                who,
                resource.kind,
                resource.resource_id,
                resource.region,
                resource.organization_id,
                resource.scan_id,
                error,
            )
            record_audit(
                resource.organization,
                AuditAction.IDLE_RESOURCE_DELETE_FAILED,
                resource,
                actor=user,
                details=_audit_details(resource, error=error),
            )
            results.append(
                DeleteResult(resource.pk, resource.resource_id, resource.kind, "failed", error)
            )
            continue
        IdleResource.objects.filter(pk=resource.pk, deleted_at__isnull=True).update(
            deleted_at=timezone.now(), deleted_by=user, delete_error=""
        )
        audit.info(
            "%s deleted %s %s in %s (organization %s, scan %s, %s %s a month)",
            who,
            resource.kind,
            resource.resource_id,
            resource.region,
            resource.organization_id,
            resource.scan_id,
            resource.monthly_cost,
            resource.currency,
        )
        record_audit(
            resource.organization,
            AuditAction.IDLE_RESOURCE_DELETED,
            resource,
            actor=user,
            details=_audit_details(resource),
        )
        results.append(DeleteResult(resource.pk, resource.resource_id, resource.kind, "deleted"))
    return results
