"""The portal's interruption events page and advice page: what the API's `spot/events` list and
`spot/advice` do, from the pages, for every role the API allows."""

from datetime import timedelta

import pytest
from django.utils import timezone

from estimates.models import Accelerator, InstanceType, Price, Region
from estimates.offers import clear_cache
from spot.models import InterruptionEvent
from tests.conftest import api_client
from tests.tenancy import new_fleet

EVENTS = "/o/{}/spot/events/"
ADVICE = "/o/{}/spot/advice/"
ADVICE_API = "/api/v1/orgs/{}/spot/advice"


def event(org, *, fleet=None, source="eventbridge", kind="interruption_warning", age=0, n=None):
    """An event received `age` minutes ago."""
    n = InterruptionEvent.objects.count() if n is None else n
    row = InterruptionEvent.objects.create(
        organization=org,
        fleet=fleet,
        event_key=f"{source}:{n}",
        source=source,
        kind=kind,
        provider_instance_id=f"i-{n:04d}",
        occurred_at=timezone.now(),
    )
    InterruptionEvent.objects.filter(pk=row.pk).update(
        received_at=timezone.now() - timedelta(minutes=age)
    )
    return row


def listed(response):
    return [e.provider_instance_id for e in response.context["events"]]


# --- events --------------------------------------------------------------------------------------


def test_a_viewer_sees_every_event_newest_first_those_of_no_fleet_included(
    client, bob, org_a, org_b
):
    fleet = new_fleet(org_a, None)
    event(org_a, fleet=fleet, age=10, n=1)
    event(org_a, age=5, n=2)  # an instance in no fleet (an EventBridge rule for the account)
    event(org_a, fleet=fleet, source="agent", age=1, n=3)
    event(org_b, n=4)
    client.force_login(bob)  # a viewer
    response = client.get(EVENTS.format(org_a.slug))
    assert response.status_code == 200
    assert listed(response) == ["i-0003", "i-0002", "i-0001"]
    html = response.content.decode()
    assert "no fleet" in html and f"/o/org-a/spot/{fleet.pk}/" in html
    assert "i-0004" not in html


def test_the_events_page_is_in_the_spot_navigation_and_linked_from_fleets(client, alice, org_a):
    fleet = new_fleet(org_a, None)
    event(org_a, n=7)
    client.force_login(alice)
    fleets = client.get("/o/org-a/spot/").content.decode()
    assert 'href="/o/org-a/spot/events/"' in fleets
    assert "i-0007" in fleets  # the latest events, those of no fleet too
    detail = client.get(f"/o/org-a/spot/{fleet.pk}/").content.decode()
    assert f'href="/o/org-a/spot/events/?fleet={fleet.pk}"' in detail
    page = client.get(EVENTS.format(org_a.slug)).content.decode()
    assert 'href="/o/org-a/spot/events/" aria-current="page"' in page


def test_filters_are_the_apis(client, alice, org_a):
    fleet = new_fleet(org_a, None)
    other = new_fleet(org_a, None)
    event(org_a, fleet=fleet, n=1)
    event(org_a, fleet=fleet, source="poll", kind="state_change", n=2)
    event(org_a, fleet=other, kind="rebalance", n=3)
    event(org_a, n=4)
    client.force_login(alice)
    api = api_client(user=alice)
    for query in [
        {"fleet": fleet.pk},
        {"source": "poll"},
        {"kind": "rebalance"},
        {"fleet": fleet.pk, "kind": "interruption_warning"},
        {},
    ]:
        page = client.get(EVENTS.format(org_a.slug), query)
        assert page.status_code == 200
        assert not page.context["filter"].errors
        expected = api.get(f"/api/v1/orgs/{org_a.slug}/spot/events/", query).json()["results"]
        assert listed(page) == [e["provider_instance_id"] for e in expected], query
    chosen = client.get(EVENTS.format(org_a.slug), {"fleet": fleet.pk, "source": "poll"})
    assert listed(chosen) == ["i-0002"]
    html = chosen.content.decode()
    assert f'<option value="{fleet.pk}" selected>' in html
    assert '<option value="poll" selected>' in html


