"""The prices an organization actually pays: the public catalogue with its own prices and
discounts applied, as one table of offers (also as numpy arrays for vectorised search).

An offer is one instance type in one region under one purchase option. For an organization:
its own price row wins; otherwise the public price less its discount for that provider;
otherwise the public price. The table is cached per process and organization, keyed by the
versions (costsite.cache) of the public catalogue and of the organization's own prices, which
every save or delete of such a row bumps: a request reads them from the shared cache and runs
no query while nothing changed.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import numpy as np
from django.db.models import Q
from django.db.models.signals import post_delete, post_save

from costsite.cache import VersionedMemo, bump, version
from estimates.models import (
    Accelerator,
    InstanceType,
    Price,
    ProviderDiscount,
    PurchaseOption,
    Region,
)

HUNDRED = Decimal(100)

# The version (costsite.cache) of the public catalogue: prices, regions, instance types,
# accelerators and what apps built on them derive from them (carbon figures). Bumped on every
# save or delete of such a row: loading the catalogue, admin edits, price refreshes.
CATALOGUE_VERSION = "catalogue"


def org_prices_version(org_id) -> str:
    """The version of one organization's own prices and discounts."""
    return f"prices:{org_id}"


def _catalogue_changed(instance=None, **kwargs):
    org_id = getattr(instance, "organization_id", None)
    bump(org_prices_version(org_id) if org_id else CATALOGUE_VERSION)


def connect_signals():
    for model in (Accelerator, InstanceType, Price, ProviderDiscount, Region):
        post_save.connect(_catalogue_changed, sender=model, dispatch_uid="catalogue-save")
        post_delete.connect(_catalogue_changed, sender=model, dispatch_uid="catalogue-delete")


@dataclass(frozen=True)
class Offer:
    provider: str
    region: str
    region_name: str
    instance_type: str
    accelerator: str
    family: str
    gpu_memory_gb: float
    gpus_per_node: int
    vcpus: int | None
    memory_gib: float | None
    purchase_option: str
    price_per_hour: Decimal
    currency: str
    source: str
    as_of: date
    origin: str  # "catalogue", "your price", "catalogue less your N% discount"

    def key(self):
        return (self.provider, self.region, self.instance_type, self.purchase_option)


@dataclass(frozen=True)
class Catalogue:
    """Names of the catalogue's rows, for validating input without a query per name."""

    regions: dict  # provider → {code: Region}
    instance_types: dict  # provider → {name: InstanceType}
    accelerators: list  # [(name, family)]


def load_catalogue() -> Catalogue:
    regions, instance_types = {}, {}
    for region in Region.objects.all():
        regions.setdefault(region.provider, {})[region.code] = region
    for instance in InstanceType.objects.select_related("accelerator"):
        instance_types.setdefault(instance.provider, {})[instance.name] = instance
    accelerators = list(Accelerator.objects.values_list("name", "family"))
    return Catalogue(regions, instance_types, accelerators)


