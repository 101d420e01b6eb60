"""budgets/cost_explorer.py: daily AWS costs from Cost Explorer (no database).

- Two pages of results against a real moto server, reached through AWS_ENDPOINT_URL and the
  default client. moto tracks no costs: results are queued through its moto-api endpoint.
- Request parameters, pagination and parsing details with botocore's Stubber (moto does not
  validate get_cost_and_usage parameters).
- Credential, permission, connection and data-availability failures become CostExplorerError.
"""

import json
import socket
import urllib.request
from datetime import date, datetime, timedelta
from decimal import Decimal

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from budgets.cost_explorer import CostExplorerError, DailyCost, fetch_daily_costs

EC2 = "Amazon Elastic Compute Cloud - Compute"
S3 = "Amazon Simple Storage Service"
ROUTE53 = "Amazon Route 53"
TAX = "Tax"
GROUP_BY = [{"Type": "DIMENSION", "Key": "SERVICE"}, {"Type": "DIMENSION", "Key": "REGION"}]


pytestmark = pytest.mark.usefixtures("aws_env")


def stubbed():
    client = boto3.session.Session().client("ce", region_name="us-east-1")
    return client, Stubber(client)


def group(service, region, amount, metric="UnblendedCost", unit="USD"):
    return {"Keys": [service, region], "Metrics": {metric: {"Amount": amount, "Unit": unit}}}


def day_result(day, groups, estimated=False):
    end = (date.fromisoformat(day) + timedelta(days=1)).isoformat()
    return {
        "TimePeriod": {"Start": day, "End": end},
        "Total": {},
        "Groups": groups,
        "Estimated": estimated,
    }


# --- against a moto server ----------------------------------------------------------------------


@pytest.fixture
def moto_url(moto_server, aws_env):
    """The server with all state (including queued Cost Explorer results) reset."""
    post(f"{moto_server}/moto-api/reset", {})
    aws_env.setenv("AWS_ENDPOINT_URL", moto_server)
    return moto_server


def post(url, body):
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status


def queue_ce_results(moto_url, *pages):
    """Queue get_cost_and_usage answers in moto.

    moto hands out the next queued page to each request body it has not seen before and repeats
    the same page for a body it has seen, so a second identical pull gets identical answers.
    """
    status = post(f"{moto_url}/moto-api/static/ce/cost-and-usage-results", {"results": pages})
    assert status == 201


MOTO_PAGE_1 = {
    "ResultsByTime": [
        day_result(
            "2026-11-01",
            [
                group(EC2, "us-east-1", "12.3456789012"),
                group(EC2, "eu-west-1", "0.0000000000"),  # zero: skipped
                group(S3, "us-east-1", "0.0023"),
                group(ROUTE53, "NoRegion", "0.5"),
            ],
        ),
        day_result("2026-11-02", [group(EC2, "us-east-1", "11.9")]),
    ],
    "NextPageToken": "page-2",
}
MOTO_PAGE_2 = {
    "ResultsByTime": [
        day_result(
            "2026-11-03",
            [
                group(EC2, "us-east-1", "4.20"),
                group(S3, "us-east-1", "0"),  # zero: skipped
                group(TAX, "NoRegion", "1.70"),
            ],
            estimated=True,
        ),
    ],
}


def cost(day, service, region, amount, estimated=False, metric="UnblendedCost", account=""):
    return DailyCost(
        day=date.fromisoformat(day),
        service=service,
        region=region,
        amount=Decimal(amount),
        currency="USD",
        estimated=estimated,
        external_id=f"aws-ce:{account}:{day}:{service}:{region}:{metric}",
    )