def test_pages_of_fifty_keep_the_filters(client, alice, org_a):
    for n in range(55):
        event(org_a, age=n, n=n)
    event(org_a, source="agent", n=99)
    client.force_login(alice)
    first = client.get(EVENTS.format(org_a.slug), {"source": "eventbridge"})
    assert len(listed(first)) == 50 and listed(first)[0] == "i-0000"
    assert 'href="?source=eventbridge&page=2"' in first.content.decode()
    second = client.get(EVENTS.format(org_a.slug), {"source": "eventbridge", "page": "2"})
    assert listed(second) == [f"i-{n:04d}" for n in range(50, 55)]
    for page in ("999", "x", "\x00", str(10**30)):  # the nearest page, as other lists
        assert client.get(EVENTS.format(org_a.slug), {"page": page}).status_code == 200


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("fleet", str(10**30)),
        ("fleet", str(2**63)),
        ("fleet", "0"),
        ("fleet", "-1"),
        ("fleet", "1.5"),
        ("fleet", "٣"),
        ("fleet", "abc"),
        ("fleet", "\x00"),
        ("fleet", "1\x00"),
        ("source", "x\x00"),
        ("source", "sqs"),
        ("kind", "\x00"),
        ("kind", "reboot"),
    ],
)
def test_a_bad_filter_is_a_field_error_not_a_500(client, alice, org_a, field, value):
    event(org_a, n=1)
    client.force_login(alice)
    response = client.get(EVENTS.format(org_a.slug), {field: value})
    assert response.status_code == 200
    assert field in response.context["filter"].errors
    assert listed(response) == []  # nothing pretends to match
    assert 'class="form-errors" role="alert"' in response.content.decode()


def test_another_organizations_fleet_is_filtered_like_a_missing_one(client, alice, org_a, org_b):
    theirs = new_fleet(org_b, None)
    event(org_b, fleet=theirs, n=1)
    client.force_login(alice)
    foreign = client.get(EVENTS.format(org_a.slug), {"fleet": theirs.pk})
    missing = client.get(EVENTS.format(org_a.slug), {"fleet": theirs.pk + 1000})
    assert foreign.context["filter"].errors == missing.context["filter"].errors
    assert listed(foreign) == listed(missing) == []


def test_the_events_page_only_shows(client, alice, org_a):
    client.force_login(alice)
    assert client.post(EVENTS.format(org_a.slug)).status_code == 405


# --- advice --------------------------------------------------------------------------------------

AWS = {"provider": "aws", "region": "us-east-1", "instance_type": "p3.2xlarge", "hours": "100"}
GCP = {"provider": "gcp", "region": "us-central1", "instance_type": "a2-highgpu-1g", "hours": "50"}
AZURE = {"provider": "azure", "region": "eastus", "instance_type": "NC24ads_A100_v4"}


@pytest.fixture
def azure(catalog):
    """An Azure region and instance type with spot and on-demand prices (the fixture catalogue
    has none)."""
    region = Region.objects.create(provider="azure", code="eastus", name="East US")
    instance = InstanceType.objects.create(
        provider="azure",
        name="NC24ads_A100_v4",
        vcpus=24,
        memory_gib=220,
        accelerator=Accelerator.objects.get(name="A100-80GB"),
        accelerator_count=1,
        source="test fixture",
        as_of="2026-01-01",
    )
    for option, price in (("on_demand", "3.67"), ("spot", "0.90")):
        Price.objects.create(
            instance_type=instance,
            region=region,
            purchase_option=option,
            price_per_hour=price,
            source=f"azure {option} test price",
            as_of="2026-02-01",
        )
    clear_cache()


def api_advice(org, user, body):
    return api_client(user=user).post(ADVICE_API.format(org.slug), body, format="json")


@pytest.mark.parametrize(
    "body",
    [
        AWS,
        {**AWS, "count": "2", "mtbf_hours": "20", "checkpoint_minutes": "6"},
        {**AWS, "interruption_rate_per_hour": "0.05", "restart_minutes": "0"},
        {**AWS, "checkpoint_interval_minutes": "30", "deadline_hours": "101"},
        GCP,
        {**GCP, "count": "4", "deadline_hours": "60", "mtbf_hours": "5"},
    ],
)
def test_the_page_computes_what_the_api_does(client, bob, org_a, catalog, body):
    client.force_login(bob)  # a viewer, as the API's advice allows
    page = client.post(ADVICE.format(org_a.slug), body)
    assert page.status_code == 200
    assert page.context["form"].errors == {}
    assert page.context["advice"] == api_advice(org_a, bob, body).json()


