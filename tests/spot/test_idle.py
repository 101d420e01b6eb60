"""Idle-resource cleanup against moto's server: scan, price, delete, and the API and pages.

Each test gets its own moto account without moto's default AMIs (their snapshots would count as
the account's own). Resources that must look old are created with moto's clock set back.
"""

import itertools
import logging
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import boto3
import pytest
from botocore.exceptions import ClientError
from django.utils import timezone

from spot import idle, idle_rates
from spot.models import IdleKind, IdleResource, IdleScan, ScanStatus

REGION = "us-east-1"
AZ = "us-east-1a"
ACCOUNTS = itertools.count(210_000_000_001)

# Hand-computed from spot/catalog/idle_rates.csv (us-east-1): gp3 0.08, gp2 0.10 and st1 0.045
# USD/GB-month, standard snapshots 0.05 USD/GB-month, public IPv4 0.005 USD/hour × 730 hours.
IDLE_VOLUME_COST = Decimal("100") * Decimal("0.08")  # 8.00
OLD_SNAPSHOT_COST = Decimal("100") * Decimal("0.05")  # 5.00
FREE_ADDRESS_COST = Decimal("0.005") * 730  # 3.65
STOPPED_COST = Decimal("8") * Decimal("0.10") + Decimal("125") * Decimal("0.045")  # 6.425


@dataclass
class Aws:
    account: str
    ec2: object

    def client(self, service, region=REGION):
        return boto3.session.Session(region_name=region).client(service)


@pytest.fixture
def aws(aws_env, moto_server):
    """boto3 pointed at moto, in an account of its own that has no default AMIs."""
    account = f"{next(ACCOUNTS):012d}"
    aws_env.setenv("AWS_ENDPOINT_URL", moto_server)
    aws_env.setenv("MOTO_ACCOUNT_ID", account)
    aws_env.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
    return Aws(account, boto3.session.Session(region_name=REGION).client("ec2"))


@pytest.fixture
def moto_past(monkeypatch):
    """moto_past(days): a context in which moto stamps new snapshots and stops days ago."""
    from moto.ec2.models import elastic_block_store, instances

    @contextmanager
    def past(days):
        then = elastic_block_store.utcnow() - timedelta(days=days)
        with monkeypatch.context() as patch:
            patch.setattr(elastic_block_store, "utcnow", lambda: then)
            patch.setattr(instances, "utcnow", lambda: then)
            yield

    return past


def launch(ec2, image_id):
    instance = ec2.run_instances(
        ImageId=image_id, MinCount=1, MaxCount=1, Placement={"AvailabilityZone": AZ}
    )["Instances"][0]
    return instance["InstanceId"]


def attach_new_volume(ec2, instance_id, size, volume_type, device="/dev/sdf"):
    volume = ec2.create_volume(AvailabilityZone=AZ, Size=size, VolumeType=volume_type)
    ec2.attach_volume(VolumeId=volume["VolumeId"], InstanceId=instance_id, Device=device)
    return volume["VolumeId"]


@pytest.fixture
def world(aws, moto_past):
    """Idle and busy resources of every kind; the ids of each by name."""
    ec2 = aws.ec2
    with moto_past(90):  # an old snapshot, but it backs an AMI of the account
        image_id = ec2.register_image(Name="base", RootDeviceName="/dev/sda1")["ImageId"]
    idle_volume = ec2.create_volume(AvailabilityZone=AZ, Size=100, VolumeType="gp3")["VolumeId"]
    with moto_past(90):
        old_snapshot = ec2.create_snapshot(VolumeId=idle_volume)["SnapshotId"]
    new_snapshot = ec2.create_snapshot(VolumeId=idle_volume)["SnapshotId"]

    running = launch(ec2, image_id)
    busy_volume = attach_new_volume(ec2, running, 50, "gp3")
    free_address = ec2.allocate_address(Domain="vpc")["AllocationId"]
    used_address = ec2.allocate_address(Domain="vpc")["AllocationId"]
    ec2.associate_address(AllocationId=used_address, InstanceId=running)

    long_stopped = launch(ec2, image_id)
    kept_volume = attach_new_volume(ec2, long_stopped, 125, "st1")
    with moto_past(30):
        ec2.stop_instances(InstanceIds=[long_stopped])
    just_stopped = launch(ec2, image_id)
    ec2.stop_instances(InstanceIds=[just_stopped])
    return {
        "image": image_id,
        "idle_volume": idle_volume,
        "old_snapshot": old_snapshot,
        "new_snapshot": new_snapshot,
        "running": running,
        "busy_volume": busy_volume,
        "free_address": free_address,
        "used_address": used_address,
        "long_stopped": long_stopped,
        "kept_volume": kept_volume,
        "just_stopped": just_stopped,
    }


