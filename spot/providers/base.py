"""The small interface every fleet provider implements, and the errors it raises.

A provider launches one instance at a time (the orchestrator decides which type, zone and
market to try next), describes and terminates instances, and quotes the current spot price.
On-demand prices come from the organization's catalogue, not from the provider.
"""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Protocol


class ProviderError(Exception):
    """A failure the orchestrator cannot work around by trying elsewhere (bad credentials,
    bad launch settings). The fleet fails with this message."""


class CapacityError(ProviderError):
    """No capacity for this type/zone/market now (InsufficientInstanceCapacity,
    MaxSpotInstanceCountExceeded, ...): try the next candidate."""


class PriceTooLowError(CapacityError):
    """The max price is below the current spot price (SpotMaxPriceTooLow)."""


@dataclass(frozen=True)
class LaunchRequest:
    region: str
    instance_type: str
    market: str  # "spot" | "on_demand"
    availability_zone: str = ""
    max_price: Decimal | None = None  # spot only; None = up to the on-demand price
    image_id: str = ""
    instance_profile: str = ""
    subnet_id: str = ""
    security_group_ids: tuple = ()
    user_data: str = ""
    tags: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Launched:
    provider_instance_id: str
    instance_type: str
    availability_zone: str
    market: str
    launched_at: datetime
    spot_price: Decimal | None = None  # the market price at launch, when the provider knows it


@dataclass(frozen=True)
class InstanceRef:
    provider_instance_id: str
    launched_at: datetime
    market: str = "spot"  # "spot" | "on_demand"


# States `describe` reports: "pending", "running", "interrupted" (reclaimed by the provider, or
# marked for it), "stopped", "terminated", "missing" (the provider does not know the id).
LIVE_STATES = frozenset({"pending", "running"})


class Provider(Protocol):
    def launch(self, request: LaunchRequest) -> Launched: ...

    def describe(self, instances: list[InstanceRef]) -> dict[str, str]: ...

    def terminate(self, instance_ids: list[str]) -> None: ...

    def spot_price(self, instance_type: str, availability_zone: str = "") -> Decimal | None: ...


class TransientError(ProviderError):
    """The provider is still throttling (or briefly unavailable) after the client's own retries:
    nothing is wrong with the request, so the orchestrator retries it later."""
