"""The fleet state machine: launching, interruptions, checkpoints, progress, completion.

pending → provisioning → running → interrupted → recovering → running … → completed | failed |
cancelled. Every transition is a conditional UPDATE (`status IN (...)`), and an interrupted
attempt is claimed with `state = 'running'`, so two workers or a duplicated event act once; a
unique constraint allows one running attempt per slot, so a duplicated replacement cannot be
stored (its instance is terminated).
"""

import logging
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import F
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from estimates import utilization
from estimates.models import UtilizationSample, UtilizationSource
from estimates.offers import offer_table
from spot import accounting, deadlines, runs, strategy
from spot.models import (
    CATALOGUE_PROVIDER,
    Attempt,
    AttemptState,
    Checkpoint,
    EndReason,
    Fleet,
    FleetStatus,
    Market,
    ProgressReport,
)
from spot.providers import for_fleet
from spot.providers.base import (
    CapacityError,
    InstanceRef,
    LaunchRequest,
    ProviderError,
    TransientError,
)

log = logging.getLogger(__name__)

ACTIVE = (
    FleetStatus.PROVISIONING,
    FleetStatus.RUNNING,
    FleetStatus.INTERRUPTED,
    FleetStatus.RECOVERING,
)
END_REASONS = {
    FleetStatus.COMPLETED: EndReason.COMPLETED,
    FleetStatus.CANCELLED: EndReason.CANCELLED,
    FleetStatus.FAILED: EndReason.FAILED,
}


def transition(fleet: Fleet, from_states, to: str, **fields) -> bool:
    """Move the fleet from one of `from_states` to `to`; False if another worker got there
    first (or the fleet is elsewhere). Refreshes `fleet` either way."""
    moved = Fleet.objects.filter(pk=fleet.pk, status__in=from_states).update(
        status=to, updated_at=timezone.now(), **fields
    )
    fleet.refresh_from_db()
    return bool(moved)


def set_reason(fleet: Fleet, reason: str) -> None:
    Fleet.objects.filter(pk=fleet.pk).update(status_reason=reason[:500])
    fleet.status_reason = reason[:500]


# --- Launching ---------------------------------------------------------------------------------


def render_script(fleet: Fleet, slot: int) -> str:
    latest = fleet.checkpoints.first()
    values = {
        "{{resume_from}}": latest.uri if latest else "",
        "{{resume_step}}": str(latest.step) if latest else "",
        "{{fleet_id}}": str(fleet.pk),
        "{{slot}}": str(slot),
    }
    script = fleet.startup_script
    for placeholder, value in values.items():
        script = script.replace(placeholder, value)
    return script


def use_on_demand(fleet: Fleet, now: datetime) -> bool:
    """True once the fallback policy says so (and remembered on the fleet)."""
    if fleet.on_demand_fallback:
        return True
    reason = fallback_reason(fleet, now)
    if not reason:
        return False
    Fleet.objects.filter(pk=fleet.pk).update(on_demand_fallback=True, status_reason=reason)
    fleet.on_demand_fallback, fleet.status_reason = True, reason
    return True


def fallback_reason(fleet: Fleet, now: datetime) -> str:
    """Why the policy moves the fleet to on-demand now ("" if it does not): each rule on its
    own, the first that applies."""
    interruptions = fleet.attempts.filter(end_reason=EndReason.INTERRUPTED).count()
    limit = fleet.fallback_on_demand_after
    if limit is not None and interruptions >= limit:
        return f"on-demand after {interruptions} interruptions (policy: after {limit})"
    if fleet.spot_unavailable_since and fleet.fallback_unavailable_minutes is not None:
        waited = (now - fleet.spot_unavailable_since).total_seconds() / 60
        if waited >= fleet.fallback_unavailable_minutes:
            return (
                f"on-demand: spot unavailable for {waited:.0f} min "
                f"(policy: {fleet.fallback_unavailable_minutes} min)"
            )
    if fleet.fallback_on_deadline and deadlines.at_risk(fleet, now):
        return "on-demand: the deadline is at risk on spot"
    return ""


