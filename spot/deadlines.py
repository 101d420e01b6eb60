"""Is a running fleet's deadline at risk on spot? Its measured speed since the latest resume,
the steps left and the expected interruption overhead (Daly) against the time left."""

from datetime import datetime, timedelta

from estimates import interruptions
from estimates.inputs import MAX_HOURS
from spot import advice


def steps_per_hour(fleet) -> float | None:
    """Speed since the latest launch in the fleet (None until two reports exist)."""
    latest_launch = fleet.attempts.order_by("-launched_at").values_list("launched_at", flat=True)
    since = latest_launch.first()
    reports = fleet.progress_reports.filter(at__gte=since) if since else fleet.progress_reports
    first = reports.order_by("at").first()
    last = reports.order_by("-at").first()
    if first is None or last is None or last.at <= first.at or last.step <= first.step:
        return None
    return (last.step - first.step) / ((last.at - first.at).total_seconds() / 3600)


def at_risk(fleet, now: datetime) -> bool:
    if fleet.deadline is None:
        return False
    speed = steps_per_hour(fleet)
    if speed is None:
        return False  # too early to tell
    work_hours = max(0, fleet.total_steps - fleet.progress_step) / speed
    rate = advice.fleet_rate(fleet)
    overhead = interruptions.overhead_for_hazard(
        work_hours,
        rate.per_hour * fleet.target_count,
        fleet.checkpoint_write_minutes / 60,
        fleet.restart_minutes / 60,
        fleet.checkpoint_interval_minutes / 60 if fleet.checkpoint_interval_minutes else None,
    )
    hours = work_hours + overhead.hours
    if not hours <= MAX_HOURS:  # spot would not finish in ten years (or ever)
        return True
    return now + timedelta(hours=hours) > fleet.deadline
