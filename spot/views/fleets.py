"""Pages: fleets list, new fleet (with advice), fleet detail with its timeline."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from costsite.orgs.access import org_for_user
from spot.models import Fleet


@login_required
def fleet_list(request, org_slug):
    org, me = org_for_user(request, org_slug)
    fleets = Fleet.objects.for_org(org).select_related("team")
    return render(request, "spot/fleet_list.html", {"org": org, "me": me, "fleets": fleets})
