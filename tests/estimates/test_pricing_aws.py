"""estimates/pricing_aws.py: AWS Price List and spot price fetching (no database).

- Spot prices against a real moto server, reached through AWS_ENDPOINT_URL and default clients.
- Price List parsing with botocore's Stubber on a real pricing client (moto has no Price List).
- Credential, permission and connection failures become PriceFetchError.
"""

import json
import socket
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from estimates.pricing_aws import (
    FetchedPrice,
    PriceFetchError,
    fetch_on_demand_prices,
    fetch_spot_prices,
)

PRICE_LIST = "AWS Price List API (pricing.get_products)"


pytestmark = pytest.mark.usefixtures("aws_env")


def stubbed(service):
    client = boto3.session.Session().client(service, region_name="us-east-1")
    return client, Stubber(client)


# --- spot, against a moto server ----------------------------------------------------------------


@pytest.fixture
def moto_url(moto_server):
    return moto_server


def expected_spot(client, instance_type):
    """(median, zone count, newest date) recomputed from moto's own answer, or None."""
    rows = client.describe_spot_price_history(
        InstanceTypes=[instance_type], ProductDescriptions=["Linux/UNIX"]
    )["SpotPriceHistory"]
    latest = {}
    for row in rows:
        zone = row["AvailabilityZone"]
        if zone not in latest or row["Timestamp"] > latest[zone]["Timestamp"]:
            latest[zone] = row
    if not latest:
        return None
    prices = sorted(Decimal(row["SpotPrice"]) for row in latest.values())
    middle = len(prices) // 2
    median = prices[middle] if len(prices) % 2 else (prices[middle - 1] + prices[middle]) / 2
    newest = max(row["Timestamp"] for row in latest.values()).astimezone(UTC).date()
    return median, len(prices), newest


def test_spot_prices_from_moto_server_via_aws_endpoint_url(aws_env, moto_url):
    aws_env.setenv("AWS_ENDPOINT_URL", moto_url)
    wanted = ["p3.2xlarge", "g4dn.xlarge", "p4d.24xlarge", "g5.xlarge"]

    records = fetch_spot_prices("us-east-1", wanted)  # default client: only the env var points it

    check = boto3.client("ec2", region_name="us-east-1")
    assert check.meta.endpoint_url == moto_url
    expected = {t: expected_spot(check, t) for t in wanted}
    # moto serves history only for types in its offerings table: p3.2xlarge is not in it.
    with_history = [t for t in wanted if expected[t] is not None]
    assert expected["p3.2xlarge"] is None
    assert {"g4dn.xlarge", "p4d.24xlarge", "g5.xlarge"} <= set(with_history)

    assert [r.instance_type for r in records] == with_history
    for record in records:
        median, zones, newest = expected[record.instance_type]
        assert zones > 1
        assert (record.provider, record.region, record.purchase_option, record.currency) == (
            "aws",
            "us-east-1",
            "spot",
            "USD",
        )
        assert record.price_per_hour > 0
        assert record.price_per_hour == median
        assert f"median of {zones} zones" in record.source
        assert record.source.startswith("AWS EC2 DescribeSpotPriceHistory")
        assert record.as_of == newest


# --- spot, median logic with a Stubber ----------------------------------------------------------

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def spot_row(instance_type, zone, price, hour, day=22):
    return {
        "AvailabilityZone": zone,
        "InstanceType": instance_type,
        "ProductDescription": "Linux/UNIX",
        "SpotPrice": price,
        "Timestamp": datetime(2026, 11, day, hour, 0, tzinfo=UTC),
    }


