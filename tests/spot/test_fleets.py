"""The fleet state machine with the simulated provider: launch, interruptions from every
source (once), replacement per strategy, fallback, checkpoints, lost work, progress, completion,
cancel; and the events and fleets API's input checks and list filters."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from budgets.models import Expense
from spot import accounting, events, orchestrator, tasks
from spot.models import (
    Attempt,
    AttemptState,
    EndReason,
    Fleet,
    FleetStatus,
    InterruptionEvent,
    Market,
    ProgressReport,
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
        # Outside 2000 … now and a day of clock skew; at the calendar's edges, out of UTC's
        # range too.
        ({**warning("x", "i"), "time": "1999-12-31T23:59:59Z"}, "time"),
        ({**warning("x", "i"), "time": "2999-01-01T00:00:00Z"}, "time"),
        ({**warning("x", "i"), "time": "0001-01-01T00:00:00+01:00"}, "time"),
        ({**warning("x", "i"), "time": "9999-12-31T23:59:59-01:00"}, "time"),
        # PostgreSQL stores no NUL character nor unpaired surrogate, wherever it is in the event.
        ({**warning("x", "i"), "detail": {"instance-id": "i-0abc\x00"}}, "detail"),
        ({**warning("x", "i"), "id": "x\x00"}, "id"),
        ({**warning("x", "i"), "resources": [{"arn\x00": "i"}]}, "resources"),
        ({**warning("x", "i"), "detail": {"instance-id": "i-\ud800"}}, "detail"),
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


def test_an_event_time_ahead_of_the_clock_by_more_than_a_day_is_400_and_charges_nothing(
    client, alice_write_token, make_fleet, commit, org_a
):
    """Taken as the interruption time, it would end the attempt then and charge every hour
    until then."""
    fleet = make_fleet()
    attempt = running(fleet)[0]
    ahead = (timezone.now() + timedelta(days=2)).isoformat()
    body = {**warning("e-far", attempt.provider_instance_id), "time": ahead}
    response = post(client, alice_write_token, API.format(org_a.slug) + "/events/", body, commit)
    assert response.status_code == 400
    assert list(response.json()) == ["time"]
    attempt.refresh_from_db()
    assert (attempt.state, attempt.ended_at) == (AttemptState.RUNNING, None)
    assert not Expense.objects.exists()


def test_directive_for_an_instance_id_with_a_nul_character_is_400(
    client, alice_write_token, make_fleet, org_a
):
    fleet = make_fleet()
    url = f"{API.format(org_a.slug)}/fleets/{fleet.pk}/directive?instance_id=i-1%00"
    response = client.get(url, HTTP_AUTHORIZATION=f"Bearer {alice_write_token}")
    assert response.status_code == 400
    assert list(response.json()) == ["instance_id"]


@pytest.mark.parametrize(("path", "param"), [("events/", "fleet"), ("fleets/", "team")])
def test_list_filters_treat_another_orgs_id_as_one_that_does_not_exist(
    client, alice_write_token, org_a, org_b, charlie, catalog, commit, path, param
):
    from costsite.orgs.models import Team
    from spot import fleets

    values = {
        "name": "b",
        "provider": "simulated",
        "region": "us-east-1",
        "instance_types": ["p3.2xlarge"],
        "target_count": 1,
        "total_steps": 10,
    }
    theirs = {
        "fleet": lambda: commit(fleets.create, org_b, values, charlie).pk,
        "team": lambda: Team.objects.create(organization=org_b, name="secret").pk,
    }[param]()
    url = API.format(org_a.slug) + "/" + path
    auth = {"HTTP_AUTHORIZATION": f"Bearer {alice_write_token}"}
    other_org = client.get(url, {param: theirs}, **auth)
    missing = client.get(url, {param: theirs + 1000}, **auth)
    assert (other_org.status_code, other_org.json()) == (missing.status_code, missing.json())
    assert other_org.status_code == 400


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


def test_lost_work_after_another_slots_interruption_is_measured_from_that_resume(
    make_fleet, commit
):
    """Two nodes, one checkpoint at t0. Slot 0 is lost at t1: the job loses t0..t1 and resumes
    from the checkpoint. Slot 1 is lost at t2, with no checkpoint since: only t1..t2 is lost
    again (t0..t1 was counted with slot 0)."""
    fleet = make_fleet(target_count=2, total_steps=10_000)
    now = timezone.now()
    t0, t1, t2 = (now - timedelta(hours=h) for h in (3, 2, 1))
    Attempt.objects.update(launched_at=now - timedelta(hours=4))
    orchestrator.record_checkpoint(fleet, 100, "s3://b/100", t0)
    orchestrator.record_progress(fleet, 200, t1)
    slot0, slot1 = running(fleet)
    commit(orchestrator.interrupt, slot0, t1)
    Attempt.objects.filter(slot=0, state=AttemptState.RUNNING).update(launched_at=t1)
    fleet.refresh_from_db()
    orchestrator.record_progress(fleet, 150, t2)  # resumed from 100, at 150 by t2
    commit(orchestrator.interrupt, slot1, t2)
    slot0.refresh_from_db()
    slot1.refresh_from_db()
    assert (slot0.lost_steps, slot0.lost_hours) == (100, pytest.approx(1.0, abs=1e-3))
    assert (slot1.lost_steps, slot1.lost_hours) == (50, pytest.approx(1.0, abs=1e-3))


def test_a_reclaim_of_both_slots_at_once_counts_the_lost_work_once(make_fleet, commit):
    fleet = make_fleet(target_count=2, total_steps=10_000)
    now = timezone.now()
    Attempt.objects.update(launched_at=now - timedelta(hours=2))
    orchestrator.record_checkpoint(fleet, 100, "s3://b/100", now - timedelta(hours=1))
    orchestrator.record_progress(fleet, 200, now)
    slot0, slot1 = running(fleet)
    commit(orchestrator.interrupt, slot0, now)
    commit(orchestrator.interrupt, slot1, now)
    fleet.refresh_from_db()
    ended = list(Attempt.objects.filter(pk__in=[slot0.pk, slot1.pk]).order_by("slot"))
    assert [a.lost_hours for a in ended] == [pytest.approx(1.0, abs=1e-3), 0.0]
    # 1 h of work lost on 2 nodes: 2 instance-hours.
    totals = accounting.totals(fleet, ended, now)
    assert totals.rework_instance_hours == pytest.approx(2.0, abs=1e-2)


def test_an_interruption_handled_while_the_fleet_is_cancelled_launches_nothing(
    make_fleet, commit, monkeypatch, alice
):
    """A cancel by another request lands after interrupt() checked the fleet, before the
    replacement: no instance is launched for the cancelled fleet."""
    fleet = make_fleet()
    attempt = running(fleet)[0]
    record_lost_work = orchestrator.record_lost_work

    def cancelled_meanwhile(fleet_, attempt_, at):
        record_lost_work(fleet_, attempt_, at)
        orchestrator.cancel(Fleet.objects.get(pk=fleet_.pk), alice)

    monkeypatch.setattr(orchestrator, "record_lost_work", cancelled_meanwhile)
    commit(orchestrator.interrupt, attempt, timezone.now())
    fleet.refresh_from_db()
    assert fleet.status == FleetStatus.CANCELLED
    assert list(fleet.attempts.values_list("pk", flat=True)) == [attempt.pk]
    assert Expense.objects.filter(source="spot").count() == 1


def test_the_deadline_fallback_applies_while_spot_has_been_unavailable_briefly(make_fleet):
    """Spot unavailable for 5 minutes (the policy waits 30) must not hide a deadline at risk."""
    now = timezone.now()
    fleet = make_fleet(deadline=now + timedelta(hours=1), total_steps=10_000)
    Attempt.objects.update(launched_at=now - timedelta(hours=2))
    # 100 steps an hour, 9,900 left: ~99 h of work with 1 h to go.
    for step, at in ((0, now - timedelta(hours=1)), (100, now)):
        ProgressReport.objects.create(
            organization=fleet.organization, fleet=fleet, step=step, at=at
        )
    Fleet.objects.filter(pk=fleet.pk).update(spot_unavailable_since=now - timedelta(minutes=5))
    fleet.refresh_from_db()
    assert orchestrator.use_on_demand(fleet, now)
    fleet.refresh_from_db()
    assert fleet.on_demand_fallback
    assert fleet.status_reason == "on-demand: the deadline is at risk on spot"


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


def test_the_simulated_provider_never_interrupts_on_demand_instances(make_fleet, commit):
    fleet = make_fleet(
        fallback_on_demand_after=1, simulated_interruptions_per_hour=1.0, simulated_seed=7
    )
    commit(orchestrator.interrupt, running(fleet)[0], timezone.now())
    on_demand = running(fleet)[0]
    assert on_demand.market == Market.ON_DEMAND
    # A week on: a spot instance's seeded draw would certainly have passed.
    Attempt.objects.filter(pk=on_demand.pk).update(launched_at=timezone.now() - timedelta(days=7))
    commit(tasks.poll_fleets)
    on_demand.refresh_from_db()
    assert (on_demand.state, on_demand.end_reason) == (AttemptState.RUNNING, "")
    assert fleet.attempts.count() == 2


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