def _store(fleet, slot, launched, table, provider_price) -> Attempt | None:
    on_demand = table.get(CATALOGUE_PROVIDER, fleet.region, launched.instance_type, "on_demand")
    if launched.market == Market.ON_DEMAND:
        price, source = on_demand.price_per_hour, f"on-demand: {on_demand.source}"
    elif provider_price is not None:
        price, source = provider_price, "spot price history at launch"
    else:
        spot = table.get(CATALOGUE_PROVIDER, fleet.region, launched.instance_type, "spot")
        offer = spot or on_demand
        price = offer.price_per_hour
        source = ("catalogue spot: " if spot else "no spot price known; on-demand: ") + offer.source
    if fleet.is_simulated:
        source = f"simulated at {source}"
    try:
        with transaction.atomic():
            return Attempt.objects.create(
                organization_id=fleet.organization_id,
                fleet=fleet,
                slot=slot,
                provider_instance_id=launched.provider_instance_id,
                market=launched.market,
                instance_type=launched.instance_type,
                availability_zone=launched.availability_zone,
                price_per_hour=price,
                price_source=source[:300],
                on_demand_price_per_hour=on_demand.price_per_hour,
                launched_at=launched.launched_at,
            )
    except IntegrityError:
        return None  # another worker filled this slot first


def launch_slot(fleet: Fleet, slot: int, reclaimed: Attempt | None = None) -> Attempt | None:
    """Launch one instance for `slot`: spot candidates per the strategy, then on-demand when the
    fallback policy allows. None when nothing could be launched now (retried by the poll).
    Raises ProviderError when the provider cannot work at all (the caller fails the fleet)."""
    now = timezone.now()
    provider = for_fleet(fleet)
    table = offer_table(fleet.organization)
    on_demand_now = use_on_demand(fleet, now)
    spot = (
        []
        if on_demand_now
        else strategy.spot_candidates(
            fleet,
            reclaimed.instance_type if reclaimed else "",
            reclaimed.availability_zone if reclaimed else "",
        )
    )
    failures = []
    for round_ in ("spot", "on_demand"):
        if round_ == "on_demand":
            if not on_demand_now:
                Fleet.objects.filter(pk=fleet.pk, spot_unavailable_since__isnull=True).update(
                    spot_unavailable_since=now
                )
                fleet.refresh_from_db()
                if not use_on_demand(fleet, now):
                    break
            candidates = strategy.on_demand_candidates(fleet)
        else:
            candidates = spot
        for candidate in candidates:
            on_demand = table.get(
                CATALOGUE_PROVIDER, fleet.region, candidate.instance_type, "on_demand"
            )
            request = LaunchRequest(
                region=fleet.region,
                instance_type=candidate.instance_type,
                market=candidate.market,
                availability_zone=candidate.availability_zone,
                max_price=strategy.max_spot_price(fleet, on_demand.price_per_hour)
                if candidate.market == Market.SPOT
                else None,
                image_id=fleet.image_id,
                instance_profile=fleet.instance_profile,
                subnet_id=(fleet.subnet_ids or [""])[0],
                security_group_ids=tuple(fleet.security_group_ids),
                user_data=render_script(fleet, slot),
                tags={
                    "Name": f"costsite {fleet.name} slot {slot}",
                    "costsite:fleet": str(fleet.pk),
                    "costsite:slot": str(slot),
                    "costsite:launch": str(fleet.attempts.count() + 1),
                },
            )
            try:
                launched = provider.launch(request)
            except TransientError:
                raise
            except CapacityError as exc:
                failures.append(f"{candidate.instance_type} {candidate.availability_zone}: {exc}")
                continue
            attempt = _store(fleet, slot, launched, table, launched.spot_price)
            if attempt is None:
                provider.terminate([launched.provider_instance_id])
                return None
            if launched.market == Market.SPOT:
                Fleet.objects.filter(pk=fleet.pk).update(spot_unavailable_since=None)
            return attempt
    set_reason(fleet, "no capacity: " + "; ".join(failures) if failures else "no capacity")
    return None


