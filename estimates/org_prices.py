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
from decimal import ROUND_DOWN, Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone

from estimates import lookup
from estimates.models import Price, ProviderDiscount, PurchaseOption
from estimates.offers import load_catalogue

MAX_ROWS = 20_000
MIN_PRICE, MAX_PRICE = Decimal("0.000001"), Decimal("9999.999999")  # Price.price_per_hour
MIN_DISCOUNT, MAX_DISCOUNT = Decimal("0.01"), Decimal("99.99")  # ProviderDiscount.percent
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


def _decimal(value, minimum: Decimal, maximum: Decimal, places: int) -> Decimal:
    """A decimal in [minimum, maximum] with at most `places` decimal places (what its column
    stores: more would be rounded silently, a small price or discount to zero)."""
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, AttributeError) as exc:
        raise ValueError("must be a decimal number") from exc
    if not amount.is_finite() or not minimum <= amount <= maximum:
        raise ValueError(f"must be from {minimum} to {maximum}")
    if amount != amount.quantize(Decimal(1).scaleb(-places), rounding=ROUND_DOWN):
        raise ValueError(f"must have at most {places} decimal places")
    return amount


def _text(row: dict, name: str, default: str) -> str:
    """A text cell, stripped; `default` when missing or empty."""
    value = row.get(name)
    if value is None or value == "":
        return default
    if not isinstance(value, str):
        raise ValueError("must be text")
    return value.strip()


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
        try:
            option = _text(row, "purchase_option", PurchaseOption.ON_DEMAND)
            if option not in PurchaseOption.values:
                errors["purchase_option"] = f"must be one of {', '.join(PurchaseOption.values)}"
        except ValueError as exc:
            errors["purchase_option"] = str(exc)
            option = None
        try:
            amount = _decimal(row.get("price_per_hour"), MIN_PRICE, MAX_PRICE, 6)
        except ValueError as exc:
            errors["price_per_hour"] = str(exc)
        try:
            if _text(row, "currency", CATALOGUE_CURRENCY).upper() != CATALOGUE_CURRENCY:
                errors["currency"] = (
                    f"only {CATALOGUE_CURRENCY} is supported (the catalogue's currency)"
                )
        except ValueError as exc:
            errors["currency"] = str(exc)
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
        if not isinstance(row, dict):
            parsed.errors.append(
                {"row": f"discount {number}", "errors": {"row": "must be an object"}}
            )
            continue
        try:
            provider = lookup.provider(str(row.get("provider") or ""))
        except lookup.CatalogueLookupError as exc:
            errors["provider"] = str(exc)
        try:
            percent = _decimal(row.get("percent"), MIN_DISCOUNT, MAX_DISCOUNT, 2)
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
