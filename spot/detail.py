"""A fleet as the API and the pages show it: configuration, state, instances, interruptions,
checkpoints, progress, cost against on-demand, emissions; and its timeline for the chart."""

from django.utils import timezone

from spot import accounting
from spot.models import EndReason


def instances(fleet) -> list[dict]:
    now = timezone.now()
    return [
        {
            "id": a.pk,
            "slot": a.slot,
            "provider_instance_id": a.provider_instance_id,
            "market": a.market,
            "instance_type": a.instance_type,
            "az": a.availability_zone,
            "state": a.state,
            "price": str(a.price_per_hour),
            "price_source": a.price_source,
            "on_demand_price": str(a.on_demand_price_per_hour),
            "launched_at": a.launched_at,
            "ended_at": a.ended_at,
            "end_reason": a.end_reason,
            "hours": round(accounting.hours(a, now), 4),
            "cost": str(accounting.cost(a, now).quantize(accounting.CENT)),
            "lost_steps": a.lost_steps,
            "lost_hours": round(a.lost_hours, 4),
        }
        for a in fleet.attempts.all()
    ]


def interruptions(fleet) -> list[dict]:
    return [
        {
            "at": a.ended_at,
            "provider_instance_id": a.provider_instance_id,
            "slot": a.slot,
            "instance_type": a.instance_type,
            "az": a.availability_zone,
            "lost_steps": a.lost_steps,
            "lost_hours": round(a.lost_hours, 4),
        }
        for a in fleet.attempts.all()
        if a.end_reason == EndReason.INTERRUPTED
    ]


def latest_checkpoint(fleet) -> dict | None:
    checkpoints = list(fleet.checkpoints.all())
    if not checkpoints:
        return None
    c = max(checkpoints, key=lambda c: c.step)
    return {"step": c.step, "uri": c.uri, "created_at": c.created_at}


def progress(fleet) -> dict:
    return {
        "step": fleet.progress_step,
        "total_steps": fleet.total_steps,
        "percent": round(100 * fleet.progress_step / fleet.total_steps, 2),
        "at": fleet.progress_at,
    }


def money(fleet, footprints=None) -> dict:
    totals = accounting.totals(fleet, fleet.attempts.all(), timezone.now(), footprints)
    return totals.as_json()


def timeline(fleet) -> dict:
    """Chart.js spec: attempts as floating bars per slot (by market), interruptions and
    checkpoints as points, on hours since the fleet was created; and progress over time."""
    origin = fleet.created_at
    now = timezone.now()

    def h(t):
        return round((t - origin).total_seconds() / 3600, 4)

    slots = [f"slot {i}" for i in range(fleet.target_count)]
    attempts = list(fleet.attempts.all())
    bars = {"spot": [], "on_demand": []}
    for a in attempts:
        bars[a.market].append(
            {"x": [h(a.launched_at), h(a.ended_at or now)], "y": f"slot {a.slot}"}
        )
    interrupted = [
        {"x": h(a.ended_at), "y": f"slot {a.slot}"}
        for a in attempts
        if a.end_reason == EndReason.INTERRUPTED
    ]
    saved = [{"x": h(c.created_at), "y": "checkpoints"} for c in fleet.checkpoints.all()]
    attempts_chart = {
        "type": "bar",
        "indexAxis": "y",
        "title": "Instances (hours since the fleet was created)",
        "labels": [*slots, "checkpoints"],
        "datasets": [
            {"label": "spot", "data": bars["spot"], "backgroundColor": "#2f9e44"},
            {"label": "on-demand", "data": bars["on_demand"], "backgroundColor": "#1971c2"},
            {
                "type": "scatter",
                "label": "interruption",
                "data": interrupted,
                "backgroundColor": "#e03131",
                "pointStyle": "crossRot",
                "pointRadius": 9,
            },
            {
                "type": "scatter",
                "label": "checkpoint",
                "data": saved,
                "backgroundColor": "#f08c00",
                "pointRadius": 5,
            },
        ],
        "scales": {"x": {"type": "linear", "min": 0, "title": {"display": True, "text": "hours"}}},
    }
    reports = list(fleet.progress_reports.all())
    progress_chart = {
        "type": "line",
        "title": "Progress (steps)",
        "labels": [],
        "datasets": [
            {
                "label": "step",
                "data": [{"x": h(r.at), "y": r.step} for r in reports],
                "borderColor": "#5f3dc4",
                "stepped": True,
            }
        ],
        "scales": {
            "x": {"type": "linear", "min": 0, "title": {"display": True, "text": "hours"}},
            "y": {"beginAtZero": True, "max": fleet.total_steps},
        },
    }
    return {"attempts": attempts_chart, "progress": progress_chart}
