"""Pages: estimate, compare, commitments, CI plans, saved estimates, catalogue, price list."""

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe

from costsite.orgs.access import org_for_user
from costsite.orgs.roles import FINANCE_WRITERS, OPERATORS
from costsite.paging import paged
from costsite.params import filter_by_text
from estimates import computations, org_prices
from estimates.forms import (
    CiPlanForm,
    CommitmentForm,
    CompareForm,
    EstimateForm,
    PriceListUploadForm,
    SaveForm,
    TestJobFormSet,
    clean_for_api,
)
from estimates.models import (
    Accelerator,
    EgressRate,
    InstanceType,
    Price,
    Provider,
    ProviderDiscount,
    PurchaseOption,
    Region,
    SavedEstimate,
    StorageRate,
)
from estimates.offers import offer_table


def catalogue_choices():
    """Names for the inputs' autocomplete lists."""
    return {
        "region_codes": Region.objects.values_list("code", flat=True).distinct(),
        "instance_names": InstanceType.objects.values_list("name", flat=True),
        "accelerator_names": sorted(
            set(Accelerator.objects.values_list("name", flat=True))
            | set(Accelerator.objects.values_list("family", flat=True))
        ),
    }


def add_errors(form, errors: dict):
    for field, messages_ in errors.items():
        for message in messages_ if isinstance(messages_, list) else [messages_]:
            text = message if isinstance(message, str) else str(message)
            form.add_error(field if field in form.fields else None, text)


def add_test_errors(form, rows, errors) -> None:
    """A CI plan's `tests` errors on the page: those of one test (a list with an entry per test,
    or {index: errors}) beside its row; those about the plan (text) above the form."""
    entries = errors.items() if isinstance(errors, dict) else enumerate(errors or [])
    for index, entry in entries:
        if isinstance(entry, dict):
            add_errors(rows[int(index)], entry)
        else:  # text, or a list of texts (about the whole list of tests)
            for message in entry if isinstance(entry, list) else [entry]:
                form.add_error(None, str(message))


def computation_page(request, org_slug, kind, form_class, template):
    """GET shows the form; POST (or GET with ?provider=…) computes, and saves when asked."""
    org, me = org_for_user(request, org_slug)
    data = request.POST if request.method == "POST" else (request.GET or None)
    form = form_class(data)
    save_form = SaveForm(request.POST or None)
    result = None
    if data is not None and form.is_valid():
        inputs = clean_for_api(form)
        try:
            inputs, result = computations.run(kind, org, inputs)
        except computations.InvalidInput as exc:
            add_errors(form, exc.errors)
        else:
            saved = maybe_save(request, org, me, kind, inputs, result, save_form)
            if saved:
                return redirect("estimates:saved-detail", org_slug=org.slug, saved_id=saved.pk)
    context = {
        "org": org,
        "me": me,
        "form": form,
        "save_form": save_form,
        "result": result,
        "can_save": me.role in OPERATORS,
        **catalogue_choices(),
    }
    return render(request, template, context)


def maybe_save(request, org, me, kind, inputs, result, save_form):
    if request.method != "POST" or not save_form.is_valid():
        return None
    name = save_form.cleaned_data.get("save_as")
    if not name:
        return None
    if me.role not in OPERATORS:
        raise PermissionDenied("Your role cannot save estimates.")
    saved = SavedEstimate.objects.create(
        organization=org,
        name=name,
        kind=kind,
        inputs=inputs,
        result=result,
        created_by=request.user,
    )
    messages.success(request, f"Saved {name}.")
    return saved


@login_required
def estimate_page(request, org_slug):
    return computation_page(request, org_slug, "estimate", EstimateForm, "estimates/estimate.html")


@login_required
def compare_page(request, org_slug):
    return computation_page(request, org_slug, "compare", CompareForm, "estimates/compare.html")


@login_required
def commitments_page(request, org_slug):
    return computation_page(
        request, org_slug, "commitment", CommitmentForm, "estimates/commitments.html"
    )


@login_required
def ci_plan_page(request, org_slug):
    org, me = org_for_user(request, org_slug)
    posted = request.method == "POST"
    form = CiPlanForm(request.POST if posted else None)
    formset = TestJobFormSet(
        request.POST if posted else None,
        prefix="tests",
        initial=None
        if posted
        else [
            {
                "name": "unit tests",
                "test_type": "unit",
                "runs_per_week": 200,
                "minutes_per_run": 10,
                "shards": 2,
            },
            {
                "name": "integration",
                "test_type": "integration",
                "runs_per_week": 40,
                "minutes_per_run": 30,
                "shards": 1,
            },
        ],
    )
    save_form = SaveForm(request.POST or None)
    result = None
    if posted and form.is_valid() and formset.is_valid():
        inputs = clean_for_api(form)
        if inputs.get("provider"):
            inputs["providers"] = [inputs["provider"]]
        if inputs.get("region"):
            inputs["regions"] = [inputs["region"]]
        filled = [f for f in formset.forms if f.cleaned_data]  # the tests, as the API numbers them
        inputs["tests"] = [clean_for_api(f) for f in filled]
        try:
            inputs, result = computations.run("ci_plan", org, inputs)
        except computations.InvalidInput as exc:
            test_errors = exc.errors.pop("tests", None)
            add_errors(form, exc.errors)
            add_test_errors(form, filled, test_errors)
        else:
            saved = maybe_save(request, org, me, "ci_plan", inputs, result, save_form)
            if saved:
                return redirect("estimates:saved-detail", org_slug=org.slug, saved_id=saved.pk)
    return render(
        request,
        "estimates/ci_plan.html",
        {
            "org": org,
            "me": me,
            "form": form,
            "formset": formset,
            "save_form": save_form,
            "result": result,
            "can_save": me.role in OPERATORS,
            **catalogue_choices(),
        },
    )


