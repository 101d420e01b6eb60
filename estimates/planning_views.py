"""Pages: the planner (prediction, trade-offs, scaling, configurations, batch size) and the
training-run history with the efficiency it teaches."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST
from rest_framework.exceptions import ValidationError

from costsite.orgs.access import org_for_user, require_role
from costsite.orgs.roles import OPERATORS
from estimates import memory, planning, planning_api
from estimates.forms import clean_for_api
from estimates.models import TrainingRun
from estimates.offers import offer_table
from estimates.planning_forms import PlannerForm, TrainingRunForm, run_initial
from estimates.planning_inputs import TrainingRunSerializer
from estimates.views import add_errors, catalogue_choices

COLD, HOT = (47, 158, 68), (224, 49, 49)


def colour(fraction: float) -> str:
    r, g, b = (round(c + (h - c) * fraction) for c, h in zip(COLD, HOT, strict=True))
    return f"rgb({r}, {g}, {b})"


def frontier_chart(tradeoffs: dict) -> dict:
    """Cost against time, each point coloured by its co2e (green = least)."""
    rows = tradeoffs["frontier"]
    co2e = [r["co2e_kg"] for r in rows if r["co2e_kg"] is not None]
    low, high = (min(co2e), max(co2e)) if co2e else (0, 0)

    def shade(row):
        if row["co2e_kg"] is None or high == low:
            return colour(0)
        return colour((row["co2e_kg"] - low) / (high - low))

    return {
        "type": "scatter",
        "title": f"Pareto frontier: cost vs wall time, colour = kg CO2e ({low:.1f}–{high:.1f})",
        "labels": [],
        "datasets": [
            {
                "label": "frontier",
                "data": [{"x": r["wall_hours"], "y": float(r["cost"])} for r in rows],
                "backgroundColor": [shade(r) for r in rows],
                "pointRadius": 5,
            }
        ],
        "scales": {
            "x": {"type": "logarithmic", "title": {"display": True, "text": "wall hours"}},
            "y": {"type": "logarithmic", "title": {"display": True, "text": "cost"}},
        },
    }


def scaling_chart(rows: list[dict]) -> dict:
    return {
        "type": "line",
        "title": "Scaling: wall hours and cost against GPU count",
        "labels": [r["gpu_count"] for r in rows],
        "datasets": [
            {"label": "wall hours", "data": [r["wall_hours"] for r in rows], "yAxisID": "y"},
            {"label": "cost", "data": [float(r["cost"]) for r in rows], "yAxisID": "y1"},
        ],
        "scales": {
            "y": {"beginAtZero": True, "title": {"display": True, "text": "hours"}},
            "y1": {
                "beginAtZero": True,
                "position": "right",
                "title": {"display": True, "text": "cost"},
            },
        },
    }


WORKLOAD = ("params", "tokens", "flops", "precision", "efficiency")
OFFER = ("provider", "region", "instance_type", "purchase_option")
CONSTRAINTS = ("deadline_hours", "budget", "hour_value", "gpu_counts")


def pick(data: dict, keys) -> dict:
    return {k: data[k] for k in keys if k in data}


def plan(org, form) -> dict:
    """Every planning computation the form has enough for (field errors raise)."""
    data = clean_for_api(form)
    workload = pick(data, WORKLOAD)
    target = pick(data, ("accelerator", "gpu_count"))
    if data.get("instance_type"):
        target |= pick(data, OFFER)
    runs = planning.run_figures(org)  # read once for every computation below
    tradeoffs = planning_api.trade_offs(org, workload | pick(data, CONSTRAINTS), runs)
    result = {
        "prediction": planning_api.training_time(org, workload | target, runs),
        "tradeoffs": tradeoffs,
        "frontier_chart": frontier_chart(tradeoffs),
        "scaling_chart": scaling_chart(tradeoffs["scaling"]) if tradeoffs["scaling"] else None,
    }
    if data.get("configurations"):
        result["configurations"] = planning_api.configurations(
            org, workload | {"configurations": data["configurations"]}, runs
        )["configurations"]
    if all(data.get(k) for k in ("params", "seq_len", "global_batch")):
        batch = pick(data, ("params", "seq_len", "accelerator", "global_batch"))
        if data.get("precision") in memory.PRECISIONS:
            batch["precision"] = data["precision"]
        result["batch"] = planning_api.batch_size(org, batch | {"gpus": data["gpu_count"]})
    return result


@login_required
def planner(request, org_slug):
    org, me = org_for_user(request, org_slug)
    form = PlannerForm(request.POST or None)
    result = None
    if request.method == "POST" and form.is_valid():
        try:
            result = plan(org, form)
        except ValidationError as exc:
            add_errors(form, exc.detail)
    return render(
        request,
        "estimates/planner.html",
        {"org": org, "me": me, "form": form, "result": result, **catalogue_choices()},
    )


# Left empty on an edit, these keep being derived from the other figures (as in an API PATCH).
DERIVED = ("flops", "gpu_hours", "wall_hours")


def run_input(form, run=None) -> dict:
    """The form as the API's input: every filled field for a new run; for an edit, the fields
    that differ from the run's values (a PATCH), so that the run's other figures are kept or
    derived again exactly as the API's serializer does."""
    if run is None:
        data = clean_for_api(form)
    else:
        data = {name: form.cleaned_data[name] for name in form.changed_data}
        data = {k: v for k, v in data.items() if not (k in DERIVED and v is None)}
    if data.get("team") is not None:
        data["team"] = data["team"].pk
    return data


