"""The spot panel of the organization overview: active fleets and what fleets saved."""

from decimal import Decimal

from django.utils import timezone

from spot import accounting
from spot.models import FINAL_STATUSES, Fleet


def spot_panel(organization, membership) -> dict:
    fleets = list(Fleet.objects.for_org(organization).prefetch_related("attempts"))
    now = timezone.now()
    footprints = accounting.Footprints(organization)
    cost = equivalent = Decimal(0)
    simulated = 0
    for fleet in fleets:
        if fleet.is_simulated:
            simulated += 1
        totals = accounting.totals(fleet, fleet.attempts.all(), now, footprints)
        cost += totals.cost
        equivalent += totals.on_demand_equivalent_cost
    return {
        "fleets": len(fleets),
        "simulated": simulated,
        "active": sum(1 for f in fleets if f.status not in FINAL_STATUSES),
        "cost": cost.quantize(accounting.CENT),
        "on_demand_equivalent_cost": equivalent.quantize(accounting.CENT),
        "savings": (equivalent - cost).quantize(accounting.CENT),
        "currency": accounting.CURRENCY,
    }