def by_id(found):
    return {item.resource_id: item for item in found}


# --- scanning -----------------------------------------------------------------------------------


def test_scan_lists_each_kind_of_idle_resource_priced_from_the_catalogue(aws, world):
    found = by_id(idle.scan(aws.ec2, REGION, 30, 7, timezone.now()))

    assert set(found) == {
        world["idle_volume"],
        world["old_snapshot"],
        world["free_address"],
        world["long_stopped"],
    }
    volume = found[world["idle_volume"]]
    assert (volume.kind, volume.size_gb, volume.monthly_cost) == (
        IdleKind.VOLUME,
        100.0,
        IDLE_VOLUME_COST,
    )
    assert "0.08 USD/GB-month" in volume.price_basis
    assert "saisci.com" in volume.price_basis and "as of 2021-02-04" in volume.price_basis

    snapshot = found[world["old_snapshot"]]
    assert snapshot.kind == IdleKind.SNAPSHOT
    assert snapshot.monthly_cost == OLD_SNAPSHOT_COST
    assert snapshot.idle_since < timezone.now() - timedelta(days=89)
    assert snapshot.price_basis.startswith("At most:")

    address = found[world["free_address"]]
    assert (address.kind, address.monthly_cost) == (IdleKind.ADDRESS, FREE_ADDRESS_COST)
    assert "730 hours" in address.price_basis

    stopped = found[world["long_stopped"]]
    assert stopped.kind == IdleKind.INSTANCE
    assert stopped.monthly_cost == STOPPED_COST
    assert stopped.size_gb == 133.0
    assert "not compute" in stopped.description and "not compute" in stopped.price_basis
    assert world["kept_volume"] in stopped.description  # survives termination
    assert {item.currency for item in found.values()} == {"USD"}


def test_the_now_argument_moves_the_age_limits(aws, world):
    later = timezone.now() + timedelta(days=40)

    found = by_id(idle.scan(aws.ec2, REGION, 30, 7, later))

    assert world["new_snapshot"] in found
    assert world["just_stopped"] in found
    # Backing an AMI of the account keeps a snapshot off the list however old it is.
    image = aws.ec2.describe_images(ImageIds=[world["image"]])["Images"][0]
    assert image["BlockDeviceMappings"][0]["Ebs"]["SnapshotId"] not in found


def test_a_region_without_its_own_rates_uses_the_us_east_1_figure_and_says_so(aws):
    ec2 = aws.client("ec2", "eu-west-1")
    volume_id = ec2.create_volume(AvailabilityZone="eu-west-1a", Size=10, VolumeType="gp2")[
        "VolumeId"
    ]

    (found,) = idle.scan(ec2, "eu-west-1", 30, 7, timezone.now())

    assert found.resource_id == volume_id
    assert found.monthly_cost == Decimal("10") * Decimal("0.10")
    assert "the us-east-1 figure, as the catalogue has none for eu-west-1" in found.price_basis


def test_a_volume_type_without_a_rate_is_listed_unpriced(aws):
    aws.ec2.create_volume(AvailabilityZone=AZ, Size=20, VolumeType="standard")

    (found,) = idle.scan(aws.ec2, REGION, 30, 7, timezone.now())

    assert found.monthly_cost == Decimal(0)
    assert found.price_basis.startswith("Not priced")


def test_stop_times_are_read_from_the_state_transition_reason():
    stopped = idle.stopped_since("User initiated (2026-01-31 09:15:00 GMT)")
    assert stopped.isoformat() == "2026-01-31T09:15:00+00:00"
    assert idle.stopped_since("Server.ScheduledStop") is None


def test_the_rates_file_carries_a_source_and_date_for_every_figure():
    table = idle_rates.rates()
    kinds = {kind for region, kind in table if region == "us-east-1"}
    assert {"volume-gp3", "volume-gp2", "volume-io1", "volume-io2", "volume-st1"} <= kinds
    assert {"volume-sc1", "snapshot-standard", "public-ipv4"} <= kinds
    assert table[("us-east-1", "public-ipv4")].price == Decimal("0.005")
    for rate in table.values():
        assert rate.url.startswith("https://")
        assert rate.as_of.year >= 2021


# --- the scan task ------------------------------------------------------------------------------


def queued_scan(org, user, region=REGION):
    return IdleScan.objects.create(organization=org, region=region, created_by=user)


