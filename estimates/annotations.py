"""Additions to computation results by apps built on estimates (carbon adds CO2e beside cost).

estimates cannot import those apps, so they register functions here from their
AppConfig.ready: annotate(kind, result, table) → None, changing `result` in place; and
hourly_co2e(table, keys) → {(provider, region, instance type): kg CO2e per instance-hour or
None}, for vectorised trade-offs.
"""

ANNOTATORS: list = []
HOURLY_CO2E: list = []


def register_hourly_co2e(function) -> None:
    if function not in HOURLY_CO2E:
        HOURLY_CO2E.append(function)


def hourly_co2e(table, keys) -> dict:
    """kg CO2e per instance-hour by key, from the first registered source (None: unknown)."""
    if not HOURLY_CO2E:
        return dict.fromkeys(keys)
    return HOURLY_CO2E[0](table, keys)


def register(annotator) -> None:
    if annotator not in ANNOTATORS:
        ANNOTATORS.append(annotator)


def apply(kind: str, result: dict, table) -> dict:
    for annotator in ANNOTATORS:
        annotator(kind, result, table)
    return result
