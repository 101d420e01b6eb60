"""Current AWS EC2 prices fetched with boto3 and returned as plain records.

Nothing here touches Django or the database; callers store the records. Two sources:

- On-demand and 1-/3-year commitment prices (Reserved Instance, standard, No Upfront) come from
  the AWS Price List API, ``pricing.get_products``.
- Spot prices come from EC2 ``DescribeSpotPriceHistory`` in the instance's region.

Default clients use boto3's default credential chain; boto3 itself honours ``AWS_ENDPOINT_URL``.
Throttling is absorbed by the adaptive retry configuration below.
"""

from __future__ import annotations

import json
import statistics
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError

PROVIDER = "aws"
CURRENCY = "USD"
ON_DEMAND, SPOT, COMMIT_1Y, COMMIT_3Y = "on_demand", "spot", "commit_1y", "commit_3y"

# The Price List API is served from us-east-1 (also ap-south-1 and eu-central-1); each endpoint
# answers for every region, selected by the regionCode filter.
PRICING_API_REGION = "us-east-1"
CLIENT_CONFIG = Config(
    retries={"max_attempts": 5, "mode": "adaptive"}, connect_timeout=5, read_timeout=30
)

PRICE_LIST_SOURCE = "AWS Price List API (pricing.get_products)"
SPOT_SOURCE = "AWS EC2 DescribeSpotPriceHistory (Linux/UNIX)"
# Product attributes every on-demand query pins, besides instanceType and regionCode.
PRODUCT_ATTRIBUTES = {
    "operatingSystem": "Linux",
    "tenancy": "Shared",
    "preInstalledSw": "NA",
    "capacitystatus": "Used",
}
RESERVED_LEASES = {"1yr": COMMIT_1Y, "3yr": COMMIT_3Y}

_BAD_CREDENTIALS = {"UnrecognizedClientException", "AuthFailure", "InvalidClientTokenId"}
_EXPIRED = {"ExpiredToken"}
_DENIED = {"AccessDenied", "AccessDeniedException"}


@dataclass(frozen=True)
class FetchedPrice:
    provider: str  # always "aws"
    region: str  # e.g. "us-east-1"
    instance_type: str  # e.g. "p3.2xlarge"
    purchase_option: str  # "on_demand" | "spot" | "commit_1y" | "commit_3y"
    price_per_hour: Decimal
    currency: str  # "USD"
    source: str  # human-readable provenance
    as_of: date  # the price's effective date


class PriceFetchError(Exception):
    """AWS could not be asked: missing/invalid credentials, no permission, or no connection."""


# --- errors -------------------------------------------------------------------------------------


@contextmanager
def _aws_errors(action: str) -> Iterator[None]:
    """Re-raise credential, permission and connection failures of IAM `action` as PriceFetchError.

    Other ClientErrors (bad parameters, exhausted throttling retries) propagate unchanged.
    """
    try:
        yield
    except NoCredentialsError as exc:
        raise PriceFetchError(
            f"{action} failed: no AWS credentials found. Set AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY, or AWS_PROFILE, or run with an instance/task role."
        ) from exc
    except EndpointConnectionError as exc:
        raise PriceFetchError(
            f"{action} failed: {exc}. Check network access to AWS, the region name, "
            "and AWS_ENDPOINT_URL if it is set."
        ) from exc
    except ClientError as exc:
        error = exc.response.get("Error", {})
        code = error.get("Code", "")
        if code in _BAD_CREDENTIALS:
            hint = "The AWS access key or secret is not valid; check the configured credentials."
        elif code in _EXPIRED:
            hint = "The AWS session token has expired; refresh the credentials and retry."
        elif code in _DENIED:
            hint = f"The credentials are valid but not allowed to call {action}; grant it in IAM."
        else:
            raise
        raise PriceFetchError(
            f"{action} was refused by AWS ({code}: {error.get('Message', '')}). {hint}"
        ) from exc


# --- on-demand and commitments (Price List API) -------------------------------------------------


