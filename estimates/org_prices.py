"""An organization's own price list: negotiated prices and per-provider discounts.

Upload as CSV (header `provider,region,instance_type,purchase_option,price_per_hour,currency`;
a row may instead give `provider,discount_percent` for an across-the-board discount) or JSON
(`{"prices": [{...}], "discounts": [{"provider": "aws", "percent": "12.5"}]}`). Every row is
checked first; if any row is wrong nothing is applied and each error names its row. Prices are
in the catalogue's currency (USD).
"""

import csv
import functools
import io
import json
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone

from estimates import lookup
from estimates.models import Price, ProviderDiscount, PurchaseOption
from estimates.offers import load_catalogue

MAX_ROWS = 20_000
MAX_PRICE = Decimal("10000")
CATALOGUE_CURRENCY = "USD"


class PriceListError(ValueError):
    """The upload as a whole cannot be read (not CSV/JSON, too many rows)."""


@dataclass
class ParsedList:
    prices: list = field(default_factory=list)  # (instance_type, region, option, amount)
    discounts: list = field(default_factory=list)  # (provider, percent, note)
    errors: list = field(default_factory=list)  # {"row": n, "errors": {field: message}}


def read_upload(content: bytes, filename: str = "") -> tuple[list[dict], list[dict]]:
    """(price rows, discount rows) as dicts, from CSV or JSON bytes."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise PriceListError("The file is not UTF-8 text.") from exc
    stripped = text.lstrip()
    if filename.lower().endswith(".json") or stripped.startswith(("{", "[")):
        try:
            data = json.loads(text, parse_float=str, parse_int=str)
        except json.JSONDecodeError as exc:
            raise PriceListError(f"Invalid JSON: {exc.msg} (line {exc.lineno}).") from exc
        if isinstance(data, list):
            data = {"prices": data}
        if not isinstance(data, dict):
            raise PriceListError('JSON must be an object with "prices" and/or "discounts".')
        prices, discounts = data.get("prices", []), data.get("discounts", [])
        if not isinstance(prices, list) or not isinstance(discounts, list):
            raise PriceListError('"prices" and "discounts" must be lists.')
        return prices, discounts
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or "provider" not in reader.fieldnames:
        raise PriceListError("CSV needs a header row starting with provider.")
    prices, discounts = [], []
    for row in reader:
        if (row.get("discount_percent") or "").strip():
            discounts.append(
                {
                    "provider": row.get("provider"),
                    "percent": row["discount_percent"],
                    "note": row.get("note", ""),
                }
            )
        else:
            prices.append(row)
    return prices, discounts


def _positive_decimal(value, maximum) -> Decimal:
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, AttributeError) as exc:
        raise ValueError("must be a decimal number") from exc
    if not amount.is_finite() or amount <= 0:
        raise ValueError("must be greater than zero")
    if amount >= maximum:
        raise ValueError(f"must be below {maximum}")
    return amount


def validate(prices: list, discounts: list) -> ParsedList:
    parsed = ParsedList()
    if len(prices) + len(discounts) > MAX_ROWS:
        raise PriceListError(f"At most {MAX_ROWS} rows per upload.")
    catalogue = load_catalogue()
    find_region = functools.partial(lookup.region, catalogue)
    find_instance = functools.partial(lookup.instance_type, catalogue)
    seen = set()
    for number, row in enumerate(prices, start=1):
        errors = {}
        if not isinstance(row, dict):
            parsed.errors.append({"row": number, "errors": {"row": "must be an object"}})
            continue
        try:
            provider = lookup.provider(str(row.get("provider") or ""))
        except lookup.CatalogueLookupError as exc:
            errors["provider"] = str(exc)
            provider = None
        region = instance = None
        if provider:
            try:
                region = find_region(provider, str(row.get("region") or ""))
            except lookup.CatalogueLookupError as exc:
                errors["region"] = str(exc)
            try:
                instance = find_instance(provider, str(row.get("instance_type") or ""))
            except lookup.CatalogueLookupError as exc:
                errors["instance_type"] = str(exc)
        option = (row.get("purchase_option") or "on_demand").strip()
        if option not in PurchaseOption.values:
            errors["purchase_option"] = f"must be one of {', '.join(PurchaseOption.values)}"
        try:
            amount = _positive_decimal(row.get("price_per_hour"), MAX_PRICE)
        except ValueError as exc:
            errors["price_per_hour"] = str(exc)
        currency = (row.get("currency") or CATALOGUE_CURRENCY).strip().upper()
        if currency != CATALOGUE_CURRENCY:
            errors["currency"] = (
                f"only {CATALOGUE_CURRENCY} is supported (the catalogue's currency)"
            )
        key = (instance.pk if instance else None, region.pk if region else None, option)
        if not errors and key in seen:
            errors["row"] = "duplicates an earlier row for the same instance, region and option"
        if errors:
            parsed.errors.append({"row": number, "errors": errors})
        else:
            seen.add(key)
            parsed.prices.append((instance, region, option, amount))
    for number, row in enumerate(discounts, start=1):
        errors = {}
        try:
            provider = lookup.provider((row or {}).get("provider") or "")
        except lookup.CatalogueLookupError as exc:
            errors["provider"] = str(exc)
        try:
            percent = _positive_decimal((row or {}).get("percent"), Decimal(100))
        except ValueError as exc:
            errors["percent"] = str(exc)
        if errors:
            parsed.errors.append({"row": f"discount {number}", "errors": errors})
        else:
            parsed.discounts.append((provider, percent, str(row.get("note") or "")[:200]))
    return parsed


@transaction.atomic
def apply(org, parsed: ParsedList, replace: bool, uploaded_by: str) -> dict:
    """Write a validated list; with `replace`, the org's previous prices go first."""
    if parsed.errors:
        raise PriceListError("Refusing to apply a list with errors.")
    if replace:
        Price.objects.for_org(org).delete()
        ProviderDiscount.objects.for_org(org).delete()
    today = timezone.localdate()
    source = f"your price list, uploaded by {uploaded_by} on {today.isoformat()}"
    for instance, region, option, amount in parsed.prices:
        Price.objects.update_or_create(
            organization=org,
            instance_type=instance,
            region=region,
            purchase_option=option,
            defaults={
                "price_per_hour": amount,
                "currency": CATALOGUE_CURRENCY,
                "source": source,
                "as_of": today,
            },
        )
    for provider, percent, note in parsed.discounts:
        ProviderDiscount.objects.update_or_create(
            organization=org, provider=provider, defaults={"percent": percent, "note": note}
        )
    return {"prices": len(parsed.prices), "discounts": len(parsed.discounts), "replaced": replace}
