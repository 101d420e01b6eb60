"""Refreshing public catalogue prices from a provider's API (AWS today).

Fetched prices replace catalogue rows of the same instance type, region and purchase option
when at least as recent; organizations' own prices are never touched.
"""

import boto3
from django.db import transaction

from estimates import pricing_aws
from estimates.catalog_loader import LoadReport, upsert_dated
from estimates.models import InstanceType, Price, Region


def aws_configured() -> bool:
    """Credentials in boto3's default chain (environment, config files, instance role)."""
    return boto3.Session().get_credentials() is not None


def store(records, report: LoadReport) -> LoadReport:
    instances = {t.name: t for t in InstanceType.objects.filter(provider="aws")}
    regions = {r.code: r for r in Region.objects.filter(provider="aws")}
    with transaction.atomic():
        for record in records:
            instance, region = instances.get(record.instance_type), regions.get(record.region)
            if instance is None or region is None:
                continue
            upsert_dated(
                Price,
                {
                    "organization": None,
                    "instance_type": instance,
                    "region": region,
                    "purchase_option": record.purchase_option,
                },
                {
                    "price_per_hour": record.price_per_hour,
                    "currency": record.currency,
                    "source": record.source,
                    "as_of": record.as_of,
                },
                report,
                "prices",
            )
    return report


def refresh_aws(regions: list[str] | None = None, pricing_client=None, ec2_clients=None):
    """Fetch on-demand, commitment and spot prices of the catalogue's AWS instance types.

    Returns (report, errors): a region whose fetch fails is reported and skipped; the others
    are stored. `ec2_clients` maps region → client (tests pass stubs).
    """
    names = sorted(InstanceType.objects.filter(provider="aws").values_list("name", flat=True))
    codes = regions or sorted(Region.objects.filter(provider="aws").values_list("code", flat=True))
    report, errors = LoadReport(), {}
    for code in codes:
        try:
            records = pricing_aws.fetch_on_demand_prices(code, names, pricing_client)
            ec2 = (ec2_clients or {}).get(code)
            records += pricing_aws.fetch_spot_prices(code, names, ec2)
        except pricing_aws.PriceFetchError as exc:
            errors[code] = str(exc)
            continue
        store(records, report)
    return report, errors