def test_spot_latest_per_zone_and_median_over_pages():
    client, stub = stubbed("ec2")
    params = {
        "InstanceTypes": ["p4d.24xlarge", "g5.xlarge", "p3.2xlarge"],
        "ProductDescriptions": ["Linux/UNIX"],
        "StartTime": NOW - timedelta(hours=24),
        "EndTime": NOW,
    }
    stub.add_response(
        "describe_spot_price_history",
        {
            "SpotPriceHistory": [
                spot_row("p4d.24xlarge", "us-east-1a", "11.500000", 3),
                spot_row("p4d.24xlarge", "us-east-1b", "12.500000", 1),
                spot_row("g5.xlarge", "us-east-1a", "0.400000", 23, day=21),
            ],
            "NextToken": "page-2",
        },
        params,
    )
    stub.add_response(
        "describe_spot_price_history",
        {
            "SpotPriceHistory": [
                spot_row("p4d.24xlarge", "us-east-1a", "9.000000", 2),  # older than 11.50 at 03:00
                spot_row("p4d.24xlarge", "us-east-1c", "11.900000", 5, day=20),  # before window
                spot_row("g5.xlarge", "us-east-1b", "0.430000", 6, day=21),
                spot_row("g5.xlarge", "us-east-1c", "0.000000", 9),  # zero: ignored
            ],
        },
        {**params, "NextToken": "page-2"},
    )

    with stub:
        records = fetch_spot_prices(
            "us-east-1", ["p4d.24xlarge", "g5.xlarge", "p3.2xlarge"], ec2_client=client, now=NOW
        )
        stub.assert_no_pending_responses()

    assert records == [
        # zones a 11.50 (03:00 beats 9.00 at 02:00), b 12.50, c 11.90 -> median 11.90
        FetchedPrice(
            "aws",
            "us-east-1",
            "p4d.24xlarge",
            "spot",
            Decimal("11.9"),
            "USD",
            "AWS EC2 DescribeSpotPriceHistory (Linux/UNIX): median of 3 zones "
            "(min 11.5, max 12.5), latest price per zone over the last 24 h",
            date(2026, 11, 22),
        ),
        # zones a 0.40, b 0.43 -> (0.40 + 0.43) / 2 = 0.415; newest used row is 2026-11-21 23:00
        FetchedPrice(
            "aws",
            "us-east-1",
            "g5.xlarge",
            "spot",
            Decimal("0.415"),
            "USD",
            "AWS EC2 DescribeSpotPriceHistory (Linux/UNIX): median of 2 zones "
            "(min 0.4, max 0.43), latest price per zone over the last 24 h",
            date(2026, 11, 21),
        ),
    ]  # p3.2xlarge had no history: no record


def test_spot_with_no_instance_types_asks_nothing():
    client, stub = stubbed("ec2")
    with stub:  # any call would fail: no response is queued
        assert fetch_spot_prices("us-east-1", [], ec2_client=client, now=NOW) == []


# --- Price List API with a Stubber --------------------------------------------------------------


def query(instance_type, region="us-east-1", next_token=None):
    params = {
        "ServiceCode": "AmazonEC2",
        "Filters": [
            {"Type": "TERM_MATCH", "Field": "instanceType", "Value": instance_type},
            {"Type": "TERM_MATCH", "Field": "regionCode", "Value": region},
            {"Type": "TERM_MATCH", "Field": "operatingSystem", "Value": "Linux"},
            {"Type": "TERM_MATCH", "Field": "tenancy", "Value": "Shared"},
            {"Type": "TERM_MATCH", "Field": "preInstalledSw", "Value": "NA"},
            {"Type": "TERM_MATCH", "Field": "capacitystatus", "Value": "Used"},
        ],
        "FormatVersion": "aws_v1",
    }
    if next_token:
        params["NextToken"] = next_token
    return params


def dimension(sku, term_code, usd, unit="Hrs", description="per hour"):
    rate_code = (
        f"{sku}.{term_code}.6YS6EN2CT7" if unit == "Hrs" else f"{sku}.{term_code}.2TG2D8R56U"
    )
    return {
        rate_code: {
            "unit": unit,
            "endRange": "Inf",
            "description": description,
            "appliesTo": [],
            "rateCode": rate_code,
            "beginRange": "0",
            "pricePerUnit": {"USD": usd},
        }
    }


def term(sku, term_code, effective, dimensions, **term_attributes):
    return {
        f"{sku}.{term_code}": {
            "priceDimensions": dimensions,
            "sku": sku,
            "effectiveDate": effective,
            "offerTermCode": term_code,
            "termAttributes": term_attributes,
        }
    }


def reserved(sku, term_code, day, hourly, kind, upfront=None):
    """A Reserved term; kind is (LeaseContractLength, OfferingClass, PurchaseOption)."""
    dimensions = dimension(sku, term_code, hourly)
    if upfront is not None:
        dimensions |= dimension(sku, term_code, upfront, unit="Quantity", description="Upfront Fee")
    lease, offering, option = kind
    return term(
        sku,
        term_code,
        f"{day}T00:00:00Z",
        dimensions,
        LeaseContractLength=lease,
        OfferingClass=offering,
        PurchaseOption=option,
    )


