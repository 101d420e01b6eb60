"""Creating a fleet from validated input: instance types from an accelerator requirement, and
the checkpoint interval (Daly's optimum for the fleet's interruption rate) when not given."""

from django.db import transaction

from estimates import lookup
from estimates.offers import offer_table
from spot import advice
from spot.models import CATALOGUE_PROVIDER, Fleet
from spot.tasks import queue_start


class FleetError(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def instance_types_for(table, region: str, accelerator: str, gpus: int | None) -> list[str]:
    """Instance types in `region` with the accelerator (and at least `gpus` per instance),
    cheapest spot price first (on-demand when no spot price is known)."""
    names = lookup.accelerator_names(table.catalogue, accelerator)
    rows = []
    for offer in table.offers:
        if (
            offer.provider == CATALOGUE_PROVIDER
            and offer.region == region
            and offer.accelerator in names
            and offer.purchase_option in ("spot", "on_demand")
            and (gpus is None or offer.gpus_per_node >= gpus)
        ):
            rows.append(
                (offer.purchase_option != "spot", offer.price_per_hour, offer.instance_type)
            )
    ordered = []
    for _, _, name in sorted(rows):
        if name not in ordered:
            ordered.append(name)
    if not ordered:
        raise FleetError(
            "accelerator", f"No {accelerator} instance type with a price in aws {region}."
        )
    return ordered


def check_prices(table, region: str, instance_types: list[str]) -> None:
    for name in instance_types:
        if table.get(CATALOGUE_PROVIDER, region, name, "on_demand") is None:
            raise FleetError(
                "instance_types",
                f"{name} has no on-demand price in aws {region}; savings and the fallback need "
                "one (add it to your price list).",
            )


def resolve_instance_types(table, values: dict) -> list[str]:
    """The instance types to try: given, or those with the accelerator; each must have an
    on-demand price in the region. Fills `values["instance_types"]`."""
    if not values.get("instance_types"):
        values["instance_types"] = instance_types_for(
            table, values["region"], values.get("accelerator", ""), values.get("gpus_per_instance")
        )
    check_prices(table, values["region"], values["instance_types"])
    return values["instance_types"]


@transaction.atomic
def create(organization, values: dict, user=None) -> Fleet:
    resolve_instance_types(offer_table(organization), values)
    values.pop("gpus_per_instance", None)
    fleet = Fleet(organization=organization, created_by=user, **values)
    if fleet.checkpoint_interval_minutes is None:
        fleet.checkpoint_interval_minutes = advice.checkpoint_interval_minutes(
            advice.fleet_rate(fleet), fleet.target_count, fleet.checkpoint_write_minutes
        )
    fleet.save()
    transaction.on_commit(lambda: queue_start(fleet.pk))
    return fleet