def test_two_pages_from_moto_server_with_default_client(moto_url, monkeypatch):
    queue_ce_results(moto_url, MOTO_PAGE_1, MOTO_PAGE_2)
    made = []
    real_client = boto3.client

    def recording_client(*args, **kwargs):
        client = real_client(*args, **kwargs)
        made.append((args, kwargs, client))
        return client

    monkeypatch.setattr(boto3, "client", recording_client)

    answer = fetch_daily_costs(date(2026, 11, 1), date(2026, 11, 4))
    records = answer.records
    assert answer.days == {date(2026, 11, 1), date(2026, 11, 2), date(2026, 11, 3)}

    assert records == [
        cost("2026-11-01", EC2, "us-east-1", "12.3456789012"),
        cost("2026-11-01", S3, "us-east-1", "0.0023"),
        cost("2026-11-01", ROUTE53, "", "0.5"),
        cost("2026-11-02", EC2, "us-east-1", "11.9"),
        cost("2026-11-03", EC2, "us-east-1", "4.20", estimated=True),
        cost("2026-11-03", TAX, "", "1.70", estimated=True),
    ]
    assert records[0].external_id == (
        "aws-ce::2026-11-01:Amazon Elastic Compute Cloud - Compute:us-east-1:UnblendedCost"
    )
    assert records[2].external_id == "aws-ce::2026-11-01:Amazon Route 53::UnblendedCost"
    assert str(records[0].amount) == "12.3456789012"  # exact, not via float

    # The default client: Cost Explorer's us-east-1 endpoint, redirected by AWS_ENDPOINT_URL only.
    [(args, kwargs, client)] = made
    assert args == ("ce",)
    assert kwargs["region_name"] == "us-east-1"
    config = client.meta.config
    # botocore stores max_attempts=5 (retries after the first try) as total_max_attempts=6.
    assert config.retries == {"mode": "adaptive", "total_max_attempts": 6}
    assert (config.connect_timeout, config.read_timeout) == (5, 30)
    assert client.meta.endpoint_url == moto_url

    # Re-pulling the same range asks the same two questions and gives the same records and ids.
    again = fetch_daily_costs(date(2026, 11, 1), date(2026, 11, 4)).records
    assert again == records
    assert [r.external_id for r in again] == [r.external_id for r in records]
    assert len({r.external_id for r in records}) == len(records)

    # Both queued pages were used up by the first pull: a new question gets moto's empty answer.
    assert fetch_daily_costs(date(2026, 11, 1), date(2026, 11, 3)).records == []


def test_empty_answer_from_moto_server(moto_url):
    empty = fetch_daily_costs(date(2026, 10, 1), date(2026, 11, 1))
    assert (empty.records, empty.days) == ([], frozenset())


# --- request and parsing details with a Stubber -------------------------------------------------


def params(start, end, metric="UnblendedCost", token=None):
    expected = {
        "TimePeriod": {"Start": start, "End": end},
        "Granularity": "DAILY",
        "Metrics": [metric],
        "GroupBy": GROUP_BY,
    }
    if token:
        expected["NextPageToken"] = token
    return expected


def test_request_parameters_pages_and_parsing():
    client, stub = stubbed()
    metric = "AmortizedCost"
    stub.add_response(
        "get_cost_and_usage",
        {
            "GroupDefinitions": GROUP_BY,
            "ResultsByTime": [
                day_result(
                    "2026-10-30",
                    [
                        group(EC2, "us-west-2", "7.25", metric),
                        group(ROUTE53, "global", "0.10", metric),  # global: no region
                        group("AWS Support (Business)", "NoRegion", "-3.5", metric),  # a credit
                        group(S3, "us-west-2", "1", "UnblendedCost"),  # no AmortizedCost: skipped
                    ],
                ),
            ],
            "NextPageToken": "token-1",
        },
        params("2026-10-30", "2026-11-01", metric),
    )
    stub.add_response(
        "get_cost_and_usage",
        {
            "GroupDefinitions": GROUP_BY,
            "ResultsByTime": [
                day_result("2026-10-31", [group(EC2, "us-west-2", "0E-10", metric)], True),
            ],
        },
        params("2026-10-30", "2026-11-01", metric, token="token-1"),
    )

    with stub:
        answer = fetch_daily_costs(
            date(2026, 10, 30),
            date(2026, 11, 1),
            metric=metric,
            client=client,
            account_id="123456789012",
        )
        stub.assert_no_pending_responses()
    records = answer.records

    def amortized(service, region, amount):
        return cost("2026-10-30", service, region, amount, metric=metric, account="123456789012")

    assert records == [
        amortized(EC2, "us-west-2", "7.25"),
        amortized(ROUTE53, "", "0.10"),
        amortized("AWS Support (Business)", "", "-3.5"),
    ]  # 2026-10-31 only had a zero amount, but was answered for
    assert (answer.days, answer.metric) == ({date(2026, 10, 30), date(2026, 10, 31)}, metric)
    assert records[0].external_id == (
        "aws-ce:123456789012:2026-10-30:Amazon Elastic Compute Cloud - Compute:us-west-2:"
        "AmortizedCost"
    )


def test_repeated_page_token_stops_instead_of_looping():
    client, stub = stubbed()
    page = {"ResultsByTime": [], "NextPageToken": "same"}
    stub.add_response("get_cost_and_usage", page, params("2026-11-01", "2026-11-02"))
    stub.add_response("get_cost_and_usage", page, params("2026-11-01", "2026-11-02", token="same"))
    with stub, pytest.raises(CostExplorerError, match="NextPageToken 'same' twice"):
        fetch_daily_costs(date(2026, 11, 1), date(2026, 11, 2), client=client)