def product(sku, instance_type, on_demand=None, reserved_terms=(), **attribute_overrides):
    """One PriceList entry as AWS returns it: a JSON string."""
    attributes = {
        "instanceType": instance_type,
        "regionCode": "us-east-1",
        "location": "US East (N. Virginia)",
        "operatingSystem": "Linux",
        "tenancy": "Shared",
        "preInstalledSw": "NA",
        "capacitystatus": "Used",
        "licenseModel": "No License required",
        "usagetype": f"BoxUsage:{instance_type}",
        "servicecode": "AmazonEC2",
        **attribute_overrides,
    }
    on_demand_terms = {}
    if on_demand is not None:
        usd, effective = on_demand
        on_demand_terms = term(sku, "JRTCKXETXF", effective, dimension(sku, "JRTCKXETXF", usd))
    reserved_all = {}
    for reserved_term in reserved_terms:
        reserved_all |= reserved_term
    return json.dumps(
        {
            "product": {
                "productFamily": "Compute Instance",
                "attributes": attributes,
                "sku": sku,
            },
            "serviceCode": "AmazonEC2",
            "terms": {"OnDemand": on_demand_terms, "Reserved": reserved_all},
            "version": "20261120000000",
            "publicationDate": "2026-11-20T00:00:00Z",
        }
    )


STANDARD_1Y = ("1yr", "standard", "No Upfront")
STANDARD_3Y = ("3yr", "standard", "No Upfront")
PARTIAL_1Y = ("1yr", "standard", "Partial Upfront")
CONVERTIBLE_1Y = ("1yr", "convertible", "No Upfront")
ALL_UPFRONT_3Y = ("3yr", "standard", "All Upfront")
P3_SKU = "6TMC6UD2UCCDAMNP"
P3 = product(
    P3_SKU,
    "p3.2xlarge",
    on_demand=("3.0600000000", "2026-11-01T00:00:00Z"),
    reserved_terms=[
        reserved(P3_SKU, "4NA7Y494T4", "2026-10-01", "2.1380000000", STANDARD_1Y),
        reserved(P3_SKU, "BPH4J8HBKS", "2026-09-01", "1.4630000000", STANDARD_3Y),
        # Cheaper hourly rates that must be ignored: partial upfront, convertible, all upfront.
        reserved(P3_SKU, "HU7G6KETJZ", "2026-10-01", "0.8740000000", PARTIAL_1Y, upfront="7657"),
        reserved(P3_SKU, "7NE97W5U4E", "2026-10-01", "1.5000000000", CONVERTIBLE_1Y),
        reserved(P3_SKU, "NQ3QZPMQV9", "2026-09-01", "0.0", ALL_UPFRONT_3Y, upfront="30000"),
    ],
)
G4_SKU = "CJFV3RYX9CDPV52B"
G4 = product(
    G4_SKU,
    "g4dn.xlarge",
    on_demand=("0.5260000000", "2026-08-01T00:00:00Z"),
    reserved_terms=[reserved(G4_SKU, "4NA7Y494T4", "2026-07-01", "0.3310000000", STANDARD_1Y)],
)


def test_on_demand_and_commitment_prices_over_pages():
    client, stub = stubbed("pricing")
    stub.add_response(
        "get_products",
        {"FormatVersion": "aws_v1", "PriceList": [P3], "NextToken": "page-2"},
        query("p3.2xlarge"),
    )
    stub.add_response(
        "get_products",
        {
            "FormatVersion": "aws_v1",
            "PriceList": [
                # Entries that do not match or have no price are skipped.
                product(
                    "WRONGREGION00000",
                    "p3.2xlarge",
                    ("2.0000000000", "2026-11-01T00:00:00Z"),
                    regionCode="us-west-2",
                ),
                product(
                    "DEDICATED0000000",
                    "p3.2xlarge",
                    ("3.3660000000", "2026-11-01T00:00:00Z"),
                    tenancy="Dedicated",
                ),
                product("ZEROPRICE0000000", "p3.2xlarge", ("0.0000000000", "2026-11-01T00:00:00Z")),
            ],
        },
        query("p3.2xlarge", next_token="page-2"),
    )
    stub.add_response(
        "get_products", {"FormatVersion": "aws_v1", "PriceList": [G4]}, query("g4dn.xlarge")
    )
    stub.add_response(
        "get_products", {"FormatVersion": "aws_v1", "PriceList": []}, query("p5.48xlarge")
    )

    with stub:
        records = fetch_on_demand_prices(
            "us-east-1", ["p3.2xlarge", "g4dn.xlarge", "p5.48xlarge"], pricing_client=client
        )
        stub.assert_no_pending_responses()

    def price(instance_type, option, usd, term_label, sku, as_of):
        source = f"{PRICE_LIST}, {term_label}, Linux/Shared, SKU {sku}"
        return FetchedPrice(
            "aws", "us-east-1", instance_type, option, Decimal(usd), "USD", source, as_of
        )

    ri = "Reserved Instance, standard, No Upfront"
    assert records == [
        price("p3.2xlarge", "on_demand", "3.06", "OnDemand term", P3_SKU, date(2026, 11, 1)),
        price("p3.2xlarge", "commit_1y", "2.138", f"{ri}, 1yr", P3_SKU, date(2026, 10, 1)),
        price("p3.2xlarge", "commit_3y", "1.463", f"{ri}, 3yr", P3_SKU, date(2026, 9, 1)),
        price("g4dn.xlarge", "on_demand", "0.526", "OnDemand term", G4_SKU, date(2026, 8, 1)),
        price("g4dn.xlarge", "commit_1y", "0.331", f"{ri}, 1yr", G4_SKU, date(2026, 7, 1)),
    ]  # g4dn has no 3yr No Upfront term; p5.48xlarge has no product at all


