"""Pages: right-sizing recommendations from GPU utilisation, with a CSV upload for operators,
and the stored samples."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_safe

from costsite.orgs.access import org_for_user
from costsite.orgs.models import Team
from costsite.orgs.roles import OPERATORS, READERS
from costsite.paging import paged
from costsite.periods import check_supported_day
from estimates import rightsizing, utilization, utilization_upload
from estimates.models import Provider, PurchaseOption, UtilizationSample, UtilizationSource
from estimates.utilization_api import UtilizationSampleFilter

BADGES = {
    rightsizing.IDLE: "status-failed",
    rightsizing.UNDER: "status-over",
    rightsizing.OVER: "status-at_risk",
    rightsizing.RIGHT: "status-ok",
}


class WindowForm(forms.Form):
    days = forms.TypedChoiceField(
        choices=[(7, "7 days"), (14, "14 days"), (30, "30 days"), (90, "90 days")],
        coerce=int,
    )
    end = forms.DateField(
        required=False,
        validators=[check_supported_day],
        label="Last day (UTC)",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    job = forms.CharField(max_length=utilization.MAX_JOB_LENGTH, required=False)
    purchase_option = forms.ChoiceField(choices=PurchaseOption.choices, label="Priced at")


class UploadForm(forms.Form):
    file = forms.FileField(
        help_text="nvidia-smi or DCGM exporter CSV, up to 20 MB.",
        validators=[utilization_upload.validate_size],
    )
    job = forms.CharField(
        max_length=utilization.MAX_JOB_LENGTH,
        required=False,
        help_text="Required for nvidia-smi files; DCGM rows may name their own.",
    )
    provider = forms.ChoiceField(choices=[("", "—"), *Provider.choices], required=False)
    region = forms.CharField(max_length=40, required=False)
    instance_type = forms.CharField(max_length=60, required=False)
    team = forms.ModelChoiceField(queryset=Team.objects.none(), required=False)

    def __init__(self, org, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = Team.objects.for_org(org)


WINDOW_DEFAULTS = {"days": "30", "purchase_option": PurchaseOption.ON_DEMAND}
THRESHOLDS = {
    "idle_util_p95": rightsizing.IDLE_UTIL_P95,
    "under_memory_peak": rightsizing.UNDER_MEMORY_PEAK,
    "over_memory_peak": rightsizing.OVER_MEMORY_PEAK,
    "over_util_p95": rightsizing.OVER_UTIL_P95,
    "memory_headroom": rightsizing.MEMORY_HEADROOM,
    "under_memory_headroom": rightsizing.UNDER_MEMORY_HEADROOM,
    "compute_headroom": rightsizing.COMPUTE_HEADROOM,
    "hours_per_month": rightsizing.HOURS_PER_MONTH,
}


def store_upload(org, form) -> utilization_upload.UploadResult:
    """Store a valid upload form's file; why nothing was stored becomes the form's errors."""
    result = utilization_upload.upload_csv(org, **form.cleaned_data)
    for name, reasons in result.errors.items():
        form.add_error(name, reasons)
    return result


def analysis(org, window: WindowForm) -> dict | None:
    if not window.is_valid():
        return None
    q = window.cleaned_data
    report = rightsizing.report_for(org, q["days"], q["end"], q["job"], q["purchase_option"])
    for job in report["jobs"]:
        job["label"] = rightsizing.CLASSIFICATIONS[job["classification"]]
        job["badge"] = BADGES[job["classification"]]
    return report


@login_required
def rightsizing_page(request, org_slug):
    posted = request.method == "POST"
    org, me = org_for_user(request, org_slug, OPERATORS if posted else READERS)
    upload = UploadForm(org, request.POST if posted else None, request.FILES if posted else None)
    row_errors = None
    if posted and upload.is_valid():
        result = store_upload(org, upload)
        if result.stored:
            messages.success(
                request,
                f"Stored {result.created} sample(s); skipped {result.duplicates} already stored.",
            )
            return redirect(request.get_full_path())
        row_errors = result.rows
    window = WindowForm({**WINDOW_DEFAULTS, **request.GET.dict()}, auto_id="window-%s")
    return render(
        request,
        "estimates/rightsizing.html",
        {
            "org": org,
            "me": me,
            "window": window,
            "report": analysis(org, window),
            "upload": upload,
            "row_errors": row_errors,
            "can_upload": me.role in OPERATORS,
            "thresholds": THRESHOLDS,
        },
    )


@login_required
@require_safe
def utilization_samples(request, org_slug):
    """The stored samples, newest first, filtered as the API's list is (a bad filter is a message
    beside the others and is not applied)."""
    org, me = org_for_user(request, org_slug)
    samples = UtilizationSampleFilter(
        request.GET,
        queryset=UtilizationSample.objects.for_org(org)
        .select_related("team")
        .order_by("-at", "job", "gpu_index"),
        org=org,
    )
    page, query = paged(request, samples.qs)
    return render(
        request,
        "estimates/utilization.html",
        {
            "org": org,
            "me": me,
            "filter": samples,
            "samples": page,
            "teams": Team.objects.for_org(org),
            "sources": UtilizationSource.choices,
            "query": query,
        },
    )
