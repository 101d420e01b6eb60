"""A provider that launches nothing: instances exist only as rows, and each spot instance is
interrupted at a time drawn from an exponential distribution with the fleet's hazard, seeded by
the fleet's seed and the instance id, so a run is reproducible (on-demand instances never are).
Used by the demo, tests and benchmarks, and labelled "simulated" wherever it appears. Prices
come from the AWS catalogue."""

import math
import random
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from spot.providers.base import InstanceRef, Launched, LaunchRequest


class SimulatedProvider:
    def __init__(self, seed: int, interruptions_per_hour: float):
        self.seed = seed
        self.hazard = interruptions_per_hour

    def launch(self, request: LaunchRequest) -> Launched:
        tags = request.tags
        instance_id = (
            f"sim-{tags['costsite:fleet']}-{tags['costsite:slot']}-{tags['costsite:launch']}"
        )
        now = timezone.now()
        return Launched(
            provider_instance_id=instance_id,
            instance_type=request.instance_type,
            availability_zone=request.availability_zone or f"{request.region}a",
            market=request.market,
            launched_at=now,
        )

    def interruption_at(self, instance: InstanceRef):
        """When this instance is reclaimed (None: never, on demand or with a zero hazard)."""
        if self.hazard <= 0 or instance.market != "spot":
            return None
        draw = random.Random(f"{self.seed}:{instance.provider_instance_id}").random()  # noqa: S311 - a simulation, not security
        hours = -math.log1p(-draw) / self.hazard
        return instance.launched_at + timedelta(hours=hours)

    def describe(self, instances: list[InstanceRef]) -> dict[str, str]:
        now = timezone.now()
        states = {}
        for instance in instances:
            at = self.interruption_at(instance)
            states[instance.provider_instance_id] = (
                "interrupted" if at is not None and at <= now else "running"
            )
        return states

    def terminate(self, instance_ids: list[str]) -> None:
        return None

    def spot_price(self, instance_type: str, availability_zone: str = "") -> Decimal | None:
        return None  # the catalogue's spot price applies
