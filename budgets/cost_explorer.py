"""Daily AWS costs from Cost Explorer, returned as plain records.

Nothing here touches Django or the database; callers store the records (as budget expenses).
One ``ce.get_cost_and_usage`` query per call, DAILY granularity, grouped by SERVICE and REGION,
following ``NextPageToken`` by hand: botocore has no paginator for GetCostAndUsage.

The default client uses boto3's default credential chain; boto3 itself honours
``AWS_ENDPOINT_URL``. Throttling (``LimitExceededException``) is absorbed by the adaptive retry
configuration below. Each Cost Explorer request is billed by AWS (USD 0.01 per request), so one
call per page is all this module makes.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError, NoCredentialsError
from botocore.exceptions import ConnectionError as BotocoreConnectionError

# Cost Explorer has a single endpoint, in us-east-1.
CE_REGION = "us-east-1"
CLIENT_CONFIG = Config(
    retries={"max_attempts": 5, "mode": "adaptive"}, connect_timeout=5, read_timeout=30
)
ACTION = "ce:GetCostAndUsage"
DEFAULT_METRIC = "UnblendedCost"
MAX_DAYS = 366  # Cost Explorer allows up to 14 months at DAILY granularity; keep it simple.
GROUP_BY = [{"Type": "DIMENSION", "Key": "SERVICE"}, {"Type": "DIMENSION", "Key": "REGION"}]
# REGION values for costs that belong to no region.
GLOBAL_REGIONS = {"NoRegion", "global"}

_BAD_CREDENTIALS = {"UnrecognizedClientException", "InvalidClientTokenId"}
_EXPIRED = {"ExpiredToken", "ExpiredTokenException"}
_DENIED = {"AccessDenied", "AccessDeniedException"}
_NOT_READY = {"DataUnavailableException"}


@dataclass(frozen=True)
class DailyCost:
    day: date  # the result's TimePeriod.Start (a UTC day)
    service: str  # e.g. "Amazon Elastic Compute Cloud - Compute"
    region: str  # e.g. "us-east-1"; "" for costs without a region ("NoRegion", "global")
    amount: Decimal  # exact, from the metric's Amount string; credits/refunds are negative
    currency: str  # the metric's Unit, e.g. "USD"
    estimated: bool  # the result's Estimated flag: the day's costs may still change
    external_id: str  # "aws-ce:{account}:{day}:{service}:{region}:{metric}", stable across pulls


@dataclass(frozen=True)
class DailyCosts:
    """One pull's answer: the costs, and every day Cost Explorer answered for. A day's answer is
    complete once every page is read, so a cost stored earlier for one of `days` that is missing
    from `records` has been revised to zero."""

    records: list[DailyCost]
    days: frozenset[date]
    metric: str


class CostExplorerError(Exception):
    """Cost Explorer could not be asked or had no answer: credentials, permission, connection,
    or data not yet available. The message says what to do about it."""


# --- errors -------------------------------------------------------------------------------------


@contextmanager
def _ce_errors() -> Iterator[None]:
    """Re-raise credential, permission, connection and data-readiness failures as
    CostExplorerError.

    Other ClientErrors (bad parameters, exhausted throttling retries) propagate unchanged.
    """
    try:
        yield
    except NoCredentialsError as exc:
        raise CostExplorerError(
            f"{ACTION} failed: no AWS credentials found. Set AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY, or AWS_PROFILE, or run with an instance/task role."
        ) from exc
    except BotocoreConnectionError as exc:  # EndpointConnectionError, ConnectTimeoutError, ...
        raise CostExplorerError(
            f"{ACTION} failed: {exc}. Check network access to AWS (Cost Explorer is served "
            "from us-east-1), and AWS_ENDPOINT_URL if it is set."
        ) from exc
    except ClientError as exc:
        error = exc.response.get("Error", {})
        code = error.get("Code", "")
        if code in _BAD_CREDENTIALS:
            hint = "The AWS access key or secret is not valid; check the configured credentials."
        elif code in _EXPIRED:
            hint = "The AWS session token has expired; refresh the credentials and retry."
        elif code in _DENIED:
            hint = (
                f"The credentials are valid but not allowed to call {ACTION}: grant it in IAM, "
                "and make sure Cost Explorer is enabled for the account (Billing console; in an "
                "AWS Organization the management account controls member access)."
            )
        elif code in _NOT_READY:
            hint = (
                "Cost Explorer has no data for this period yet: data is first available about "
                "24 hours after Cost Explorer is enabled and is refreshed at least daily. "
                "Retry later or ask for an earlier period."
            )
        else:
            raise
        raise CostExplorerError(
            f"{ACTION} was refused by AWS ({code}: {error.get('Message', '')}). {hint}"
        ) from exc


# --- fetching -----------------------------------------------------------------------------------


def fetch_daily_costs(
    start: date,
    end: date,
    *,
    metric: str = DEFAULT_METRIC,
    client=None,
    account_id: str = "",
) -> DailyCosts:
    """Daily costs per service and region for the days from `start` up to, not including, `end`.

    `metric` is a Cost Explorer metric such as "UnblendedCost", "AmortizedCost" or
    "NetUnblendedCost". `account_id` only labels the records' external ids (the account whose
    Cost Explorer view is pulled); it does not filter. Groups with an amount of exactly zero are
    skipped; records keep AWS's order (by day, then group).

    Returns the records and the days answered for (DailyCosts).
    Raises ValueError for an empty, reversed or longer than 366-day range, and CostExplorerError
    for credential, permission, connection and data-availability failures.
    """
    _check_range(start, end)
    with _ce_errors():
        client = client or boto3.client("ce", region_name=CE_REGION, config=CLIENT_CONFIG)
        results = list(_results_by_time(client, start, end, metric))
    return DailyCosts(
        records=[
            record for result in results for record in _daily_records(result, metric, account_id)
        ],
        days=frozenset(date.fromisoformat(result["TimePeriod"]["Start"]) for result in results),
        metric=metric,
    )


def _check_range(start: date, end: date) -> None:
    for name, value in (("start", start), ("end", end)):
        if isinstance(value, datetime) or not isinstance(value, date):
            raise TypeError(f"{name} must be a datetime.date, not {type(value).__name__}")
    if start >= end:
        raise ValueError(f"start ({start}) must be before end ({end}); end is exclusive")
    days = (end - start).days
    if days > MAX_DAYS:
        raise ValueError(f"{start} to {end} is {days} days; ask for at most {MAX_DAYS} at a time")


def _results_by_time(client, start: date, end: date, metric: str) -> Iterator[dict]:
    """Yield every ``ResultsByTime`` entry over all pages.

    A page is ``{"ResultsByTime": [...], "NextPageToken": "..."}``; the last page has no token.
    """
    params = {
        "TimePeriod": {"Start": start.isoformat(), "End": end.isoformat()},
        "Granularity": "DAILY",
        "Metrics": [metric],
        "GroupBy": GROUP_BY,
    }
    seen_tokens: set[str] = set()
    token = None
    while True:
        page = client.get_cost_and_usage(**params, **({"NextPageToken": token} if token else {}))
        yield from page.get("ResultsByTime", [])
        token = page.get("NextPageToken")
        if not token:
            return
        if token in seen_tokens:
            raise CostExplorerError(
                f"{ACTION} returned the NextPageToken {token!r} twice; stopping instead of "
                "looping forever. Check AWS_ENDPOINT_URL if it points to a test server."
            )
        seen_tokens.add(token)


def _daily_records(result: dict, metric: str, account_id: str) -> Iterator[DailyCost]:
    """Records for one day's result, skipping zero amounts and groups without the metric.

    A result is ``{"TimePeriod": {"Start": "2026-11-01", "End": "2026-11-02"}, "Total": {},
    "Groups": [{"Keys": [service, region], "Metrics": {metric: {"Amount": "1.23",
    "Unit": "USD"}}}], "Estimated": bool}``; the keys follow the GroupBy order.
    """
    day = date.fromisoformat(result["TimePeriod"]["Start"])
    estimated = bool(result.get("Estimated", False))
    for group in result.get("Groups", []):
        value = group.get("Metrics", {}).get(metric)
        if value is None:
            continue
        amount = Decimal(value["Amount"])
        if amount == 0:
            continue
        service, region = group["Keys"]
        region = "" if region in GLOBAL_REGIONS else region
        yield DailyCost(
            day=day,
            service=service,
            region=region,
            amount=amount,
            currency=value.get("Unit", ""),
            estimated=estimated,
            external_id=f"aws-ce:{account_id}:{day.isoformat()}:{service}:{region}:{metric}",
        )
