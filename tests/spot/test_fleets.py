"""The fleet state machine with the simulated provider: launch, interruptions from every
source (once), replacement per strategy, fallback, checkpoints, progress, completion, cancel."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from budgets.models import Expense
from spot import events, orchestrator, tasks
from spot.models import (
    Attempt,
    AttemptState,
    EndReason,
    Fleet,
    FleetStatus,
    InterruptionEvent,
    Market,
)
from tests.spot.conftest import warning

API = "/api/v1/orgs/{}/spot"


def post(client, token, url, data, commit):
    return commit(
        client.post,
        url,
        data,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )


def running(fleet):
    return list(fleet.attempts.filter(state=AttemptState.RUNNING).order_by("slot"))


def test_a_new_fleet_launches_on_spot_in_preference_order(make_fleet):
    fleet = make_fleet(target_count=2)
    assert fleet.status == FleetStatus.RUNNING
    attempts = running(fleet)
    assert [(a.slot, a.market, a.instance_type) for a in attempts] == [
        (0, Market.SPOT, "p3.2xlarge"),
        (1, Market.SPOT, "p3.2xlarge"),
    ]
    first = attempts[0]
    assert first.provider_instance_id == f"sim-{fleet.pk}-0-1"
    assert first.availability_zone == "us-east-1a"
    assert first.price_per_hour == Decimal("0.40")  # the fixture catalogue's spot price
    assert first.on_demand_price_per_hour == Decimal("3.06")
    assert first.price_source.startswith("simulated at catalogue spot")
    assert fleet.started_at is not None
    # Daly's optimum for 2 nodes at the simulated hazard 0 → no interval (no interruptions).
    assert fleet.checkpoint_interval_minutes is None


def test_checkpoint_interval_defaults_to_dalys_optimum(make_fleet):
    fleet = make_fleet(simulated_interruptions_per_hour=0.1, target_count=2)
    mtbf_hours, write_hours = 1 / 0.2, 5 / 60
    x = write_hours / (2 * mtbf_hours)
    daly = (2 * write_hours * mtbf_hours) ** 0.5 * (1 + x**0.5 / 3 + x / 9) - write_hours
    assert fleet.checkpoint_interval_minutes == pytest.approx(daly * 60)


def test_eventbridge_warning_launches_one_replacement_and_charges_the_ended_attempt(
    client, alice_write_token, make_fleet, commit, org_a
):
    fleet = make_fleet()
    old = running(fleet)[0]
    url = API.format(org_a.slug) + "/events/"
    body = warning("e-1", old.provider_instance_id)
    response = post(client, alice_write_token, url, body, commit)
    assert response.status_code == 202, response.content
    fleet.refresh_from_db()
    assert fleet.status == FleetStatus.RUNNING
    old.refresh_from_db()
    assert (old.state, old.end_reason) == (AttemptState.INTERRUPTED, EndReason.INTERRUPTED)
    replacement = running(fleet)[0]
    # Same type, the other zone first (the reclaimed zone is short of capacity).
    assert (replacement.instance_type, replacement.availability_zone) == (
        "p3.2xlarge",
        "us-east-1b",
    )
    event = InterruptionEvent.objects.get(event_key="eventbridge:e-1")
    assert event.handled_at and event.outcome.startswith("replaced by")
    expense = Expense.objects.get(external_id=f"spot-attempt-{old.pk}")
    assert (expense.source, expense.purchase_type, expense.provider) == (
        "spot",
        "spot",
        "simulated",
    )
    assert expense.tags["costsite:simulated"] == "true"

    # EventBridge delivers at least once: the same event again changes nothing.
    again = post(client, alice_write_token, url, body, commit)
    assert again.status_code == 200
    assert fleet.attempts.count() == 2
    assert Expense.objects.filter(source="spot").count() == 1


def test_the_same_interruption_from_several_sources_is_handled_once(
    client, alice_write_token, make_fleet, commit, org_a
):
    fleet = make_fleet()
    old = running(fleet)[0]
    base = API.format(org_a.slug)
    notice = {"instance_id": old.provider_instance_id, "kind": "interruption_warning"}
    assert (
        post(
            client, alice_write_token, f"{base}/fleets/{fleet.pk}/notices/", notice, commit
        ).status_code
        == 202
    )
    # Out of order: the state change, then the warning, arrive after the agent's notice.
    state_change = warning(
        "e-2",
        old.provider_instance_id,
        kind="EC2 Instance State-change Notification",
        state="shutting-down",
    )
    post(client, alice_write_token, f"{base}/events/", state_change, commit)
    post(
        client,
        alice_write_token,
        f"{base}/events/",
        warning("e-3", old.provider_instance_id),
        commit,
    )
    assert fleet.attempts.count() == 2
    outcomes = sorted(InterruptionEvent.objects.values_list("outcome", flat=True))
    assert outcomes.count("already handled") == 2


def test_two_workers_handling_the_same_event_launch_one_replacement(make_fleet, commit, org_a):
    fleet = make_fleet()
    old = running(fleet)[0]
    parsed = events.parse_eventbridge(warning("e-4", old.provider_instance_id))
    event, _ = events.record(org_a, "eventbridge", parsed)  # handling not run (no commit)
    assert commit(tasks.handle_event, event.pk).startswith("replaced by")
    InterruptionEvent.objects.filter(pk=event.pk).update(handled_at=None)  # a second worker
    assert commit(tasks.handle_event, event.pk) == "already handled"
    assert fleet.attempts.count() == 2


def test_rebalance_recommendation_asks_for_a_checkpoint_without_replacing(
    client, alice_write_token, make_fleet, commit, org_a
):
    fleet = make_fleet()
    attempt = running(fleet)[0]
    body = warning(
        "e-5", attempt.provider_instance_id, kind="EC2 Instance Rebalance Recommendation"
    )
    post(client, alice_write_token, API.format(org_a.slug) + "/events/", body, commit)
    assert fleet.attempts.count() == 1
    instance = attempt.provider_instance_id
    url = f"{API.format(org_a.slug)}/fleets/{fleet.pk}/directive?instance_id={instance}"
    auth = {"HTTP_AUTHORIZATION": f"Bearer {alice_write_token}"}
    assert client.get(url, **auth).json()["action"] == "checkpoint"
    post(
        client,
        alice_write_token,
        f"{API.format(org_a.slug)}/fleets/{fleet.pk}/checkpoints/",
        {"step": 10, "uri": "s3://b/ckpt-10"},
        commit,
    )
    directive = client.get(url, **auth).json()
    assert directive == {
        "action": "continue",
        "resume_from": "s3://b/ckpt-10",
        "resume_step": 10,
        "checkpoint_interval_minutes": None,
    }


def test_unknown_instance_is_recorded_and_not_handled(
    client, alice_write_token, make_fleet, commit, org_a
):
    make_fleet()
    response = post(
        client,
        alice_write_token,
        API.format(org_a.slug) + "/events/",
        warning("e-6", "i-nope"),
        commit,
    )
    assert response.status_code == 202
    assert response.json()["outcome"] == "no fleet instance with this id"


@pytest.mark.parametrize(
    "body,field",
    [
        ({"detail-type": "EC2 Spot Fleet Error", "source": "aws.ec2", "id": "x"}, "detail-type"),
        (
            {
                "detail-type": "EC2 Spot Instance Interruption Warning",
                "source": "aws.ec2",
                "id": "x",
            },
            "detail",
        ),
        (
            {
                "detail-type": "EC2 Spot Instance Interruption Warning",
                "source": "aws.ec2",
                "detail": {"instance-id": "i"},
            },
            "id",
        ),
        ({**warning("x", "i"), "time": "yesterday"}, "time"),
        ({**warning("x", "i"), "source": "aws.s3"}, "source"),
        ({**warning("x", "i"), "time": "2026-02-30T00:00:00Z"}, "time"),
        (
            {**warning("x", "i"), "detail-type": ["EC2 Spot Instance Interruption Warning"]},
            "detail-type",
        ),
        (
            warning("x", "i", kind="EC2 Instance State-change Notification", state=["stopped"]),
            "detail",
        ),
    ],
)
def test_malformed_events_are_400_and_store_nothing(client, alice_write_token, org_a, body, field):
    response = client.post(
        API.format(org_a.slug) + "/events/",
        body,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {alice_write_token}",
    )
    assert response.status_code == 400
    assert field in response.json()
    assert not InterruptionEvent.objects.exists()


def test_lost_work_is_measured_from_the_latest_checkpoint_and_progress_resumes_there(
    make_fleet, commit
):
    fleet = make_fleet()
    t0 = timezone.now()
    Attempt.objects.update(launched_at=t0 - timedelta(hours=2))
    attempt = running(fleet)[0]
    orchestrator.record_checkpoint(fleet, 400, "s3://b/400", t0 - timedelta(minutes=30))
    orchestrator.record_progress(fleet, 500, t0)
    commit(orchestrator.interrupt, attempt, t0)
    attempt.refresh_from_db()
    fleet.refresh_from_db()
    assert attempt.lost_steps == 100
    assert attempt.lost_hours == pytest.approx(0.5, abs=1e-3)
    assert fleet.progress_step == 400
    # The old instance is told to stop once its checkpoint request is answered.
    directive = orchestrator.directive(fleet, attempt.provider_instance_id)
    assert (directive["action"], directive["resume_from"]) == ("checkpoint", "s3://b/400")
    orchestrator.record_checkpoint(fleet, 410, "s3://b/410", timezone.now())
    assert orchestrator.directive(fleet, attempt.provider_instance_id)["action"] == "stop"


def test_fallback_to_on_demand_after_n_interruptions(make_fleet, commit):
    fleet = make_fleet(fallback_on_demand_after=2)
    for expected_market in (Market.SPOT, Market.ON_DEMAND):
        commit(orchestrator.interrupt, running(fleet)[0], timezone.now())
        fleet.refresh_from_db()
        assert running(fleet)[0].market == expected_market
    assert fleet.on_demand_fallback
    assert "after 2 interruptions" in fleet.status_reason
    replacement = running(fleet)[0]
    assert replacement.price_per_hour == Decimal("3.06")


def test_progress_to_total_steps_completes_terminates_and_charges(make_fleet, commit):
    fleet = make_fleet(target_count=2, total_steps=100)
    commit(orchestrator.record_progress, fleet, 100, timezone.now())
    fleet.refresh_from_db()
    assert fleet.status == FleetStatus.COMPLETED
    assert not running(fleet)
    assert set(fleet.attempts.values_list("end_reason", flat=True)) == {EndReason.COMPLETED}
    assert Expense.objects.filter(source="spot").count() == 2
    assert orchestrator.directive(fleet, "sim-x")["action"] == "stop"


def test_cancel_terminates_and_a_second_cancel_is_409(
    client, alice_write_token, make_fleet, commit, org_a
):
    fleet = make_fleet()
    url = f"{API.format(org_a.slug)}/fleets/{fleet.pk}/cancel"
    first = post(client, alice_write_token, url, {}, commit)
    assert first.status_code == 200
    assert first.json()["status"] == "cancelled"
    assert post(client, alice_write_token, url, {}, commit).status_code == 409
    assert Attempt.objects.get().end_reason == EndReason.CANCELLED


def test_poll_notices_a_simulated_interruption_and_replaces_it(make_fleet, commit):
    fleet = make_fleet(simulated_interruptions_per_hour=1.0, simulated_seed=7)
    attempt = running(fleet)[0]
    # Move the launch a week back: the seeded draw has certainly passed.
    Attempt.objects.filter(pk=attempt.pk).update(launched_at=timezone.now() - timedelta(days=7))
    commit(tasks.poll_fleets)
    attempt.refresh_from_db()
    assert attempt.state == AttemptState.INTERRUPTED
    event = InterruptionEvent.objects.get()
    assert (event.source, event.kind) == ("poll", "interruption_warning")
    assert len(running(fleet)) == 1


def test_simulated_interruptions_are_reproducible(make_fleet):
    from spot.providers.base import InstanceRef
    from spot.providers.simulated import SimulatedProvider

    at = timezone.now()
    ref = InstanceRef("sim-1-0-1", at)
    draws = {SimulatedProvider(3, 0.5).interruption_at(ref) for _ in range(3)}
    assert len(draws) == 1
    assert SimulatedProvider(4, 0.5).interruption_at(ref) not in draws
    assert SimulatedProvider(3, 0).interruption_at(ref) is None


def test_the_simulated_job_advances_and_checkpoints_while_running(make_fleet, commit):
    fleet = make_fleet(
        simulated_steps_per_hour=600, checkpoint_interval_minutes=30, restart_minutes=0
    )
    Attempt.objects.update(launched_at=timezone.now() - timedelta(hours=1))
    commit(tasks.poll_fleets)
    fleet.refresh_from_db()
    assert 595 <= fleet.progress_step <= 600
    checkpoint = fleet.checkpoints.get()
    assert checkpoint.uri == f"sim://fleet-{fleet.pk}/step-{checkpoint.step}"


def test_a_state_change_to_running_is_recorded_and_needs_nothing(
    client, alice_write_token, make_fleet, commit, org_a
):
    fleet = make_fleet()
    attempt = running(fleet)[0]
    body = warning(
        "e-7",
        attempt.provider_instance_id,
        kind="EC2 Instance State-change Notification",
        state="running",
    )
    response = post(client, alice_write_token, API.format(org_a.slug) + "/events/", body, commit)
    assert response.status_code == 202
    assert response.json()["outcome"] == "nothing to do" and response.json()["handled_at"]
    assert fleet.attempts.count() == 1


@pytest.mark.parametrize(
    ("workload", "field"),
    [
        ({"model_params": 1e8}, "training_tokens"),
        ({"training_tokens": 1e9}, "model_params"),
    ],
)
def test_half_a_workload_is_400_and_stores_no_fleet(
    client, alice_write_token, org_a, catalog, workload, field
):
    body = {
        "name": "llm",
        "provider": "simulated",
        "region": "us-east-1",
        "instance_types": ["p3.2xlarge"],
        "target_count": 1,
        "total_steps": 1000,
    }
    url = API.format(org_a.slug) + "/fleets/"
    headers = {"HTTP_AUTHORIZATION": f"Bearer {alice_write_token}"}
    response = client.post(url, {**body, **workload}, content_type="application/json", **headers)
    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert not Fleet.objects.exists()
    whole = {**body, "model_params": 1e8, "training_flops": 6e17}  # flops: tokens not needed
    response = client.post(url, whole, content_type="application/json", **headers)
    assert response.status_code == 201, response.content
