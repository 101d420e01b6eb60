"""Turning names a person typed into catalogue rows, with "did you mean" help on mistakes.

Lookups read a `Catalogue` snapshot (see offers.py) rather than the database, so validating a
request or a 20,000-row price list costs no query per name.
"""

import difflib

from estimates.models import Provider


class CatalogueLookupError(ValueError):
    """A name not in the catalogue; `field` says which input, the message what would be valid."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def suggest(value: str, choices: list[str], what: str, field: str) -> CatalogueLookupError:
    """The error for a name not among `choices`: the closest ones, or the valid ones."""
    lowered = {c.lower(): c for c in choices}
    close = difflib.get_close_matches(value.lower(), list(lowered), n=3, cutoff=0.6)
    if close:
        hint = " or ".join(lowered[c] for c in close)
        return CatalogueLookupError(field, f"Unknown {what} {value!r}; did you mean {hint}?")
    shown = ", ".join(sorted(choices)[:30]) + (" …" if len(choices) > 30 else "")
    return CatalogueLookupError(field, f"Unknown {what} {value!r}. Valid: {shown}.")


def _find(rows: dict, name: str):
    name = (name or "").strip()
    if name in rows:
        return rows[name]
    return {key.lower(): row for key, row in rows.items()}.get(name.lower())


def provider(value: str) -> str:
    value = (value or "").strip().lower()
    if value not in Provider.values:
        raise suggest(value, list(Provider.values), "provider", "provider")
    return value


def region(catalogue, provider_code: str, code: str):
    regions = catalogue.regions.get(provider_code, {})
    match = _find(regions, code)
    if match is None:
        raise suggest(code, list(regions), f"{provider_code} region", "region")
    return match


def instance_type(catalogue, provider_code: str, name: str):
    types = catalogue.instance_types.get(provider_code, {})
    match = _find(types, name)
    if match is None:
        raise suggest(name, list(types), f"{provider_code} instance type", "instance_type")
    return match


def accelerator_names(catalogue, value: str) -> set[str]:
    """Accelerator names matching a name or a family ("A100" → A100-40GB and A100-80GB)."""
    value = (value or "").strip().lower()
    rows = catalogue.accelerators
    names = {name for name, family in rows if value in (name.lower(), family.lower())}
    if not names:
        choices = sorted({name for name, _ in rows} | {family for _, family in rows})
        raise suggest(value, choices, "accelerator", "accelerator")
    return names


def region_codes(catalogue) -> set[str]:
    return {code for regions in catalogue.regions.values() for code in regions}
