"""One entry point for the four computations, used by the API, the pages and saved estimates."""

from estimates import annotations, ci_plans, commitments, compare, estimate
from estimates.inputs import INPUTS
from estimates.offers import offer_table


class InvalidInput(ValueError):
    """Field errors, in DRF's shape: {field: [message, ...]}."""

    def __init__(self, errors: dict):
        super().__init__(str(errors))
        self.errors = errors


def run(kind: str, org, data: dict) -> tuple[dict, dict]:
    """Validate `data` for `kind` and compute; returns (clean inputs, result)."""
    table = offer_table(org)
    serializer = INPUTS[kind](data=data, context={"catalogue": table.catalogue})
    if not serializer.is_valid():
        raise InvalidInput(serializer.errors)
    try:
        if kind == "estimate":
            result = estimate.estimate(table, serializer.to_domain())
        elif kind == "compare":
            result = compare.compare(table, serializer.to_domain())
        elif kind == "commitment":
            result = commitments.analyse(table, serializer.to_domain())
        else:
            jobs, providers, regions, current_at = serializer.to_domain()
            result = ci_plans.plan(table, jobs, providers, regions, current_at)
    except estimate.EstimateError as exc:
        raise InvalidInput({exc.field: [str(exc)]}) from exc
    return serializer.initial_data, annotations.apply(kind, result, table)
