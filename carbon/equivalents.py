"""What an amount of CO2e means, and what offsetting it costs (sourced factors)."""

from decimal import ROUND_HALF_UP, Decimal

from carbon.models import CarbonFactor

EQUIVALENTS = {
    "car_km": "km driven by an average passenger car",
    "tree_seedling_10y": "tree seedlings grown for 10 years",
    "smartphone_charge": "smartphone charges",
    "home_electricity_year": "homes' electricity for a year",
}


def describe(co2e_kg: float, price_per_tonne: float | None = None) -> dict:
    """Equivalents and the offset cost; `price_per_tonne` (USD/t) overrides the catalogue's."""
    factors = {
        f.name: f
        for f in CarbonFactor.objects.filter(name__in=[*EQUIVALENTS, "offset_price_per_tonne"])
    }
    equivalents = [
        {
            "name": name,
            "label": label,
            "value": round(co2e_kg / factors[name].value, 3),
            "per_unit_kg": factors[name].value,
            "source": factors[name].source,
            "as_of": factors[name].as_of,
        }
        for name, label in EQUIVALENTS.items()
        if name in factors and factors[name].value > 0
    ]
    catalogue = factors.get("offset_price_per_tonne")
    if price_per_tonne is not None:
        price, source, as_of = price_per_tonne, "given", ""
    elif catalogue is not None:
        price, source, as_of = catalogue.value, catalogue.source, catalogue.as_of
    else:
        return {"equivalents": equivalents, "offset": None}
    cost = Decimal(repr(co2e_kg / 1000 * price)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    offset = {
        "cost": str(cost),
        "currency": "USD",
        "price_per_tonne": price,
        "source": source,
        "as_of": as_of,
    }
    return {"equivalents": equivalents, "offset": offset}