def test_run_scan_stores_the_resources_and_the_account(aws, world, org_a, alice):
    scan = queued_scan(org_a, alice)

    assert idle.run_scan(scan.pk) == "4 idle resources"

    scan.refresh_from_db()
    assert (scan.status, scan.error, scan.account_id) == (ScanStatus.DONE, "", aws.account)
    assert scan.finished_at is not None
    costs = dict(scan.resources.values_list("resource_id", "monthly_cost"))
    assert costs == {
        world["idle_volume"]: IDLE_VOLUME_COST,
        world["old_snapshot"]: OLD_SNAPSHOT_COST,
        world["free_address"]: FREE_ADDRESS_COST,
        world["long_stopped"]: STOPPED_COST,
    }
    assert set(scan.resources.values_list("organization", flat=True)) == {org_a.pk}
    # Claimed once: running it again changes nothing.
    assert idle.run_scan(scan.pk).startswith("not queued")
    assert scan.resources.count() == 4


def test_a_scan_without_credentials_fails_with_a_clear_message(aws, aws_env, org_a, alice):
    aws_env.delenv("AWS_ACCESS_KEY_ID")
    aws_env.delenv("AWS_SECRET_ACCESS_KEY")
    scan = queued_scan(org_a, alice)

    idle.run_scan(scan.pk)

    scan.refresh_from_db()
    assert scan.status == ScanStatus.FAILED
    assert scan.error.startswith("No AWS credentials were found.")
    assert "Traceback" not in scan.error
    assert not scan.resources.exists()


@pytest.mark.parametrize(
    ("code", "words"),
    [
        ("ExpiredToken", "have expired"),
        ("AuthFailure", "rejected the credentials"),
        ("UnauthorizedOperation", "not allowed to call DescribeVolumes"),
    ],
)
def test_aws_refusals_become_messages(code, words):
    refusal = ClientError({"Error": {"Code": code, "Message": "no"}}, "DescribeVolumes")
    with pytest.raises(idle.IdleError, match=words), idle.aws_errors(REGION):
        raise refusal


# --- deleting -----------------------------------------------------------------------------------


@pytest.fixture
def scanned(aws, world, org_a, alice):
    scan = queued_scan(org_a, alice)
    idle.run_scan(scan.pk)
    return {row.resource_id: row for row in scan.resources.all()}


def exists(call, **params):
    try:
        call(**params)
    except ClientError:
        return False
    return True


def test_delete_removes_the_resources_in_aws_and_records_who(aws, world, scanned, alice, caplog):
    ec2 = aws.ec2
    # Someone attached the idle volume since the scan: that one delete fails, the rest go on.
    ec2.attach_volume(VolumeId=world["idle_volume"], InstanceId=world["running"], Device="/dev/sdg")
    caplog.set_level(logging.INFO, logger="costsite.audit")

    results = {r.resource_id: r for r in idle.delete(scanned.values(), alice)}

    assert results[world["idle_volume"]].result == "failed"
    assert "VolumeInUse" in results[world["idle_volume"]].error
    for name in ("old_snapshot", "free_address", "long_stopped"):
        assert results[world[name]].result == "deleted"
    assert not exists(ec2.describe_snapshots, SnapshotIds=[world["old_snapshot"]])
    assert not exists(ec2.describe_addresses, AllocationIds=[world["free_address"]])
    instance = ec2.describe_instances(InstanceIds=[world["long_stopped"]])
    assert instance["Reservations"][0]["Instances"][0]["State"]["Name"] == "terminated"
    assert exists(ec2.describe_volumes, VolumeIds=[world["idle_volume"]])

    rows = {row.resource_id: row for row in IdleResource.objects.all()}
    failed = rows[world["idle_volume"]]
    assert failed.deleted_at is None and "VolumeInUse" in failed.delete_error
    for name in ("old_snapshot", "free_address", "long_stopped"):
        assert rows[world[name]].deleted_by == alice
        assert rows[world[name]].deleted_at is not None
    audit = [r.getMessage() for r in caplog.records if r.name == "costsite.audit"]
    assert any(f"alice@a.example deleted snapshot {world['old_snapshot']}" in m for m in audit)
    assert any(f"could not delete volume {world['idle_volume']}" in m for m in audit)

    again = idle.delete(IdleResource.objects.filter(pk=rows[world["old_snapshot"]].pk), alice)
    assert [r.result for r in again] == ["already_deleted"]


# --- API ----------------------------------------------------------------------------------------

SCANS = "/api/v1/orgs/org-a/spot/idle-scans/"
RESOURCES = "/api/v1/orgs/org-a/spot/idle-resources/"


