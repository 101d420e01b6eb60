"""Additions to computation results by apps built on estimates (carbon adds CO2e beside cost).

estimates cannot import those apps, so they register a function here from their
AppConfig.ready: annotate(kind, result, table) → None, changing `result` in place.
"""

ANNOTATORS: list = []


def register(annotator) -> None:
    if annotator not in ANNOTATORS:
        ANNOTATORS.append(annotator)


def apply(kind: str, result: dict, table) -> dict:
    for annotator in ANNOTATORS:
        annotator(kind, result, table)
    return result
