"""Pages: footprint calculator, greener-region finder."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST
from rest_framework.exceptions import ValidationError

from carbon import equivalents, green_regions, records
from carbon.api import GreenRegionsInput
from carbon.budgets import emitted, queue_evaluation
from carbon.footprint import FootprintError, compute
from carbon.forms import CarbonBudgetForm, FootprintForm, GreenRegionsForm
from carbon.inputs import FootprintInput
from carbon.models import CarbonAlert, CarbonBudget, CarbonRecord
from carbon.overview import month_to_date
from costsite.orgs.access import org_for_user
from costsite.orgs.roles import FINANCE_WRITERS
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
            data = dict(form.cleaned_data)
            channels = data.pop("channels")
            CarbonBudget.objects.create(organization=org, **data).channels.set(channels)
            queue_evaluation(org.pk)
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


@login_required
@require_POST
def budget_delete(request, org_slug, budget_id):
    org, _ = org_for_user(request, org_slug, FINANCE_WRITERS)
    get_object_or_404(CarbonBudget.objects.for_org(org), pk=budget_id).delete()
    return redirect("carbon:dashboard", org_slug=org.slug)