def fetch_on_demand_prices(
    region: str, instance_types: list[str], pricing_client=None
) -> list[FetchedPrice]:
    """On-demand, commit_1y and commit_3y hourly USD prices for Linux, shared-tenancy instances.

    One paginated ``get_products`` query per instance type. Per purchase option the lowest
    non-zero hourly price is kept; instance types or options without a price yield no record.
    """
    client = pricing_client or boto3.client(
        "pricing", region_name=PRICING_API_REGION, config=CLIENT_CONFIG
    )
    records: list[FetchedPrice] = []
    with _aws_errors("pricing:GetProducts"):
        for instance_type in dict.fromkeys(instance_types):
            products = _price_list(client, region, instance_type)
            records.extend(_cheapest_per_option(region, instance_type, products))
    return records


def _price_list(client, region: str, instance_type: str) -> Iterator[dict]:
    """Yield the matching products (SKUs) for one instance type in one region.

    AWS returns ``PriceList`` as a list of JSON strings, one per SKU, shaped
    ``{"product": {"sku": ..., "attributes": {"instanceType": ..., "regionCode": ...}},
    "terms": {"OnDemand": {...}, "Reserved": {...}}}``. Products whose attributes do not match
    the query are skipped.
    """
    wanted = {"instanceType": instance_type, "regionCode": region, **PRODUCT_ATTRIBUTES}
    filters = [{"Type": "TERM_MATCH", "Field": f, "Value": v} for f, v in wanted.items()]
    pages = client.get_paginator("get_products").paginate(
        ServiceCode="AmazonEC2", Filters=filters, FormatVersion="aws_v1"
    )
    for page in pages:
        for item in page.get("PriceList", []):
            product = json.loads(item) if isinstance(item, str) else item
            attributes = product.get("product", {}).get("attributes", {})
            if all(attributes.get(field) == value for field, value in wanted.items()):
                yield product


def _hourly_offers(product: dict) -> Iterator[tuple[str, Decimal, date, str]]:
    """Yield (purchase option, hourly price, effective date, term label) for a product's terms.

    Each term is ``{"offerTermCode", "effectiveDate": "2024-06-01T00:00:00Z", "termAttributes",
    "priceDimensions": {rateCode: {"unit": "Hrs", "pricePerUnit": {"USD": "3.0600000000"}}}}``.
    OnDemand terms have empty termAttributes; Reserved terms carry LeaseContractLength,
    OfferingClass and PurchaseOption, and only standard No Upfront 1yr/3yr terms are used.
    """
    terms = product.get("terms", {})
    for term in terms.get("OnDemand", {}).values():
        yield from _hourly_prices(term, ON_DEMAND, "OnDemand term")
    for term in terms.get("Reserved", {}).values():
        attrs = term.get("termAttributes", {})
        option = RESERVED_LEASES.get(attrs.get("LeaseContractLength"))
        if (
            option
            and attrs.get("OfferingClass") == "standard"
            and attrs.get("PurchaseOption") == "No Upfront"
        ):
            label = f"Reserved Instance, standard, No Upfront, {attrs['LeaseContractLength']}"
            yield from _hourly_prices(term, option, label)


def _hourly_prices(term: dict, option: str, label: str) -> Iterator[tuple[str, Decimal, date, str]]:
    """Yield the term's non-zero USD price dimensions billed per hour ("Hrs")."""
    as_of = datetime.fromisoformat(term["effectiveDate"]).date()
    for dimension in term.get("priceDimensions", {}).values():
        price = Decimal(dimension.get("pricePerUnit", {}).get("USD", "0"))
        if dimension.get("unit") == "Hrs" and price > 0:
            yield option, price, as_of, label


def _cheapest_per_option(
    region: str, instance_type: str, products: Iterable[dict]
) -> list[FetchedPrice]:
    """One record per purchase option: the lowest price over all matching SKUs."""
    offers: dict[str, list[tuple[Decimal, date, str, str]]] = defaultdict(list)
    for product in products:
        sku = product.get("product", {}).get("sku", "unknown")
        for option, price, as_of, label in _hourly_offers(product):
            offers[option].append((price, as_of, label, sku))

    records = []
    for option in (ON_DEMAND, COMMIT_1Y, COMMIT_3Y):
        if not offers[option]:
            continue
        price, as_of, label, sku = min(offers[option], key=lambda offer: offer[0])
        source = f"{PRICE_LIST_SOURCE}, {label}, Linux/Shared, SKU {sku}"
        skus = sorted({offer[3] for offer in offers[option]})
        if len(skus) > 1:
            source += f"; lowest of {len(skus)} matching SKUs ({', '.join(skus)})"
        records.append(
            FetchedPrice(PROVIDER, region, instance_type, option, price, CURRENCY, source, as_of)
        )
    return records