def test_gcp_advice_shows_its_sources(client, bob, org_a, catalog):
    client.force_login(bob)
    page = client.post(ADVICE.format(org_a.slug), {**GCP, "mtbf_hours": "20"})
    advice = page.context["advice"]
    assert (advice["provider"], advice["region"]) == ("gcp", "us-central1")
    assert advice["prices"]["spot"]["price_per_hour"] == "1.100000"
    assert advice["on_demand_cost"] == "183.5000"  # 3.67 × 50
    html = page.content.decode()
    assert "Recommendation: spot" in html
    assert "a2-highgpu-1g in gcp us-central1" in html
    assert "test fixture" in html and "2026-01-01" in html  # the prices' source and date
    assert "1 / mtbf_hours (20 h)" in html  # the rate's


def test_azure_advice(client, alice, org_a, azure):
    client.force_login(alice)
    page = client.post(ADVICE.format(org_a.slug), {**AZURE, "hours": "10", "count": "2"})
    advice = page.context["advice"]
    assert page.context["form"].errors == {}
    assert advice["provider"] == "azure"
    assert advice["on_demand_cost"] == "73.4000"  # 3.67 × 2 × 10
    assert advice["rate_basis"] == "default"
    html = page.content.decode()
    assert "azure spot test price" in html and "2026-02-01" in html
    assert "AWS Spot Advisor bucket" in html  # the default rate, said as such


def test_a_query_string_computes_too(client, alice, org_a, catalog):
    client.force_login(alice)
    page = client.get(ADVICE.format(org_a.slug), GCP)
    assert page.context["advice"]["instance_type"] == "a2-highgpu-1g"
    empty = client.get(ADVICE.format(org_a.slug))
    assert empty.context["advice"] is None and not empty.context["form"].errors
    assert 'href="/o/org-a/spot/advice/" aria-current="page"' in empty.content.decode()


# "form": the page's form cannot coerce the value (as DRF's fields, in their own words);
# "api": the form passes it on and AdviceInput refuses it, in the API's very words.
@pytest.mark.parametrize(
    ("change", "field", "by"),
    [
        ({"hours": ""}, "hours", "api"),
        ({"region": ""}, "region", "api"),
        ({"provider": ""}, "provider", "api"),
        ({"hours": "0"}, "hours", "api"),
        ({"hours": "abc"}, "hours", "form"),
        ({"hours": "nan"}, "hours", "form"),
        ({"hours": "1e400"}, "hours", "form"),
        ({"count": "0"}, "count", "api"),
        ({"count": str(10**30)}, "count", "api"),
        ({"count": "1.5"}, "count", "form"),
        ({"provider": "oracle"}, "provider", "form"),
        ({"provider": "aws\x00"}, "provider", "form"),
        ({"region": "mars-1"}, "region", "api"),
        ({"region": "us-east-1\x00"}, "region", "form"),
        ({"instance_type": "x" * 200}, "instance_type", "api"),
        ({"instance_type": "p4de.24xlarge"}, "instance_type", "api"),  # no spot price
        ({"instance_type": "a2-highgpu-1g"}, "instance_type", "api"),  # a GCP type on AWS
        ({"interruption_rate_per_hour": "-1"}, "interruption_rate_per_hour", "api"),
        ({"interruption_rate_per_hour": "0.1", "mtbf_hours": "10"}, "mtbf_hours", "api"),
        (  # spot hopeless: the domain's AdviceError, said on the rate
            {"interruption_rate_per_hour": "90", "restart_minutes": "600"},
            "interruption_rate_per_hour",
            "api",
        ),
        ({"checkpoint_minutes": "0"}, "checkpoint_minutes", "api"),
        ({"checkpoint_interval_minutes": "0.01"}, "checkpoint_interval_minutes", "api"),
        ({"restart_minutes": "-1"}, "restart_minutes", "api"),
        ({"deadline_hours": "0"}, "deadline_hours", "api"),
    ],
)
def test_bad_input_is_a_field_error_not_a_500(client, alice, org_a, catalog, change, field, by):
    client.force_login(alice)
    body = {**AWS, **change}
    page = client.post(ADVICE.format(org_a.slug), body)
    assert page.status_code == 200
    assert page.context["advice"] is None
    errors = page.context["form"].errors
    assert list(errors) == [field]
    assert 'class="errorlist"' in page.content.decode()
    api = api_advice(org_a, alice, {k: v for k, v in body.items() if v != ""})
    assert api.status_code == 400
    assert field in api.json()
    if by == "api":
        assert errors[field] == api.json()[field]
