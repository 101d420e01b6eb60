"""AWS errors on fleets, end to end: EC2 answers chosen calls with real error responses
(status and XML body, through botocore's parsing and retries, then the provider's mapping);
moto answers the rest. Each error is handled (waiting, falling back, failing or retrying as it
deserves), shown to the user (API and fleet page), and never leaves a fleet stuck or an
instance running unbilled. The provider's mapping of each code is in
tests/spot/test_aws_provider.py; here is what the fleet does with it."""

from datetime import timedelta
from types import SimpleNamespace

import boto3
import botocore.endpoint
import pytest
from botocore.awsrequest import AWSResponse

from budgets.models import Expense, ExpenseSource
from spot import events, orchestrator, tasks
from spot.models import AttemptState, Fleet, FleetStatus, Market
from tests.conftest import api_client
from tests.spot.conftest import warning


class Ec2Faults:
    """A botocore `before-send` hook: the calls given an error get it, as EC2 sends it."""

    def __init__(self):
        self.errors = {}  # operation -> (HTTP status, code, only for spot launches?)

    def fail(self, operation, status, code, spot_only=False):
        self.errors[operation] = (status, code, spot_only)

    def __call__(self, request, event_name, **kwargs):
        operation = event_name.rsplit(".", 1)[-1]
        if operation not in self.errors:
            return None  # moto answers
        status, code, spot_only = self.errors[operation]
        body = request.body or b""
        if spot_only and b"MarketType=spot" not in (
            body.encode() if isinstance(body, str) else body
        ):
            return None
        body = (
            '<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error>'
            f"<Code>{code}</Code><Message>AWS says {code}</Message>"
            "</Error></Errors><RequestID>r-1</RequestID></Response>"
        ).encode()
        return AWSResponse(request.url, status, {}, SimpleNamespace(stream=lambda: iter([body])))


@pytest.fixture
def faults(ec2, aws_env):
    hook = Ec2Faults()
    # Clients the provider creates from the default session get the hook.
    boto3._get_default_session().events.register("before-send.ec2", hook)
    aws_env.setattr(botocore.endpoint, "time", SimpleNamespace(sleep=lambda _: None))
    return hook


def shown(fleet, alice, client) -> tuple[str, str]:
    """The fleet's status reason as the API gives it, and the fleet page's text."""
    api = api_client(user=alice).get(f"/api/v1/orgs/org-a/spot/fleets/{fleet.pk}/")
    client.force_login(alice)
    page = client.get(f"/o/org-a/spot/{fleet.pk}/")
    assert (api.status_code, page.status_code) == (200, 200)
    return api.json()["status_reason"], page.content.decode()


def running(fleet):
    return fleet.attempts.filter(state=AttemptState.RUNNING)


def test_throttling_waits_says_so_and_launches_once_aws_answers(
    faults,
    image_id,
    make_fleet,
    commit,
    alice,
    client,
):
    faults.fail("RunInstances", 503, "RequestLimitExceeded")  # after botocore's own retries
    fleet = make_fleet(provider="aws", image_id=image_id)
    assert fleet.status == FleetStatus.PROVISIONING  # not failed: throttling passes
    reason, page = shown(fleet, alice, client)
    assert "provider busy, retrying" in reason and "RequestLimitExceeded" in reason
    assert "RequestLimitExceeded" in page
    faults.errors.clear()
    commit(tasks.poll_fleets)
    fleet.refresh_from_db()
    assert fleet.status == FleetStatus.RUNNING
    assert running(fleet).count() == 1


def test_spot_price_too_low_waits_with_the_reason_then_falls_back_to_on_demand(
    faults,
    image_id,
    make_fleet,
    commit,
    alice,
    client,
):
    faults.fail("RunInstances", 400, "SpotMaxPriceTooLow", spot_only=True)
    fleet = make_fleet(provider="aws", image_id=image_id, fallback_unavailable_minutes=30)
    assert fleet.status == FleetStatus.PROVISIONING
    reason, page = shown(fleet, alice, client)
    assert reason.startswith("no capacity: ") and "SpotMaxPriceTooLow" in reason
    assert "SpotMaxPriceTooLow" in page
    # 30 minutes later, still too low: the policy's on-demand fallback launches.
    Fleet.objects.filter(pk=fleet.pk).update(
        spot_unavailable_since=fleet.spot_unavailable_since - timedelta(minutes=31)
    )
    commit(tasks.poll_fleets)
    fleet.refresh_from_db()
    assert fleet.status == FleetStatus.RUNNING
    assert [a.market for a in running(fleet)] == [Market.ON_DEMAND]
    assert shown(fleet, alice, client)[0].startswith("on-demand: spot unavailable for")


def test_expired_credentials_are_shown_and_no_instance_is_left_running_unbilled(
    faults,
    ec2,
    image_id,
    make_fleet,
    commit,
    org_a,
    alice,
    client,
):
    fleet = make_fleet(provider="aws", image_id=image_id)
    attempt = running(fleet).get()
    for operation in ("DescribeInstances", "TerminateInstances", "RunInstances"):
        faults.fail(operation, 400, "ExpiredToken")
    commit(tasks.poll_fleets)  # cannot look: keeps the instance, says why
    fleet.refresh_from_db()
    assert fleet.status == FleetStatus.RUNNING
    assert "cannot describe instances, retrying" in shown(fleet, alice, client)[0]
    orchestrator.cancel(fleet, alice)  # cannot terminate: the instance stays on the books
    assert running(fleet).get() == attempt
    reason, page = shown(fleet, alice, client)
    assert "terminating instances failed, retrying" in reason
    assert "refresh the temporary credentials" in page
    faults.errors.clear()  # credentials renewed
    commit(tasks.poll_fleets)
    attempt.refresh_from_db()
    assert (attempt.state, attempt.charged) == (AttemptState.TERMINATED, True)
    described = ec2.describe_instances(InstanceIds=[attempt.provider_instance_id])
    state = described["Reservations"][0]["Instances"][0]["State"]["Name"]
    assert state in ("shutting-down", "terminated")  # at AWS too
    spot = Expense.objects.for_org(org_a).filter(source=ExpenseSource.SPOT)
    assert spot.count() == 1


def test_expired_credentials_during_a_replacement_fail_the_fleet_visibly_and_charge_it(
    faults,
    image_id,
    make_fleet,
    commit,
    org_a,
    alice,
    client,
):
    fleet = make_fleet(provider="aws", image_id=image_id)
    attempt = running(fleet).get()
    faults.fail("RunInstances", 400, "ExpiredToken")
    parsed = events.parse_eventbridge(warning("expired-1", attempt.provider_instance_id))
    commit(events.record, org_a, "eventbridge", parsed)
    fleet.refresh_from_db()
    assert fleet.status == FleetStatus.FAILED  # not waiting forever for a launch that cannot be
    reason, page = shown(fleet, alice, client)
    assert "refresh the temporary credentials" in reason and "refresh the temporary" in page
    assert not running(fleet).exists()
    attempt.refresh_from_db()
    assert attempt.charged
    assert Expense.objects.for_org(org_a).filter(source=ExpenseSource.SPOT).count() == 1