# --- spot (EC2 DescribeSpotPriceHistory) --------------------------------------------------------


def fetch_spot_prices(
    region: str,
    instance_types: list[str],
    ec2_client=None,
    now: datetime | None = None,
    lookback_hours: int = 24,
) -> list[FetchedPrice]:
    """Region-level Linux spot price per instance type: the median of each zone's latest price.

    `now` defaults to the current UTC time (a naive value is taken as UTC). Instance types with
    no history in the window yield no record.
    """
    if not instance_types:
        return []  # an empty InstanceTypes filter would ask AWS for every instance type
    client = ec2_client or boto3.client("ec2", region_name=region, config=CLIENT_CONFIG)
    now = now or datetime.now(UTC)
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    wanted = list(dict.fromkeys(instance_types))
    with _aws_errors("ec2:DescribeSpotPriceHistory"):
        latest = _latest_per_zone(client, wanted, now - timedelta(hours=lookback_hours), now)
    return [
        _spot_record(region, instance_type, latest[instance_type], lookback_hours)
        for instance_type in wanted
        if latest.get(instance_type)
    ]


def _latest_per_zone(
    client, instance_types: list[str], start: datetime, end: datetime
) -> dict[str, dict[str, tuple[datetime, Decimal]]]:
    """Map instance type -> zone -> (timestamp, price) of the newest non-zero price.

    AWS returns one row per price change, ``{"AvailabilityZone", "InstanceType",
    "ProductDescription", "SpotPrice": "0.918000", "Timestamp": datetime}``. It also returns the
    last change before `start` (the price in effect when the window opens), so rows older than
    `start` are valid and kept.
    """
    latest: dict[str, dict[str, tuple[datetime, Decimal]]] = defaultdict(dict)
    pages = client.get_paginator("describe_spot_price_history").paginate(
        InstanceTypes=instance_types,
        ProductDescriptions=["Linux/UNIX"],
        StartTime=start,
        EndTime=end,
    )
    for page in pages:
        for row in page.get("SpotPriceHistory", []):
            price = Decimal(row["SpotPrice"])
            zones = latest[row["InstanceType"]]
            current = zones.get(row["AvailabilityZone"])
            if price > 0 and (current is None or row["Timestamp"] > current[0]):
                zones[row["AvailabilityZone"]] = (row["Timestamp"], price)
    return latest


def _spot_record(
    region: str, instance_type: str, zones: dict[str, tuple[datetime, Decimal]], lookback_hours: int
) -> FetchedPrice:
    """The median over zones, with the zone count and price range in the source."""
    prices = sorted(price for _, price in zones.values())
    newest = max(timestamp for timestamp, _ in zones.values())
    count = f"{len(prices)} zone" + ("s" if len(prices) != 1 else "")
    source = (
        f"{SPOT_SOURCE}: median of {count} (min {_plain(prices[0])}, max {_plain(prices[-1])}), "
        f"latest price per zone over the last {lookback_hours} h"
    )
    return FetchedPrice(
        PROVIDER,
        region,
        instance_type,
        SPOT,
        statistics.median(prices),
        CURRENCY,
        source,
        _utc_date(newest),
    )


def _plain(value: Decimal) -> str:
    """Decimal without trailing zeros or exponent: Decimal("0.370000") -> "0.37"."""
    return format(value.normalize(), "f")


def _utc_date(timestamp: datetime) -> date:
    """The UTC calendar date of a timestamp (naive timestamps are taken as UTC)."""
    if timestamp.tzinfo is None:
        return timestamp.date()
    return timestamp.astimezone(UTC).date()
