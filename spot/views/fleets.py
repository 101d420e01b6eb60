"""Pages: fleets list, new fleet (with the advice before launch), fleet detail."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe
from rest_framework.exceptions import ValidationError

from costsite.orgs.access import org_for_user
from costsite.orgs.roles import OPERATORS
from estimates.offers import offer_table
from estimates.views import add_errors, catalogue_choices
from spot import accounting, advice, detail, events, fleets, orchestrator
from spot.api.advice import compute as compute_advice
from spot.api.fleets import FleetInput
from spot.forms import FleetForm
from spot.models import AttemptState, Fleet, InterruptionEvent


@login_required
@require_safe
def fleet_list(request, org_slug):
    org, me = org_for_user(request, org_slug)
    rows = Fleet.objects.for_org(org).select_related("team").prefetch_related("attempts")
    footprints = accounting.Footprints(org)
    now = timezone.now()
    listed = [(f, accounting.totals(f, f.attempts.all(), now, footprints)) for f in rows[:200]]
    return render(
        request,
        "spot/fleet_list.html",
        {
            "org": org,
            "me": me,
            "fleets": listed,
            "currency": accounting.CURRENCY,
            "can_launch": me.role in OPERATORS,
            "events": InterruptionEvent.objects.for_org(org).select_related("fleet")[:5],
        },
    )


def fleet_advice(org, data: dict, hours: float | None) -> dict | None:
    """The advice for the first instance type, when the form has enough for it."""
    types = data.get("instance_types") or []
    if not hours or not types:
        return None
    inputs = {
        "provider": "aws",
        "region": data["region"],
        "instance_type": types[0],
        "count": data.get("target_count", 1),
        "hours": hours,
        "checkpoint_minutes": data.get("checkpoint_write_minutes", 5),
        "restart_minutes": data.get("restart_minutes", 10),
    }
    if data.get("provider") == "simulated" and data.get("simulated_interruptions_per_hour"):
        inputs["interruption_rate_per_hour"] = data["simulated_interruptions_per_hour"]
    if data.get("checkpoint_interval_minutes"):
        inputs["checkpoint_interval_minutes"] = data["checkpoint_interval_minutes"]
    if data.get("deadline"):
        inputs["deadline_hours"] = max(
            0.01, (data["deadline"] - timezone.now()).total_seconds() / 3600
        )
    return compute_advice(org, inputs)


@login_required
def fleet_new(request, org_slug):
    org, me = org_for_user(request, org_slug, roles=OPERATORS)
    form = FleetForm(request.POST or None, organization=org)
    result = None
    if request.method == "POST" and form.is_valid():
        data = FleetInput(data=form.api_data(), context={"org": org})
        try:
            data.is_valid(raise_exception=True)
            values = dict(data.validated_data)
            fleets.resolve_instance_types(offer_table(org), values)
            launching = request.POST.get("action") == "launch"
            try:
                result = fleet_advice(org, values, form.cleaned_data.get("hours"))
            except ValidationError as exc:
                if not launching:
                    raise
                # The advice needs catalogue prices a fleet can do without: say so, and launch.
                problems = (str(m) for field in exc.detail.values() for m in field)
                messages.warning(request, f"No advice for this fleet: {' '.join(problems)}")
            if launching:
                with transaction.atomic():
                    fleet = fleets.create(org, values, request.user)
                messages.success(request, f"Fleet {fleet.name} created; launching.")
                return redirect("spot:fleet-detail", org.slug, fleet.pk)
        except ValidationError as exc:
            add_errors(form, exc.detail)
        except fleets.FleetError as exc:
            add_errors(form, {exc.field: [str(exc)]})
    return render(
        request,
        "spot/fleet_new.html",
        {"org": org, "me": me, "form": form, "advice": result, **catalogue_choices()},
    )


@login_required
@require_safe
def fleet_detail(request, org_slug, fleet_id):
    org, me = org_for_user(request, org_slug)
    fleet = get_object_or_404(
        Fleet.objects.for_org(org)
        .select_related("team", "budget", "organization")
        .prefetch_related("attempts", "checkpoints", "progress_reports"),
        pk=fleet_id,
    )
    context = {
        "org": org,
        "me": me,
        "fleet": fleet,
        "can_operate": me.role in OPERATORS,
        "instances": detail.instances(fleet),
        "interruptions": detail.interruptions(fleet),
        "checkpoints": fleet.checkpoints.all()[:20],
        "latest_checkpoint": detail.latest_checkpoint(fleet),
        "progress": detail.progress(fleet),
        "money": detail.money(fleet),
        "charts": detail.timeline(fleet),
        "events": fleet.events.all()[:50],
        "rate": advice.fleet_rate(fleet),
        "running": any(a.state == AttemptState.RUNNING for a in fleet.attempts.all()),
    }
    return render(request, "spot/fleet_detail.html", context)


@login_required
@require_POST
def fleet_cancel(request, org_slug, fleet_id):
    org, _ = org_for_user(request, org_slug, roles=OPERATORS)
    fleet = get_object_or_404(Fleet.objects.for_org(org), pk=fleet_id)
    if orchestrator.cancel(fleet, request.user):
        messages.success(request, f"Fleet {fleet.name} cancelled; its instances are terminated.")
    else:
        messages.error(request, f"The fleet is already {fleet.status}.")
    return redirect("spot:fleet-detail", org.slug, fleet.pk)


@login_required
@require_POST
def fleet_interrupt(request, org_slug, fleet_id):
    """Simulated fleets: interrupt the first running instance, as the provider would."""
    org, _ = org_for_user(request, org_slug, roles=OPERATORS)
    fleet = get_object_or_404(Fleet.objects.for_org(org), pk=fleet_id)
    try:
        event = events.simulate_interruption(fleet)
    except events.NotInterruptible as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Simulated interruption of {event.provider_instance_id}.")
    return redirect("spot:fleet-detail", org.slug, fleet.pk)