def fill_slots(fleet: Fleet, slots=None, reclaimed: Attempt | None = None) -> None:
    """Launch instances for empty slots; running once every slot has one. Provider failures
    end the fleet (fatal) or leave it for the next poll (transient). Nothing is launched for a
    fleet that has ended meanwhile (a cancel by another request): its status is read again
    before each launch."""
    filled = set(fleet.attempts.filter(state=AttemptState.RUNNING).values_list("slot", flat=True))
    wanted = [s for s in (slots if slots is not None else range(fleet.target_count))]
    try:
        for slot in wanted:
            if slot in filled:
                continue
            fleet.refresh_from_db(fields=["status"])
            if fleet.is_final:
                return
            if launch_slot(fleet, slot, reclaimed):
                filled.add(slot)
    except TransientError as exc:
        set_reason(fleet, f"provider busy, retrying: {exc}")
        return
    except ProviderError as exc:
        fail(fleet, str(exc))
        return
    if len(filled) >= fleet.target_count:
        transition(
            fleet,
            (FleetStatus.PROVISIONING, FleetStatus.RECOVERING),
            FleetStatus.RUNNING,
            started_at=Coalesce(F("started_at"), timezone.now()),
        )


def start(fleet: Fleet) -> None:
    if transition(fleet, (FleetStatus.PENDING,), FleetStatus.PROVISIONING):
        fill_slots(fleet)


# --- Interruptions -----------------------------------------------------------------------------


def request_checkpoint(attempt: Attempt) -> None:
    Attempt.objects.filter(pk=attempt.pk, checkpoint_requested_at__isnull=True).update(
        checkpoint_requested_at=timezone.now()
    )


def interrupt(attempt: Attempt, at: datetime) -> str:
    """Handle the loss of a running attempt once: ask the job to checkpoint, record the work
    lost, launch the replacement, then charge the ended attempt."""
    claimed = Attempt.objects.filter(pk=attempt.pk, state=AttemptState.RUNNING).update(
        state=AttemptState.INTERRUPTED,
        ended_at=at,
        end_reason=EndReason.INTERRUPTED,
        checkpoint_requested_at=Coalesce(F("checkpoint_requested_at"), timezone.now()),
    )
    if not claimed:
        return "already handled"
    attempt.refresh_from_db()
    fleet = attempt.fleet
    if fleet.is_final:
        accounting.charge(attempt)
        return f"fleet already {fleet.status}"
    transition(
        fleet,
        (FleetStatus.PROVISIONING, FleetStatus.RUNNING, FleetStatus.RECOVERING),
        FleetStatus.INTERRUPTED,
    )
    record_lost_work(fleet, attempt, at)
    transition(fleet, (FleetStatus.INTERRUPTED,), FleetStatus.RECOVERING)
    fill_slots(fleet, slots=[attempt.slot], reclaimed=attempt)
    accounting.charge(attempt)
    replacement = fleet.attempts.filter(slot=attempt.slot, state=AttemptState.RUNNING).first()
    if replacement is None:
        return "interrupted; no replacement yet: " + fleet.status_reason
    return f"replaced by {replacement.provider_instance_id} ({replacement.market})"


def record_lost_work(fleet: Fleet, attempt: Attempt, at: datetime) -> None:
    """Work since the latest checkpoint is lost (the job resumes from it), but only work done
    since the job last (re)started: this attempt's launch, or the fleet's previous interruption
    (another slot's), whose loss was counted then. So a stretch is never counted twice, and a
    reclaim of several slots at once counts the lost work once."""
    latest = fleet.checkpoints.first()
    previous = (
        fleet.attempts.filter(end_reason=EndReason.INTERRUPTED, ended_at__lte=at)
        .exclude(pk=attempt.pk)
        .order_by("-ended_at")
        .values_list("ended_at", flat=True)
        .first()
    )
    starts = (attempt.launched_at, previous, latest.created_at if latest else None)
    since = max(t for t in starts if t is not None)
    lost_steps = max(0, fleet.progress_step - (latest.step if latest else 0))
    lost_hours = max(0.0, (at - since).total_seconds() / 3600)
    Attempt.objects.filter(pk=attempt.pk).update(lost_steps=lost_steps, lost_hours=lost_hours)
    # The job resumes from the checkpoint: progress goes back to it.
    Fleet.objects.filter(pk=fleet.pk).update(progress_step=latest.step if latest else 0)
    fleet.refresh_from_db()


