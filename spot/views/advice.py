"""Page: the advice before launch (expected cost on spot against on-demand, the checkpoint
interval), for any provider and instance type of the catalogue, without creating a fleet."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_http_methods
from rest_framework.exceptions import ValidationError

from costsite.orgs.access import org_for_user
from estimates.forms import clean_for_api
from estimates.views import add_errors, catalogue_choices
from spot.advice_forms import AdviceForm
from spot.api.advice import compute as compute_advice


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def advice_page(request, org_slug):
    """GET shows the form; POST (or GET with ?provider=…) computes, as the API's advice does
    (same roles: it writes nothing)."""
    org, me = org_for_user(request, org_slug)
    data = request.POST if request.method == "POST" else (request.GET or None)
    form = AdviceForm(data)
    result = None
    if data is not None and form.is_valid():
        try:
            result = compute_advice(org, clean_for_api(form))
        except ValidationError as exc:
            add_errors(form, exc.detail)
    context = {"org": org, "me": me, "form": form, "advice": result, **catalogue_choices()}
    return render(request, "spot/advice.html", context)