def save_run(org, form, run=None, **extra) -> TrainingRun | None:
    """Record (or edit) a run from a valid form through TrainingRunSerializer, the API's checks;
    None, with its errors on the form, when it refuses."""
    serializer = TrainingRunSerializer(
        run,
        data=run_input(form, run),
        partial=run is not None,
        context={"org": org, "catalogue": offer_table(org).catalogue},
    )
    try:
        serializer.is_valid(raise_exception=True)
    except ValidationError as exc:
        add_errors(form, exc.detail)
        return None
    return serializer.save(**extra)


@login_required
def runs(request, org_slug):
    org, me = org_for_user(request, org_slug)
    can_record = me.role in OPERATORS
    form = TrainingRunForm(org, request.POST or None)
    if request.method == "POST":
        require_role(me, OPERATORS)
        if form.is_valid():
            run = save_run(org, form, organization=org, created_by=request.user, source="portal")
            if run is not None:
                messages.success(request, f"Run {run.name} recorded.")
                return redirect("estimates:runs", org.slug)
    rows = TrainingRun.objects.for_org(org).select_related("accelerator", "team")[:200]
    return render(
        request,
        "estimates/runs.html",
        {
            "org": org,
            "me": me,
            "form": form if can_record else None,
            "runs": [(run, TrainingRunSerializer(run).data) for run in rows],
            "efficiencies": planning_api.learned_efficiencies(org),
            **catalogue_choices(),
        },
    )


@login_required
def run_edit(request, org_slug, run_id):
    org, me = org_for_user(request, org_slug, roles=OPERATORS)
    run = get_object_or_404(
        TrainingRun.objects.for_org(org).select_related("accelerator"), pk=run_id
    )
    form = TrainingRunForm(org, request.POST or None, initial=run_initial(run))
    if request.method == "POST" and form.is_valid() and save_run(org, form, run):
        messages.success(request, f"Run {run.name} saved.")
        return redirect("estimates:runs", org.slug)
    return render(
        request,
        "estimates/run_edit.html",
        {"org": org, "me": me, "form": form, "run": run, **catalogue_choices()},
    )


@login_required
@require_POST
def run_delete(request, org_slug, run_id):
    org, _ = org_for_user(request, org_slug, roles=OPERATORS)
    run = get_object_or_404(TrainingRun.objects.for_org(org), pk=run_id)
    run.delete()
    messages.success(request, f"Run {run.name} deleted.")
    return redirect("estimates:runs", org.slug)
