"""Pages: footprint calculator, greener-region finder, dashboard with carbon budgets (create,
edit, delete), job records (list, delete)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST, require_safe
from rest_framework.exceptions import ValidationError

from carbon import equivalents, green_regions, records
from carbon.api import CarbonRecordFilter, GreenRegionsInput
from carbon.budgets import emitted, queue_evaluation
from carbon.footprint import FootprintError, compute
from carbon.forms import CarbonBudgetForm, FootprintForm, GreenRegionsForm
from carbon.inputs import FootprintInput
from carbon.models import CarbonAlert, CarbonBudget, CarbonRecord, RecordSource
from carbon.overview import month_to_date
from costsite.orgs.access import org_for_user
from costsite.orgs.models import Team
from costsite.orgs.roles import FINANCE_WRITERS, SPEND_WRITERS
from costsite.paging import paged
from estimates.compare import Requirements
from estimates.forms import clean_for_api
from estimates.offers import offer_table
from estimates.views import add_errors, catalogue_choices


def green_chart(result: dict) -> dict:
    rows = result["results"][:15]
    return {
        "type": "bar",
        "indexAxis": "y",
        "title": "kg CO2e by region",
        "labels": [f"{r['provider']} {r['region']}" for r in rows],
        "datasets": [
            {"label": "kg CO2e", "data": [r["co2e_kg"] for r in rows], "backgroundColor": "#2f9e44"}
        ],
    }


@login_required
def footprint_page(request, org_slug):
    org, me = org_for_user(request, org_slug)
    form = FootprintForm(request.POST or None)
    result = None
    if request.method == "POST" and form.is_valid():
        table = offer_table(org)
        data = FootprintInput(data=clean_for_api(form), context={"catalogue": table.catalogue})
        try:
            data.is_valid(raise_exception=True)
            result = compute(data.to_domain())
            result |= equivalents.describe(
                result["co2e_kg"], data.validated_data.get("offset_price_per_tonne")
            )
        except ValidationError as exc:
            add_errors(form, exc.detail)
        except FootprintError as exc:
            add_errors(form, {exc.field: [str(exc)]})
    return render(
        request,
        "carbon/footprint.html",
        {"org": org, "me": me, "form": form, "result": result, **catalogue_choices()},
    )


@login_required
def green_regions_page(request, org_slug):
    org, me = org_for_user(request, org_slug)
    form = GreenRegionsForm(request.POST or None)
    result = chart = None
    if request.method == "POST" and form.is_valid():
        table = offer_table(org)
        data = GreenRegionsInput(data=clean_for_api(form), context={"catalogue": table.catalogue})
        try:
            data.is_valid(raise_exception=True)
            d = data.validated_data
            current = (d["provider"], d["current_region"]) if d.get("current_region") else None
            result = green_regions.rank(
                table,
                Requirements(
                    gpu_count=d["gpu_count"],
                    hours=d["hours"],
                    accelerator_names=d["accelerator_names"],
                    purchase_options=[d["purchase_option"]],
                    max_results=500,
                ),
                current,
            )
            chart = green_chart(result)
        except ValidationError as exc:
            add_errors(form, exc.detail)
        except FootprintError as exc:
            add_errors(form, {exc.field: [str(exc)]})
    return render(
        request,
        "carbon/green_regions.html",
        {
            "org": org,
            "me": me,
            "form": form,
            "result": result,
            "chart": chart,
            **catalogue_choices(),
        },
    )


@login_required
def dashboard(request, org_slug):
    org, me = org_for_user(request, org_slug)
    can_edit = me.role in FINANCE_WRITERS
    form = CarbonBudgetForm(request.POST or None, organization=org) if can_edit else None
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied("Only owners, admins and finance manage carbon budgets.")
        if form.is_valid():
            save_budget(form)
            return redirect("carbon:dashboard", org_slug=org.slug)
    jobs = CarbonRecord.objects.for_org(org)
    budgets = [
        (b, emitted(b))
        for b in CarbonBudget.objects.for_org(org).select_related("organization", "team")
    ]
    by_month = records.totals(jobs, "month", org.time_zone)[-12:]
    return render(
        request,
        "carbon/dashboard.html",
        {
            "org": org,
            "me": me,
            "month_to_date": month_to_date(org),
            "by_month": by_month,
            "by_region": sorted(
                records.totals(jobs, "region", org.time_zone), key=lambda g: -g["co2e_kg"]
            ),
            "top_jobs": jobs.select_related("team").order_by("-co2e_kg")[:10],
            "budgets": budgets,
            "alerts": CarbonAlert.objects.for_org(org).select_related("budget")[:20],
            "form": form,
            "can_edit": can_edit,
            "can_delete_records": me.role in SPEND_WRITERS,
            "chart": {
                "type": "bar",
                "title": "kg CO2e by month",
                "labels": [g["key"][:7] for g in by_month],
                "datasets": [
                    {
                        "label": "kg CO2e",
                        "data": [g["co2e_kg"] for g in by_month],
                        "backgroundColor": "#2f9e44",
                    }
                ],
            },
        },
    )


def save_budget(form: CarbonBudgetForm) -> CarbonBudget:
    """Save a valid budget form (new or edited) and re-evaluate the organization's budgets."""
    budget = form.save()
    queue_evaluation(budget.organization_id)
    return budget