# --- ranges -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        (date(2026, 11, 1), date(2026, 11, 1), "must be before end"),
        (date(2026, 11, 2), date(2026, 11, 1), "must be before end"),
        (date(2025, 1, 1), date(2026, 1, 3), "367 days; ask for at most 366"),
    ],
)
def test_bad_ranges_raise_value_error_without_asking(start, end, message):
    client, stub = stubbed()
    with stub, pytest.raises(ValueError, match=message):  # no response queued: no call allowed
        fetch_daily_costs(start, end, client=client)


def test_datetimes_are_refused():
    with pytest.raises(TypeError, match=r"start must be a datetime\.date, not datetime"):
        fetch_daily_costs(datetime(2026, 11, 1), date(2026, 11, 2))


def test_366_days_is_allowed():
    client, stub = stubbed()
    stub.add_response(
        "get_cost_and_usage", {"ResultsByTime": []}, params("2024-01-01", "2025-01-01")
    )
    with stub:
        assert fetch_daily_costs(date(2024, 1, 1), date(2025, 1, 1), client=client).records == []
        stub.assert_no_pending_responses()


# --- errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "hint"),
    [
        ("AccessDeniedException", "not allowed to call ce:GetCostAndUsage"),
        ("DataUnavailableException", "no data for this period yet"),
        ("UnrecognizedClientException", "access key or secret is not valid"),
        ("InvalidClientTokenId", "access key or secret is not valid"),
        ("ExpiredTokenException", "session token has expired"),
        ("ExpiredToken", "session token has expired"),
    ],
)
def test_refusals_become_cost_explorer_error(code, hint):
    client, stub = stubbed()
    stub.add_client_error(
        "get_cost_and_usage",
        service_error_code=code,
        service_message="refused for the test",
        http_status_code=400,
        expected_params=params("2026-11-01", "2026-11-08"),
    )
    with stub, pytest.raises(CostExplorerError) as caught:
        fetch_daily_costs(date(2026, 11, 1), date(2026, 11, 8), client=client)
    message = str(caught.value)
    assert f"ce:GetCostAndUsage was refused by AWS ({code}: refused for the test)" in message
    assert hint in message
    assert isinstance(caught.value.__cause__, ClientError)


def test_access_denied_mentions_enabling_cost_explorer():
    client, stub = stubbed()
    stub.add_client_error(
        "get_cost_and_usage",
        service_error_code="AccessDeniedException",
        service_message="User not enabled for cost explorer access",
    )
    with stub, pytest.raises(CostExplorerError, match="Cost Explorer is enabled"):
        fetch_daily_costs(date(2026, 11, 1), date(2026, 11, 2), client=client)


def test_refusal_on_a_later_page_is_translated_too():
    client, stub = stubbed()
    stub.add_response(
        "get_cost_and_usage",
        {
            "ResultsByTime": [day_result("2026-11-01", [group(EC2, "us-east-1", "1")])],
            "NextPageToken": "t",
        },
        params("2026-11-01", "2026-11-03"),
    )
    stub.add_client_error("get_cost_and_usage", service_error_code="DataUnavailableException")
    with stub, pytest.raises(CostExplorerError, match="DataUnavailableException"):
        fetch_daily_costs(date(2026, 11, 1), date(2026, 11, 3), client=client)


@pytest.mark.parametrize("code", ["ValidationException", "LimitExceededException"])
def test_other_client_errors_are_not_disguised(code):
    # LimitExceededException reaches the caller only once the client's retries are exhausted.
    client, stub = stubbed()
    stub.add_client_error("get_cost_and_usage", service_error_code=code)
    with stub, pytest.raises(ClientError, match=code) as caught:
        fetch_daily_costs(date(2026, 11, 1), date(2026, 11, 2), client=client)
    assert not isinstance(caught.value, CostExplorerError)


def test_missing_credentials_become_cost_explorer_error(aws_env):
    aws_env.delenv("AWS_ACCESS_KEY_ID")
    aws_env.delenv("AWS_SECRET_ACCESS_KEY")

    with pytest.raises(CostExplorerError, match="no AWS credentials found") as caught:
        fetch_daily_costs(date(2026, 11, 1), date(2026, 11, 2))  # default client
    assert type(caught.value.__cause__).__name__ == "NoCredentialsError"


def test_unreachable_endpoint_becomes_cost_explorer_error():
    with socket.socket() as sock:  # a port that was free a moment ago: nothing listens on it
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = boto3.session.Session().client(
        "ce",
        region_name="us-east-1",
        endpoint_url=f"http://127.0.0.1:{port}",
        config=Config(retries={"max_attempts": 1}, connect_timeout=2),
    )
    with pytest.raises(CostExplorerError, match=f"127.0.0.1:{port}.*AWS_ENDPOINT_URL") as caught:
        fetch_daily_costs(date(2026, 11, 1), date(2026, 11, 2), client=client)
    assert type(caught.value.__cause__).__name__ == "EndpointConnectionError"