def test_creating_a_scan_queues_it_and_the_task_stores_what_it_found(
    aws, world, api, alice, org_a, catalog, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api(user=alice).post(
            SCANS, {"region": REGION, "snapshot_min_age_days": 30, "stopped_min_days": 7}
        )
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "queued"

    detail = api(user=alice).get(f"{SCANS}{response.json()['id']}/").json()
    assert detail["status"] == "done"
    assert detail["resource_count"] == 4
    total = IDLE_VOLUME_COST + OLD_SNAPSHOT_COST + FREE_ADDRESS_COST + STOPPED_COST
    assert Decimal(detail["monthly_waste"]) == total
    costs = {r["resource_id"]: r["monthly_cost"] for r in detail["resources"]}
    assert costs[world["free_address"]] == "3.6500"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"region": "mars-north-1"}, "region"),
        ({"region": "us-central1"}, "region"),  # a GCP region
        ({"region": REGION, "snapshot_min_age_days": 0}, "snapshot_min_age_days"),
        ({"region": REGION, "stopped_min_days": "soon"}, "stopped_min_days"),
    ],
)
def test_bad_scan_input_is_a_400_with_field_errors(api, alice, org_a, catalog, body, field):
    response = api(user=alice).post(SCANS, body)
    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert not IdleScan.objects.exists()


def make_resource(org, user, **fields):
    scan = IdleScan.objects.create(organization=org, region=REGION, status=ScanStatus.DONE)
    values = {
        "kind": IdleKind.VOLUME,
        "resource_id": "vol-0123456789abcdef0",
        "region": REGION,
        "monthly_cost": Decimal("8.0000"),
        "price_basis": "test",
    } | fields
    return IdleResource.objects.create(organization=org, scan=scan, **values)


def test_deleting_needs_confirm_and_the_organizations_own_ids(api, alice, org_a, org_b):
    mine = make_resource(org_a, alice)
    theirs = make_resource(org_b, None)
    client = api(user=alice)

    missing = client.post(f"{RESOURCES}delete/", {"ids": [mine.pk]})
    refused = client.post(f"{RESOURCES}delete/", {"ids": [mine.pk], "confirm": False})
    foreign = client.post(f"{RESOURCES}delete/", {"ids": [mine.pk, theirs.pk], "confirm": True})

    assert (missing.status_code, list(missing.json())) == (400, ["confirm"])
    assert (refused.status_code, list(refused.json())) == (400, ["confirm"])
    assert (foreign.status_code, list(foreign.json())) == (400, ["ids"])
    assert str(theirs.pk) in foreign.json()["ids"][0]
    assert not IdleResource.objects.filter(deleted_at__isnull=False).exists()


def test_delete_reports_each_id(aws, world, scanned, api, alice):
    ids = [scanned[world["free_address"]].pk, scanned[world["old_snapshot"]].pk]

    response = api(user=alice).post(f"{RESOURCES}delete/", {"ids": ids, "confirm": True})

    assert response.status_code == 200
    body = response.json()
    assert (body["deleted"], body["failed"]) == (2, 0)
    assert [r["id"] for r in body["results"]] == ids
    assert {r["result"] for r in body["results"]} == {"deleted"}
    listed = api(user=alice).get(RESOURCES, {"deleted": "true"}).json()
    assert {r["id"] for r in listed["results"]} == set(ids)
    assert {r["deleted_by"] for r in listed["results"]} == {"alice@a.example"}


def test_resource_filters(api, alice, org_a):
    volume = make_resource(org_a, alice)
    address = make_resource(org_a, alice, kind=IdleKind.ADDRESS, resource_id="eipalloc-1")
    IdleResource.objects.filter(pk=address.pk).update(deleted_at=timezone.now())
    client = api(user=alice)

    def ids(**params):
        return [r["id"] for r in client.get(RESOURCES, params).json()["results"]]

    assert ids(kind="address") == [address.pk]
    assert ids(deleted="false") == [volume.pk]
    assert ids(scan=volume.scan_id) == [volume.pk]


@pytest.mark.parametrize("scan", ["99999999999999999999999", "1e30", "0"])
def test_a_scan_filter_no_id_can_match_is_a_400(api, alice, org_a, scan):
    """Past the largest primary key SQLite overflows (a 500 before the bound)."""
    response = api(user=alice).get(RESOURCES, {"scan": scan})
    assert response.status_code == 400
    assert list(response.json()) == ["scan"]


# --- pages --------------------------------------------------------------------------------------

PAGE = "/o/org-a/spot/idle/"


