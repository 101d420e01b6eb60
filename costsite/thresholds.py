"""Alert thresholds in percent, for money budgets and carbon budgets alike."""


def reaches(amount, limit, percent) -> bool:
    """Whether `amount` is at least `percent` % of `limit`, compared exactly: 49.996 % does not
    reach 50 %, as it would once rounded to two places. Decimals or floats."""
    return amount * 100 >= percent * limit
