"""The training job of a simulated fleet: steps advance at the fleet's simulated speed while
every slot runs (after the restart time following a launch), and a checkpoint is written every
checkpoint interval. Driven by the every-minute poll; clearly a simulation (uri `sim://`)."""

from datetime import datetime, timedelta

from spot import orchestrator
from spot.models import AttemptState, FleetStatus


def advance(fleet, now: datetime) -> None:
    fleet.refresh_from_db()
    if fleet.status != FleetStatus.RUNNING or fleet.simulated_steps_per_hour <= 0:
        return
    running = list(fleet.attempts.filter(state=AttemptState.RUNNING))
    if len(running) < fleet.target_count:
        return
    resumed = max(a.launched_at for a in running) + timedelta(minutes=fleet.restart_minutes)
    since = max(resumed, fleet.progress_at or resumed)
    if now <= since:
        return
    hours = (now - since).total_seconds() / 3600
    step = min(fleet.total_steps, fleet.progress_step + int(hours * fleet.simulated_steps_per_hour))
    if step <= fleet.progress_step:
        return
    latest = fleet.checkpoints.first()
    last_saved = max(latest.created_at, resumed) if latest else resumed
    interval = timedelta(minutes=fleet.checkpoint_interval_minutes or 60)
    if now - last_saved >= interval or step >= fleet.total_steps:
        orchestrator.record_checkpoint(fleet, step, f"sim://fleet-{fleet.pk}/step-{step}", now)
    orchestrator.record_progress(fleet, step, now, running[0].provider_instance_id)