# --- Saved estimates ---------------------------------------------------------------------------


@login_required
@require_safe
def saved_list(request, org_slug):
    org, me = org_for_user(request, org_slug)
    saved, _ = paged(request, SavedEstimate.objects.for_org(org).select_related("created_by"))
    return render(request, "estimates/saved_list.html", {"org": org, "me": me, "saved": saved})


@login_required
@require_safe
def saved_detail(request, org_slug, saved_id):
    org, me = org_for_user(request, org_slug)
    saved = get_object_or_404(SavedEstimate.objects.for_org(org), pk=saved_id)
    return render(
        request,
        "estimates/saved_detail.html",
        {"org": org, "me": me, "saved": saved, "result": saved.result, "can_save": False},
    )


@login_required
@require_POST
def saved_delete(request, org_slug, saved_id):
    org, _ = org_for_user(request, org_slug, OPERATORS)
    saved = get_object_or_404(SavedEstimate.objects.for_org(org), pk=saved_id)
    saved.delete()
    messages.success(request, f"Deleted {saved.name}.")
    return redirect("estimates:saved", org_slug=org.slug)


# --- Catalogue and price list ------------------------------------------------------------------

STALE_AFTER_DAYS = 180  # catalogue figures older than this are flagged


@login_required
@require_safe
def catalogue(request, org_slug):
    org, me = org_for_user(request, org_slug)
    params = request.GET
    accelerator = (params.get("accelerator") or "").lower()
    offers = [
        o
        for o in offer_table(org).offers
        if (not params.get("provider") or o.provider == params["provider"])
        and (not params.get("region") or o.region == params["region"])
        and (not params.get("purchase_option") or o.purchase_option == params["purchase_option"])
        and (not accelerator or accelerator in (o.accelerator.lower(), o.family.lower()))
    ]
    today = timezone.localdate()
    rows = [{"offer": o, "age_days": (today - o.as_of).days} for o in offers]
    page, query = paged(request, rows, per_page=100)
    where = {
        f"region__{name}": params[key]
        for key, name in (("provider", "provider"), ("region", "code"))
        if params.get(key)
    }
    return render(
        request,
        "estimates/catalogue.html",
        {
            "org": org,
            "me": me,
            "rows": page,
            "query": query,
            "providers": Provider.choices,
            "options": PurchaseOption.choices,
            "filters": params,
            "storage_rates": filter_by_text(StorageRate.objects, **where).select_related("region"),
            "egress_rates": filter_by_text(EgressRate.objects, **where).select_related("region"),
            "accelerators": [
                a
                for a in Accelerator.objects.all()
                if not accelerator or accelerator in (a.name.lower(), a.family.lower())
            ],
            "stale_days": STALE_AFTER_DAYS,
            "stale_before": today - timedelta(days=STALE_AFTER_DAYS),
            **catalogue_choices(),
        },
    )


@login_required
def price_list(request, org_slug):
    org, me = org_for_user(request, org_slug)
    can_edit = me.role in FINANCE_WRITERS
    form = PriceListUploadForm(request.POST or None, request.FILES or None)
    row_errors = None
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied("Only owners, admins and finance edit the price list.")
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                if upload.size > 5 * 1024 * 1024:
                    raise org_prices.PriceListError("The file is larger than 5 MB.")
                parsed = org_prices.validate(*org_prices.read_upload(upload.read(), upload.name))
            except org_prices.PriceListError as exc:
                form.add_error("file", str(exc))
            else:
                if parsed.errors:
                    row_errors = parsed.errors
                    form.add_error(
                        "file", f"{len(parsed.errors)} row(s) have errors; nothing applied."
                    )
                else:
                    applied = org_prices.apply(
                        org, parsed, form.cleaned_data["replace"], request.user.email
                    )
                    messages.success(
                        request,
                        f"Applied {applied['prices']} price(s) and {applied['discounts']} "
                        "discount(s).",
                    )
                    return redirect("estimates:price-list", org_slug=org.slug)
    return render(
        request,
        "estimates/price_list.html",
        {
            "org": org,
            "me": me,
            "form": form,
            "can_edit": can_edit,
            "row_errors": row_errors,
            "prices": Price.objects.for_org(org).select_related("instance_type", "region"),
            "discounts": ProviderDiscount.objects.for_org(org),
        },
    )


@login_required
@require_POST
def price_delete(request, org_slug, price_id):
    org, _ = org_for_user(request, org_slug, FINANCE_WRITERS)
    price = get_object_or_404(Price.objects.for_org(org), pk=price_id)
    price.delete()
    messages.success(request, "Removed your price; the catalogue price applies again.")
    return redirect("estimates:price-list", org_slug=org.slug)


@login_required
@require_POST
def discount_delete(request, org_slug, discount_id):
    org, _ = org_for_user(request, org_slug, FINANCE_WRITERS)
    discount = get_object_or_404(ProviderDiscount.objects.for_org(org), pk=discount_id)
    discount.delete()
    messages.success(request, f"Removed the {discount.provider} discount.")
    return redirect("estimates:price-list", org_slug=org.slug)