def test_the_page_lists_the_scan_with_costs_sources_and_total(client, alice, org_a, aws, world):
    scan = queued_scan(org_a, alice)
    idle.run_scan(scan.pk)
    client.force_login(alice)

    html = client.get(PAGE).content.decode()

    assert world["idle_volume"] in html and world["long_stopped"] in html
    assert "8.0000 USD" in html
    total = IDLE_VOLUME_COST + OLD_SNAPSHOT_COST + FREE_ADDRESS_COST + STOPPED_COST
    assert f"{total:.4f} USD" in html
    assert "as of 2021-02-04" in html  # beside the figure
    assert "Delete selected" in html and 'name="resources"' in html


def test_a_viewer_sees_the_list_but_no_forms(client, bob, org_a):
    make_resource(org_a, None)
    client.force_login(bob)

    html = client.get(PAGE).content.decode()

    assert "vol-0123456789abcdef0" in html
    assert "Delete selected" not in html and 'name="resources"' not in html
    assert "Scan a region" not in html


def test_a_running_scan_refreshes_itself(client, alice, org_a):
    IdleScan.objects.create(organization=org_a, region=REGION, status=ScanStatus.RUNNING)
    client.force_login(alice)

    html = client.get(PAGE).content.decode()

    assert 'id="idle-scan" data-poll' in html
    assert "js/idle.js" in html


def test_scan_form_errors_are_shown_next_to_the_field(client, alice, org_a, catalog):
    client.force_login(alice)

    response = client.post(PAGE, {"region": "mars-north-1", "snapshot_min_age_days": "0"})

    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="id_region-errors"' in html and 'id="id_snapshot_min_age_days-errors"' in html
    assert not IdleScan.objects.exists()


def test_delete_asks_for_confirmation_then_deletes(client, alice, aws, world, scanned):
    client.force_login(alice)
    chosen = [scanned[world["free_address"]], scanned[world["long_stopped"]]]
    ids = [str(r.pk) for r in chosen]

    ask = client.post(f"{PAGE}delete/", {"resources": ids})

    assert ask.status_code == 200
    html = ask.content.decode()
    assert world["free_address"] in html and world["long_stopped"] in html
    assert f"{FREE_ADDRESS_COST + STOPPED_COST:.4f} USD" in html  # the monthly saving
    assert 'name="confirm" value="true"' in html
    assert not IdleResource.objects.filter(deleted_at__isnull=False).exists()

    done = client.post(f"{PAGE}delete/", {"resources": ids, "confirm": "true"}, follow=True)

    assert done.status_code == 200
    assert "Deleted 2 resources in AWS" in done.content.decode()
    assert not exists(aws.ec2.describe_addresses, AllocationIds=[world["free_address"]])
    for row in chosen:
        row.refresh_from_db()
        assert row.deleted_by == alice
    assert "by alice@a.example" in done.content.decode()


def test_deleting_nothing_is_a_400_with_the_error_by_the_table(client, alice, org_a):
    resource = make_resource(org_a, alice)
    client.force_login(alice)

    response = client.post(f"{PAGE}delete/", {"scan": str(resource.scan_id)})

    assert response.status_code == 400
    assert "Select at least one resource to delete." in response.content.decode()


# --- admin --------------------------------------------------------------------------------------


def test_admin_shows_the_organizations_scans_read_only(client, alice, org_a, org_b):
    mine = make_resource(org_a, alice)
    theirs = make_resource(org_b, None)
    alice.is_staff = True
    alice.save()
    client.force_login(alice)

    assert client.get("/admin/spot/idlescan/").status_code == 200
    page = client.get(f"/admin/spot/idleresource/{mine.pk}/change/")
    assert page.status_code == 200
    assert 'name="monthly_cost"' not in page.content.decode()  # shown, not editable
    assert client.get(f"/admin/spot/idleresource/{theirs.pk}/change/").status_code == 302
    assert client.get("/admin/spot/idleresource/add/").status_code == 403
    scan = client.get(f"/admin/spot/idlescan/{mine.scan_id}/change/")
    assert scan.status_code == 200
    assert "resources" in {
        formset.formset.prefix for formset in scan.context["inline_admin_formsets"]
    }
    assert mine.resource_id in scan.content.decode()  # the scan's resources, inline


def test_a_scan_whose_worker_died_is_taken_over_once_the_task_timeout_has_passed(org_a, alice):
    now = timezone.now()
    scan_row = queued_scan(org_a, alice)
    assert idle._claim(scan_row.pk, now)
    assert not idle._claim(scan_row.pk, now + idle.STALE_AFTER / 2)  # its worker may still run
    later = now + idle.STALE_AFTER + timedelta(seconds=1)
    assert idle._claim(scan_row.pk, later)  # the broker's redelivery after a dead worker
    scan_row.refresh_from_db()
    assert (scan_row.status, scan_row.started_at) == (ScanStatus.RUNNING, later)
