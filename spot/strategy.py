"""Where to launch next: the candidates a strategy tries, in order, and its max spot price.

- aggressive: bids up to the on-demand price and tries every instance type in every zone before
  falling back to on-demand.
- balanced: bids up to 80% of on-demand (above that the saving no longer pays for the risk) and
  tries every type in every zone.
- conservative: bids up to 60% of on-demand and tries only the first instance type (in every
  zone) before falling back.
After an interruption the zone that reclaimed the instance is tried last for that type (capacity
there is short), then the next types (skypilot's failover, recovery_strategy.py).
"""

from dataclasses import dataclass
from decimal import Decimal

from spot.models import Market, Strategy

MAX_PRICE_FRACTION = {
    Strategy.AGGRESSIVE: Decimal("1.0"),
    Strategy.BALANCED: Decimal("0.8"),
    Strategy.CONSERVATIVE: Decimal("0.6"),
}


@dataclass(frozen=True)
class Candidate:
    instance_type: str
    availability_zone: str  # "" lets the provider choose
    market: str


def max_spot_price(fleet, on_demand_price: Decimal | None) -> Decimal | None:
    if fleet.max_price is not None:
        return fleet.max_price
    if on_demand_price is None:
        return None
    return (on_demand_price * MAX_PRICE_FRACTION[fleet.strategy]).quantize(Decimal("0.000001"))


def spot_candidates(fleet, reclaimed_type: str = "", reclaimed_zone: str = "") -> list[Candidate]:
    types = list(fleet.instance_types)
    if fleet.strategy == Strategy.CONSERVATIVE:
        types = types[:1]
    zones = list(fleet.availability_zones) or [""]
    candidates = []
    for instance_type in types:
        ordered = zones
        if instance_type == reclaimed_type and reclaimed_zone in zones and len(zones) > 1:
            ordered = [z for z in zones if z != reclaimed_zone] + [reclaimed_zone]
        candidates += [Candidate(instance_type, zone, Market.SPOT) for zone in ordered]
    if reclaimed_type in types:
        # The reclaimed type first (other zones), then the rest in preference order.
        candidates.sort(key=lambda c: c.instance_type != reclaimed_type)
    return candidates


def on_demand_candidates(fleet) -> list[Candidate]:
    zones = list(fleet.availability_zones) or [""]
    return [
        Candidate(instance_type, zone, Market.ON_DEMAND)
        for instance_type in fleet.instance_types
        for zone in zones
    ]
