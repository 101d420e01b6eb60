"""Page: every interruption event of the organization (those of instances in no fleet too),
newest first, filtered as the API's list is."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_safe

from costsite.orgs.access import org_for_user
from costsite.paging import paged
from spot.api.events import EventFilter
from spot.models import EventKind, EventSource, Fleet, InterruptionEvent

FLEET_CHOICES = 200  # the newest fleets in the filter's list (and the chosen one)


@login_required
@require_safe
def event_list(request, org_slug):
    org, me = org_for_user(request, org_slug)
    rows = InterruptionEvent.objects.for_org(org).select_related("fleet")
    found = EventFilter(request.GET, queryset=rows, org=org)
    # A bad filter value is a field error on the page (the API's 400) and matches nothing.
    page, query = paged(request, found.qs if found.is_valid() else rows.none())
    fleets = list(Fleet.objects.for_org(org).only("pk", "name")[:FLEET_CHOICES])
    chosen = found.form.cleaned_data.get("fleet") if found.is_valid() else None
    if chosen and chosen not in fleets:
        fleets.append(chosen)
    return render(
        request,
        "spot/events.html",
        {
            "org": org,
            "me": me,
            "filter": found,
            "events": page,
            "fleets": fleets,
            "sources": EventSource.choices,
            "kinds": EventKind.choices,
            "query": query,
        },
    )
