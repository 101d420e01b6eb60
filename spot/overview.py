"""The spot panel of the organization overview: active fleets and what fleets saved."""

from decimal import Decimal

from django.utils import timezone

from spot import accounting
from spot.models import FINAL_STATUSES, Fleet


def spot_panel(organization, membership) -> dict:
    """The organization's spot savings, from real fleets only; simulated fleets' made-up
    savings are shown apart, never added to them."""
    fleets = list(Fleet.objects.for_org(organization).prefetch_related("attempts"))
    now = timezone.now()
    footprints = accounting.Footprints(organization)
    real = [fleet for fleet in fleets if not fleet.is_simulated]
    simulated = [fleet for fleet in fleets if fleet.is_simulated]
    cost, equivalent = _sums(real, now, footprints)
    simulated_cost, simulated_equivalent = _sums(simulated, now, footprints)
    return {
        "fleets": len(real),
        "active": sum(1 for fleet in real if fleet.status not in FINAL_STATUSES),
        "cost": cost.quantize(accounting.CENT),
        "on_demand_equivalent_cost": equivalent.quantize(accounting.CENT),
        "savings": (equivalent - cost).quantize(accounting.CENT),
        "simulated": len(simulated),
        "simulated_savings": (simulated_equivalent - simulated_cost).quantize(accounting.CENT),
        "currency": accounting.CURRENCY,
    }


def _sums(fleets, now, footprints) -> tuple[Decimal, Decimal]:
    """(cost, on-demand equivalent cost) of the fleets."""
    cost = equivalent = Decimal(0)
    for fleet in fleets:
        totals = accounting.totals(fleet, fleet.attempts.all(), now, footprints)
        cost += totals.cost
        equivalent += totals.on_demand_equivalent_cost
    return cost, equivalent
