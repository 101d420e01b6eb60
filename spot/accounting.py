"""What fleets cost, what the same useful work would have cost on demand, and their emissions.

- An attempt costs its price per hour × the hours from launch to end (to now while running).
- Useful work excludes rework: at each interruption the job loses the work since its latest
  checkpoint, on every node (lost hours × target count instance-hours).
- On-demand equivalent = the attempts' instance-hours priced at their on-demand price, less the
  rework share; savings = on-demand equivalent − actual cost (net of rework).
- All money is in the prices' currency, the catalogue's (CURRENCY; the organization's own prices
  must be in it too, and AWS quotes spot prices in it), whatever the organization's currency:
  it is labelled and booked as such, never converted.
- Ended attempts are charged once to the organization's spend (an expense, source `spot`) and
  recorded with carbon (a carbon record, source `spot`), both under the external id
  `spot-attempt-<id>` and guarded by the attempt's `charged` flag.
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import cached_property

from django.db import transaction
from django.utils import timezone

from budgets import recording
from budgets.models import ExpenseSource, PurchaseType
from carbon import records
from carbon.annotate import current_memo
from carbon.models import RecordSource
from estimates.offers import offer_table
from estimates.org_prices import CATALOGUE_CURRENCY
from spot.models import CATALOGUE_PROVIDER, Attempt, Market

CENT = Decimal("0.0001")
CURRENCY = CATALOGUE_CURRENCY


def hours(attempt: Attempt, now: datetime) -> float:
    end = attempt.ended_at or now
    return max(0.0, (end - attempt.launched_at).total_seconds() / 3600)


def cost(attempt: Attempt, now: datetime) -> Decimal:
    return attempt.price_per_hour * Decimal(repr(hours(attempt, now)))


class Footprints:
    """kg CO2e and kWh per instance-hour by (instance type, region), looked up once each."""

    def __init__(self, organization):
        self.organization = organization
        self.cache = {}

    @cached_property
    def table(self):
        return offer_table(self.organization)

    @cached_property
    def memo(self):
        return current_memo()  # kept across charges while the catalogue is unchanged

    def per_hour(self, instance_type: str, region_code: str) -> dict | None:
        key = (instance_type, region_code)
        if key not in self.cache:
            types = self.table.catalogue.instance_types.get(CATALOGUE_PROVIDER, {})
            instance = types.get(instance_type)
            self.cache[key] = instance and self.memo.co2e(
                self.table,
                CATALOGUE_PROVIDER,
                region_code,
                instance_type,
                instance.accelerator_count,
                1.0,
            )
        return self.cache[key]


@dataclass
class FleetTotals:
    cost: Decimal
    on_demand_equivalent_cost: Decimal
    savings: Decimal
    instance_hours: float
    rework_instance_hours: float
    co2e_kg: float | None
    energy_kwh: float | None

    def as_json(self) -> dict:
        return {
            "cost": str(self.cost.quantize(CENT)),
            "on_demand_equivalent_cost": str(self.on_demand_equivalent_cost.quantize(CENT)),
            "savings": str(self.savings.quantize(CENT)),
            "currency": CURRENCY,
            "instance_hours": round(self.instance_hours, 4),
            "rework_instance_hours": round(self.rework_instance_hours, 4),
            "co2e_kg": None if self.co2e_kg is None else round(self.co2e_kg, 6),
            "energy_kwh": None if self.energy_kwh is None else round(self.energy_kwh, 6),
        }


def totals(fleet, attempts, now: datetime, footprints: Footprints | None = None) -> FleetTotals:
    footprints = footprints or Footprints(fleet.organization)
    spent = on_demand = Decimal(0)
    instance_hours = rework = 0.0
    co2e = energy = 0.0
    carbon_known = True
    for attempt in attempts:
        h = hours(attempt, now)
        instance_hours += h
        spent += cost(attempt, now)
        on_demand += attempt.on_demand_price_per_hour * Decimal(repr(h))
        rework += attempt.lost_hours * fleet.target_count
        per_hour = footprints.per_hour(attempt.instance_type, fleet.region)
        if per_hour is None:
            carbon_known = False
        else:
            co2e += per_hour["co2e_kg"] * h
            energy += per_hour["energy_kwh"] * h
    rework = min(rework, instance_hours)
    useful_share = Decimal(repr(1 - rework / instance_hours)) if instance_hours else Decimal(1)
    equivalent = on_demand * useful_share
    return FleetTotals(
        cost=spent,
        on_demand_equivalent_cost=equivalent,
        savings=equivalent - spent,
        instance_hours=instance_hours,
        rework_instance_hours=rework,
        co2e_kg=co2e if carbon_known else None,
        energy_kwh=energy if carbon_known else None,
    )


def charge(attempt: Attempt) -> bool:
    """Book an ended attempt's cost and emissions, once."""
    if attempt.ended_at is None:
        return False
    fleet = attempt.fleet
    organization = fleet.organization
    with transaction.atomic():
        if not Attempt.objects.filter(pk=attempt.pk, charged=False).update(charged=True):
            return False
        label = "Simulated spot fleet" if fleet.is_simulated else "Spot fleet"
        external_id = f"spot-attempt-{attempt.pk}"
        budget = fleet.budget
        tags = {"costsite:fleet": str(fleet.pk)}
        if budget is not None and budget.scope_tag_key:
            tags[budget.scope_tag_key] = budget.scope_tag_value
        if fleet.is_simulated:
            tags["costsite:simulated"] = "true"
        recording.record(
            organization,
            {
                "team": (budget.team if budget and budget.team_id else None) or fleet.team,
                "amount": cost(attempt, timezone.now()),
                "currency": CURRENCY,
                "provider": fleet.provider,
                "service": f"{label}: EC2 {attempt.instance_type}",
                "service_category": "Compute",
                "region": fleet.region,
                "resource_id": attempt.provider_instance_id,
                "tags": tags,
                "incurred_at": attempt.launched_at,
                "charge_period_end": attempt.ended_at,
                "purchase_type": PurchaseType.SPOT
                if attempt.market == Market.SPOT
                else PurchaseType.ON_DEMAND,
                "external_id": external_id,
                "description": f"{label} {fleet.name}, slot {attempt.slot} "
                f"({attempt.get_end_reason_display().lower()})",
            },
            ExpenseSource.SPOT,
        )
        per_hour = Footprints(organization).per_hour(attempt.instance_type, fleet.region)
        if per_hour is not None:
            h = hours(attempt, attempt.ended_at)
            records.save(
                organization,
                {
                    "name": f"{label} {fleet.name} slot {attempt.slot}",
                    "external_id": external_id,
                    "team": fleet.team,
                    "provider": fleet.provider,
                    "region": fleet.region,
                    "instance_type": attempt.instance_type,
                    "started_at": attempt.launched_at,
                    "ended_at": attempt.ended_at,
                    "energy_kwh": per_hour["energy_kwh"] * h,
                    "co2e_kg": per_hour["co2e_kg"] * h,
                    "intensity_g_per_kwh": per_hour["intensity_g_per_kwh"],
                    "pue": per_hour["pue"],
                    "source": RecordSource.SPOT,
                    "assumptions": [
                        {
                            "name": "utilisation",
                            "value": 1.0,
                            "unit": "",
                            "source": "instance at full load for its hours (fleet accounting)",
                            "basis": "default",
                        }
                    ],
                },
            )
    return True