# --- Job reports -------------------------------------------------------------------------------


def record_checkpoint(fleet: Fleet, step: int, uri: str, at: datetime) -> Checkpoint:
    checkpoint, _ = Checkpoint.objects.get_or_create(
        fleet=fleet,
        step=step,
        defaults={"organization_id": fleet.organization_id, "uri": uri, "created_at": at},
    )
    advance(fleet, step, at)
    return checkpoint


def record_progress(fleet, step: int, at: datetime, instance_id="", samples=()) -> None:
    """`samples` are validated (spot.api.fleets.SampleInput): `at`, when given, a datetime."""
    ProgressReport.objects.create(
        organization_id=fleet.organization_id,
        fleet=fleet,
        step=step,
        at=at,
        provider_instance_id=instance_id,
    )
    if samples:
        store_utilization(fleet, at, instance_id, samples)
    advance(fleet, step, at)


def store_utilization(fleet, at: datetime, instance_id: str, samples) -> None:
    """Keep a progress report's GPU samples for right-sizing, as the instance that sent them;
    a sample without a GPU utilisation has nothing to right-size and is left out."""
    attempt = (
        fleet.attempts.filter(provider_instance_id=instance_id).first() if instance_id else None
    )
    common = {
        "job": sample_job(fleet, instance_id),
        "provider": CATALOGUE_PROVIDER,
        "region": fleet.region,
        "instance_type": attempt.instance_type if attempt else fleet.instance_types[0],
    }
    rows = [
        {**common, **sample, "at": sample.get("at", at)}
        for sample in samples
        if "gpu_utilization" in sample
    ]
    if skipped := len(samples) - len(rows):
        log.warning("fleet %s: %d sample(s) without utilisation", fleet.pk, skipped)
    utilization.store(fleet.organization, rows, UtilizationSource.SPOT, fleet.team)


def sample_job(fleet: Fleet, instance_id: str) -> str:
    """ "fleet <id>: <name> (<instance id>)", the fleet's name shortened (…) to fit the
    samples' job column."""
    prefix, suffix = f"fleet {fleet.pk}: ", f" ({instance_id})" if instance_id else ""
    room = UtilizationSample._meta.get_field("job").max_length - len(prefix) - len(suffix)
    name = fleet.name if len(fleet.name) <= room else fleet.name[: room - 1] + "…"
    return prefix + name + suffix


def advance(fleet: Fleet, step: int, at: datetime) -> None:
    Fleet.objects.filter(pk=fleet.pk, progress_step__lt=step).update(
        progress_step=step, progress_at=Greatest(Coalesce(F("progress_at"), at), at)
    )
    fleet.refresh_from_db()
    if fleet.progress_step >= fleet.total_steps:
        finish(fleet, FleetStatus.COMPLETED, EndReason.COMPLETED, "all steps done")


def directive(fleet: Fleet, instance_id: str = "") -> dict:
    latest = fleet.checkpoints.first()
    attempt = (
        fleet.attempts.filter(provider_instance_id=instance_id).first() if instance_id else None
    )
    if fleet.is_final:
        action = "stop"
    elif attempt is None:
        action = "continue"
    else:
        requested = attempt.checkpoint_requested_at
        saved_since = latest is not None and requested and latest.created_at >= requested
        if requested and not saved_since:
            action = "checkpoint"
        elif attempt.state != AttemptState.RUNNING:
            action = "stop"
        else:
            action = "continue"
    return {
        "action": action,
        "resume_from": latest.uri if latest else None,
        "resume_step": latest.step if latest else None,
        "checkpoint_interval_minutes": fleet.checkpoint_interval_minutes,
    }


