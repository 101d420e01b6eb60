"""Pages: idle AWS resources of a scan (start a scan, watch it, pick resources), and the
confirmation step that deletes them."""

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from costsite.orgs.access import org_for_user
from costsite.orgs.roles import OPERATORS, READERS
from costsite.params import is_id
from spot import idle, idle_rates
from spot.idle_forms import IdleDeleteForm, IdleScanForm
from spot.models import IdleScan

RECENT_SCANS = 10


def _scan_url(org, scan_id) -> str:
    return f"{reverse('spot:idle', args=[org.slug])}?scan={scan_id}"


def _render_page(request, org, me, form, scan_id, delete_form=None, status=200):
    scans = IdleScan.objects.for_org(org).select_related("created_by")
    if scan_id:
        if not is_id(scan_id):
            raise Http404("No such scan.")
        scan = get_object_or_404(scans, pk=scan_id)
    else:
        scan = scans.first()
    resources = list(scan.resources.select_related("deleted_by")) if scan else []
    waste, saved = idle.monthly_totals(resources)
    context = {
        "org": org,
        "me": me,
        "form": form,
        "scan": scan,
        "scans": scans[:RECENT_SCANS],
        "resources": resources,
        "open_count": sum(1 for r in resources if r.deleted_at is None),
        "waste": waste,
        "saved": saved,
        "currency": idle_rates.CURRENCY,
        "rates": sorted(idle_rates.rates().values(), key=lambda r: (r.region, r.kind)),
        "can_delete": me.role in OPERATORS,
        "delete_form": delete_form,
        "selected": request.POST.getlist("resources"),
    }
    return render(request, "spot/idle.html", context, status=status)


@login_required
def idle_page(request, org_slug):
    org, me = org_for_user(request, org_slug, OPERATORS if request.method == "POST" else READERS)
    form = IdleScanForm(request.POST or None) if me.role in OPERATORS else None
    if request.method == "POST" and form.is_valid():
        scan = idle.start_scan(org, request.user, **form.cleaned_data)
        return redirect(_scan_url(org, scan.pk))
    return _render_page(request, org, me, form, request.GET.get("scan"))


@login_required
@require_POST
def idle_delete(request, org_slug):
    """First POST (from the table): show what would be deleted. With confirm: delete."""
    org, me = org_for_user(request, org_slug, OPERATORS)
    form = IdleDeleteForm(request.POST, organization=org)
    if not form.is_valid():
        scan_id = request.POST.get("scan")
        return _render_page(request, org, me, IdleScanForm(), scan_id, form, status=400)
    resources = list(form.cleaned_data["resources"])
    scan_id = resources[0].scan_id
    if not form.cleaned_data["confirm"]:
        saving, _ = idle.monthly_totals(resources)
        context = {
            "org": org,
            "me": me,
            "resources": resources,
            "saving": saving,
            "currency": idle_rates.CURRENCY,
            "scan_id": scan_id,
        }
        return render(request, "spot/idle_delete.html", context)
    results = {r.id: r for r in idle.delete(resources, request.user)}
    deleted = [r for r in resources if results[r.pk].result == "deleted"]
    if deleted:
        saving = sum((r.monthly_cost for r in deleted), Decimal(0))
        messages.success(
            request,
            f"Deleted {len(deleted)} resource{'s' if len(deleted) != 1 else ''} in AWS: "
            f"{saving} {idle_rates.CURRENCY} a month less.",
        )
    for result in results.values():
        if result.result == "failed":
            messages.error(request, f"Could not delete {result.resource_id}: {result.error}")
    return redirect(_scan_url(org, scan_id))