class OfferTable:
    """All offers of one organization, plus parallel numpy arrays for filtering and sorting,
    and the catalogue names they were built with."""

    def __init__(self, offers: list[Offer], catalogue: Catalogue | None = None):
        self.offers = offers
        self.catalogue = catalogue
        self._derived: dict = {}
        self.by_key = {offer.key(): i for i, offer in enumerate(offers)}
        n = len(offers)
        self.price = np.array([float(o.price_per_hour) for o in offers], dtype=np.float64)
        self.gpus_per_node = np.array([o.gpus_per_node for o in offers], dtype=np.int64)
        self.gpu_memory_gb = np.array([o.gpu_memory_gb for o in offers], dtype=np.float64)
        self.provider = np.array([o.provider for o in offers], dtype=object)
        self.region = np.array([o.region for o in offers], dtype=object)
        self.family = np.array([o.family.lower() for o in offers], dtype=object)
        self.accelerator = np.array([o.accelerator.lower() for o in offers], dtype=object)
        self.option = np.array([o.purchase_option for o in offers], dtype=object)
        self.spot = self.option == PurchaseOption.SPOT
        # Which offers hold each value of the text columns, for `is_in` (np.isin costs tens of
        # microseconds a call; an OR of one or two kept masks, one).
        self.masks = {
            name: _masks(getattr(self, name))
            for name in ("provider", "region", "accelerator", "option")
        }
        # The on-demand price of the same instance in the same region (NaN if none).
        self.on_demand_price = np.full(n, np.nan)
        for i, o in enumerate(offers):
            j = self.by_key.get((o.provider, o.region, o.instance_type, PurchaseOption.ON_DEMAND))
            if j is not None:
                self.on_demand_price[i] = self.price[j]

    def is_in(self, column: str, values) -> np.ndarray:
        """Which offers have one of `values` in `column` (provider, region, accelerator or
        option; accelerator names in lower case)."""
        masks = self.masks[column]
        found = np.zeros(len(self.offers), dtype=bool)
        for value in set(values):
            if value in masks:
                found |= masks[value]
        return found

    def derived(self, name: str, build):
        """`build(self)`, kept with the table: data computed from the offers alone, such as the
        per-offer fields of compare results, is built once per table instead of per request."""
        if name not in self._derived:
            self._derived[name] = build(self)
        return self._derived[name]

    def get(self, provider, region, instance_type, purchase_option) -> Offer | None:
        i = self.by_key.get((provider, region, instance_type, purchase_option))
        return None if i is None else self.offers[i]

    def __len__(self):
        return len(self.offers)


def _masks(column: np.ndarray) -> dict:
    return {value: column == value for value in set(column.tolist())}


def _offer(price: Price, amount: Decimal, source: str, origin: str) -> Offer:
    it = price.instance_type
    return Offer(
        provider=it.provider,
        region=price.region.code,
        region_name=price.region.name,
        instance_type=it.name,
        accelerator=it.accelerator.name,
        family=it.accelerator.family,
        gpu_memory_gb=float(it.accelerator.memory_gb),
        gpus_per_node=it.accelerator_count,
        vcpus=it.vcpus,
        memory_gib=float(it.memory_gib) if it.memory_gib is not None else None,
        purchase_option=price.purchase_option,
        price_per_hour=amount,
        currency=price.currency,
        source=source,
        as_of=price.as_of,
        origin=origin,
    )


def build_offers(org) -> list[Offer]:
    rows = (
        Price.objects.filter(Q(organization__isnull=True) | Q(organization=org))
        .select_related("instance_type__accelerator", "region")
        .order_by(
            "instance_type__provider", "instance_type__name", "region__code", "purchase_option"
        )
    )
    discounts = (
        {d.provider: d.percent for d in ProviderDiscount.objects.for_org(org)} if org else {}
    )
    own, public = {}, {}
    for price in rows:
        key = (price.instance_type_id, price.region_id, price.purchase_option)
        (own if price.organization_id else public)[key] = price
    offers = []
    for key in sorted(public.keys() | own.keys()):
        if key in own:
            price = own[key]
            offers.append(_offer(price, price.price_per_hour, price.source, "your price"))
            continue
        price = public[key]
        percent = discounts.get(price.instance_type.provider)
        if percent:
            amount = (price.price_per_hour * (HUNDRED - percent) / HUNDRED).quantize(
                Decimal("0.000001")
            )
            source = f"{price.source}; less your {percent}% {price.instance_type.provider} discount"
            offers.append(_offer(price, amount, source, f"catalogue less your {percent}% discount"))
        else:
            offers.append(_offer(price, price.price_per_hour, price.source, "catalogue"))
    return offers


def _version(org):
    """Changes whenever a price or discount the organization sees is added, changed or removed."""
    return version(CATALOGUE_VERSION), version(org_prices_version(org.pk)) if org else 0


# Without a shared cache, another process's change reaches this one within 30 s.
_tables = VersionedMemo(size=32, local_max_age=30.0)


def offer_table(org) -> OfferTable:
    """The offers `org` sees (None: the public catalogue)."""
    return _tables.get(
        org.pk if org else None,
        _version(org),
        lambda: OfferTable(build_offers(org), load_catalogue()),
    )


def clear_cache():
    _tables.clear()
