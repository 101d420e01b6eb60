"""What an idle AWS resource costs a month, from the shipped rates in catalog/idle_rates.csv.

Each rate carries its source and as_of date (DESIGN.md §6); the basis text stored with a priced
resource names the rate, its source and date. A region without its own row is priced at the
us-east-1 figure and the basis says so. Only storage and public IPv4 rates are used: a stopped
instance costs its attached EBS volumes, not compute. Money is Decimal throughout.
"""

import csv
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import NamedTuple

RATES_FILE = Path(__file__).resolve().parent / "catalog" / "idle_rates.csv"
PROVIDER = "aws"
REFERENCE_REGION = "us-east-1"
CURRENCY = "USD"
# AWS prices hourly charges per month at 730 hours.
HOURS_PER_MONTH = Decimal(730)
CENT_FRACTION = Decimal("0.0001")  # IdleResource.monthly_cost has four decimal places
MAX_BASIS = 500  # IdleResource.price_basis
COLUMNS = ["provider", "region", "kind", "unit", "price", "currency", "source", "as_of"]
UNITS = {"GB-month", "IP-hour"}


class RatesFileError(Exception):
    """The shipped rates file is malformed (a packaging bug, not user input)."""


@dataclass(frozen=True)
class Rate:
    provider: str
    region: str
    kind: str  # "volume-gp3", "snapshot-standard", "public-ipv4", ...
    unit: str  # "GB-month" or "IP-hour"
    price: Decimal
    currency: str
    source: str
    as_of: date

    @property
    def url(self) -> str:
        """The page the figure comes from (the source text starts with it)."""
        return self.source.split(maxsplit=1)[0]


class Priced(NamedTuple):
    monthly_cost: Decimal
    currency: str
    basis: str


@cache
def rates() -> dict[tuple[str, str], Rate]:
    """Every rate by (region, kind); the file is read once per process."""
    with RATES_FILE.open(newline="", encoding="utf-8") as stream:
        reader = csv.DictReader(stream)
        if reader.fieldnames != COLUMNS:
            raise RatesFileError(f"{RATES_FILE.name}: the header must be {','.join(COLUMNS)}")
        table = {}
        for line, row in enumerate(reader, start=2):
            rate = Rate(
                provider=row["provider"],
                region=row["region"],
                kind=row["kind"],
                unit=row["unit"],
                price=Decimal(row["price"]),
                currency=row["currency"],
                source=row["source"],
                as_of=date.fromisoformat(row["as_of"]),
            )
            if (
                rate.provider != PROVIDER
                or rate.currency != CURRENCY
                or rate.unit not in UNITS
                or rate.price <= 0
                or not rate.source
                or (rate.region, rate.kind) in table
            ):
                raise RatesFileError(f"{RATES_FILE.name} line {line}: bad or duplicate rate")
            table[(rate.region, rate.kind)] = rate
    return table


def rate_for(kind: str, region: str) -> tuple[Rate | None, str]:
    """The rate for `kind` in `region`, falling back to us-east-1, and a note on the fallback."""
    table = rates()
    if (region, kind) in table:
        return table[(region, kind)], ""
    rate = table.get((REFERENCE_REGION, kind))
    if rate is None:
        return None, ""
    return rate, f"the {REFERENCE_REGION} figure, as the catalogue has none for {region}"


def _cite(rate: Rate, fallback: str) -> str:
    where = fallback or rate.region
    return f"{where}; source {rate.url}, as of {rate.as_of.isoformat()}"


def _money(value: Decimal) -> Decimal:
    return value.quantize(CENT_FRACTION)


def _basis(text: str) -> str:
    return text if len(text) <= MAX_BASIS else text[: MAX_BASIS - 1] + "…"


def volume_kind(volume_type: str) -> str:
    return f"volume-{volume_type}"


def price_storage(kind: str, size_gb: float, region: str, label: str) -> Priced:
    """`size_gb` GB-months at the `kind` rate; `label` names the storage in the basis."""
    rate, fallback = rate_for(kind, region)
    if rate is None:
        return Priced(
            Decimal(0), CURRENCY, f"Not priced: the catalogue has no rate for {label} storage."
        )
    monthly = _money(Decimal(str(size_gb)) * rate.price)
    return Priced(
        monthly,
        rate.currency,
        _basis(
            f"{size_gb:g} GiB × {rate.price} {rate.currency}/GB-month ({label}; "
            f"{_cite(rate, fallback)})"
        ),
    )


def price_volume(volume_type: str, size_gb: float, region: str) -> Priced:
    return price_storage(volume_kind(volume_type), size_gb, region, f"EBS {volume_type}")


def price_snapshot(size_gb: float, region: str, tier: str = "standard") -> Priced:
    priced = price_storage(f"snapshot-{tier}", size_gb, region, f"EBS snapshot, {tier} tier")
    if tier != "standard" or not priced.monthly_cost:
        return priced
    # A standard snapshot stores only the blocks changed since the previous one.
    return priced._replace(
        basis=_basis(f"At most: {priced.basis}; the size is the source volume's.")
    )


def price_address(region: str) -> Priced:
    rate, fallback = rate_for("public-ipv4", region)
    if rate is None:
        return Priced(Decimal(0), CURRENCY, "Not priced: the catalogue has no public IPv4 rate.")
    monthly = _money(rate.price * HOURS_PER_MONTH)
    return Priced(
        monthly,
        rate.currency,
        _basis(
            f"{rate.price} {rate.currency}/hour × {HOURS_PER_MONTH} hours (public IPv4 address; "
            f"{_cite(rate, fallback)})"
        ),
    )


def price_volumes(volumes: list[tuple[str, float]], region: str) -> Priced:
    """The attached volumes of a stopped instance, as (volume type, size) pairs."""
    if not volumes:
        return Priced(
            Decimal(0), CURRENCY, "No EBS volumes attached: nothing billed while stopped."
        )
    parts = [price_volume(volume_type, size, region) for volume_type, size in volumes]
    total = sum((part.monthly_cost for part in parts), Decimal(0))
    return Priced(
        total,
        CURRENCY,
        _basis("Attached EBS volumes, not compute: " + " + ".join(p.basis for p in parts)),
    )