@login_required
def budget_edit(request, org_slug, budget_id):
    org, me = org_for_user(request, org_slug, FINANCE_WRITERS)
    budget = get_object_or_404(CarbonBudget.objects.for_org(org), pk=budget_id)
    title = f"Edit {budget.name}"  # before the form changes the instance
    form = CarbonBudgetForm(request.POST or None, instance=budget, organization=org)
    if request.method == "POST" and form.is_valid():
        save_budget(form)
        messages.success(request, f"Saved {budget.name}.")
        return redirect("carbon:dashboard", org_slug=org.slug)
    return render(
        request,
        "carbon/budget_form.html",
        {"org": org, "me": me, "form": form, "title": title, "budget": budget},
    )


@login_required
@require_POST
def budget_delete(request, org_slug, budget_id):
    org, _ = org_for_user(request, org_slug, FINANCE_WRITERS)
    get_object_or_404(CarbonBudget.objects.for_org(org), pk=budget_id).delete()
    return redirect("carbon:dashboard", org_slug=org.slug)


# --- Job records -------------------------------------------------------------------------------


@login_required
@require_safe
def record_list(request, org_slug):
    org, me = org_for_user(request, org_slug)
    rows = CarbonRecord.objects.for_org(org).select_related("team").order_by("-started_at", "-pk")
    found = CarbonRecordFilter(request.GET, queryset=rows, org=org)
    # A bad filter value is a field error on the page (the API's 400) and matches nothing.
    page, query = paged(request, found.qs if found.is_valid() else rows.none())
    return render(
        request,
        "carbon/records.html",
        {
            "org": org,
            "me": me,
            "records": page,
            "filter": found,
            "teams": Team.objects.for_org(org),
            "sources": RecordSource.choices,
            "filters": request.GET,
            "query": query,
            "here": request.GET.urlencode(),
            "can_delete": me.role in SPEND_WRITERS,
        },
    )


@login_required
@require_POST
def record_delete(request, org_slug, record_id):
    """Delete a job's record, as the API's DELETE does (the roles that report records). Back to
    the dashboard when asked from there, else to the records page with its filters and page."""
    org, _ = org_for_user(request, org_slug, SPEND_WRITERS)
    record = get_object_or_404(CarbonRecord.objects.for_org(org), pk=record_id)
    record.delete()
    messages.success(request, f"Deleted the record of {record.name}.")
    if request.POST.get("back") == "dashboard":
        return redirect("carbon:dashboard", org_slug=org.slug)
    query = request.GET.urlencode()
    return redirect(reverse("carbon:records", args=[org.slug]) + (f"?{query}" if query else ""))