def test_several_matching_skus_keep_the_lowest_and_say_so():
    client, stub = stubbed("pricing")
    price_list = [
        product("SKUHIGH000000000", "p3.2xlarge", ("3.2000000000", "2026-11-01T00:00:00Z")),
        product("SKULOW0000000000", "p3.2xlarge", ("3.0600000000", "2026-10-15T00:00:00Z")),
    ]
    stub.add_response(
        "get_products", {"FormatVersion": "aws_v1", "PriceList": price_list}, query("p3.2xlarge")
    )

    with stub:
        [record] = fetch_on_demand_prices("us-east-1", ["p3.2xlarge"], pricing_client=client)

    assert record.price_per_hour == Decimal("3.06")
    assert record.as_of == date(2026, 10, 15)
    assert record.source == (
        f"{PRICE_LIST}, OnDemand term, Linux/Shared, SKU SKULOW0000000000; "
        "lowest of 2 matching SKUs (SKUHIGH000000000, SKULOW0000000000)"
    )


# --- errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "hint"),
    [
        ("AccessDeniedException", "not allowed to call pricing:GetProducts"),
        ("UnrecognizedClientException", "access key or secret is not valid"),
        ("ExpiredToken", "session token has expired"),
    ],
)
def test_price_list_refusals_become_price_fetch_error(code, hint):
    client, stub = stubbed("pricing")
    stub.add_client_error(
        "get_products",
        service_error_code=code,
        service_message="User is not authorized to perform: pricing:GetProducts",
        http_status_code=400,
    )
    with stub, pytest.raises(PriceFetchError) as caught:
        fetch_on_demand_prices("us-east-1", ["p3.2xlarge"], pricing_client=client)
    assert code in str(caught.value)
    assert hint in str(caught.value)
    assert isinstance(caught.value.__cause__, ClientError)


@pytest.mark.parametrize("code", ["AuthFailure", "AccessDenied", "InvalidClientTokenId"])
def test_spot_refusals_become_price_fetch_error(code):
    client, stub = stubbed("ec2")
    stub.add_client_error("describe_spot_price_history", service_error_code=code)
    with stub, pytest.raises(PriceFetchError, match=f"ec2:DescribeSpotPriceHistory.*{code}"):
        fetch_spot_prices("us-east-1", ["g5.xlarge"], ec2_client=client, now=NOW)


def test_other_client_errors_are_not_disguised():
    client, stub = stubbed("ec2")
    stub.add_client_error("describe_spot_price_history", service_error_code="InvalidParameterValue")
    with stub, pytest.raises(ClientError):
        fetch_spot_prices("us-east-1", ["g5.xlarge"], ec2_client=client, now=NOW)


def test_missing_credentials_become_price_fetch_error(aws_env):
    aws_env.delenv("AWS_ACCESS_KEY_ID")
    aws_env.delenv("AWS_SECRET_ACCESS_KEY")
    client = boto3.session.Session().client("pricing", region_name="us-east-1")

    with pytest.raises(PriceFetchError, match="no AWS credentials found"):
        fetch_on_demand_prices("us-east-1", ["p3.2xlarge"], pricing_client=client)


def test_unreachable_endpoint_becomes_price_fetch_error():
    with socket.socket() as sock:  # a port that was free a moment ago: nothing listens on it
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = boto3.session.Session().client(
        "ec2",
        region_name="us-east-1",
        endpoint_url=f"http://127.0.0.1:{port}",
        config=Config(retries={"max_attempts": 1}, connect_timeout=2),
    )
    with pytest.raises(PriceFetchError, match=f"127.0.0.1:{port}.*AWS_ENDPOINT_URL"):
        fetch_spot_prices("us-east-1", ["g5.xlarge"], ec2_client=client, now=NOW)