# --- Ending ------------------------------------------------------------------------------------


def finish(fleet: Fleet, status: str, end_reason: str, reason: str) -> bool:
    """End the fleet (completed, cancelled, failed): terminate its instances, charge them."""
    if not transition(
        fleet,
        (FleetStatus.PENDING, *ACTIVE),
        status,
        ended_at=timezone.now(),
        status_reason=reason[:500],
    ):
        return False
    release(fleet, end_reason)
    if status == FleetStatus.COMPLETED:
        runs.record(fleet)
    return True


def fail(fleet: Fleet, reason: str) -> bool:
    return finish(fleet, FleetStatus.FAILED, EndReason.FAILED, reason)


def cancel(fleet: Fleet, user) -> bool:
    who = user.email if user else "an API token"
    return finish(fleet, FleetStatus.CANCELLED, EndReason.CANCELLED, f"cancelled by {who}")


def release(fleet: Fleet, end_reason: str) -> None:
    """Terminate the running attempts of an ended fleet; a failed terminate is retried by the
    poll (the attempts stay running until it succeeds)."""
    running = list(fleet.attempts.filter(state=AttemptState.RUNNING))
    if not running:
        return
    try:
        for_fleet(fleet).terminate([a.provider_instance_id for a in running])
    except ProviderError as exc:
        log.warning("fleet %s: terminate failed, will retry: %s", fleet.pk, exc)
        set_reason(fleet, f"{fleet.status_reason}; terminating instances failed, retrying: {exc}")
        return
    now = timezone.now()
    for attempt in running:
        if Attempt.objects.filter(pk=attempt.pk, state=AttemptState.RUNNING).update(
            state=AttemptState.TERMINATED, ended_at=now, end_reason=end_reason
        ):
            attempt.refresh_from_db()
            accounting.charge(attempt)


# --- The poll ----------------------------------------------------------------------------------


def resume_abandoned(fleet: Fleet) -> None:
    """Finish what an interruption handler killed half-way left undone (its retry finds the
    attempt already claimed): charge the ended attempts, and put a fleet short of running
    instances back to recovering so its slots are refilled, rather than stuck "running"."""
    ended = fleet.attempts.filter(charged=False, ended_at__isnull=False)
    for attempt in ended.exclude(state=AttemptState.RUNNING):
        accounting.charge(attempt)
    running = fleet.attempts.filter(state=AttemptState.RUNNING).count()
    if not fleet.is_final and running < fleet.target_count:
        transition(fleet, (FleetStatus.RUNNING, FleetStatus.INTERRUPTED), FleetStatus.RECOVERING)


def poll(fleet: Fleet, record_event) -> None:
    """One round for one fleet: notice lost instances (`record_event(attempt, state)` records
    and handles them), finish abandoned interruptions, refill empty slots, release the
    instances of ended fleets."""
    resume_abandoned(fleet)
    if fleet.is_final:
        release(fleet, END_REASONS[fleet.status])
        return
    if fleet.status == FleetStatus.PENDING:
        start(fleet)
        return
    running = list(fleet.attempts.filter(state=AttemptState.RUNNING))
    if running:
        try:
            states = for_fleet(fleet).describe(
                [InstanceRef(a.provider_instance_id, a.launched_at, a.market) for a in running]
            )
        except ProviderError as exc:
            set_reason(fleet, f"cannot describe instances, retrying: {exc}")
            states = {}
        for attempt in running:
            state = states.get(attempt.provider_instance_id, "running")
            if state not in ("pending", "running"):
                record_event(attempt, state)
    fleet.refresh_from_db()
    if fleet.status in (FleetStatus.PROVISIONING, FleetStatus.RECOVERING):
        fill_slots(fleet)
