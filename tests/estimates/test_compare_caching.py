"""`estimates/compare` keeps catalogue data per process, keyed by catalogue versions: a steady
request runs no query however many offers there are, and any change to the
catalogue, an organization's prices or the carbon figures shows in the very next request, in
this process and, through the shared cache (Redis), in others."""

from decimal import Decimal

import pytest

from carbon.models import GridIntensity
from costsite.orgs import tokens
from costsite.orgs.membership import create_organization
from estimates.models import InstanceType, Price, Region
from tests.conftest import api_client, make_user, token_text
from tests.orgs.test_token_cache import in_another_process, shared_cache  # noqa: F401 - fixture

COMPARE = "/api/v1/orgs/org-a/estimates/compare"
V100 = {"accelerator": "V100", "gpu_count": 1, "hours": 10}


def compare(client, body=V100):
    response = client.post(COMPARE, body, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def row(result, region="us-east-1", option="on_demand"):
    return next(
        r for r in result["results"] if r["region"] == region and r["purchase_option"] == option
    )


@pytest.fixture
def client(org_a, alice, carbon_catalog):
    return api_client(token=token_text(org_a, alice, "read"))


def add_offers(count):
    """`count` more regions, each with on-demand and spot prices of p3.2xlarge."""
    instance = InstanceType.objects.get(provider="aws", name="p3.2xlarge")
    for i in range(count):
        region = Region.objects.create(
            provider="aws", code=f"xx-test-{i}", name=f"Test {i}", country_code="US"
        )
        for option, price in (("on_demand", "3.5"), ("spot", "0.9")):
            Price.objects.create(
                instance_type=instance,
                region=region,
                purchase_option=option,
                price_per_hour=Decimal(price),
                currency="USD",
                source="test",
                as_of="2026-01-01",
            )


def test_a_steady_compare_runs_no_query_however_many_offers(
    client, django_assert_num_queries, monkeypatch
):
    monkeypatch.setattr(tokens._validated, "local_max_age", 3600)  # however slow the machine
    small = compare(client)
    assert row(small)["carbon"]["co2e_kg"] > 0  # the carbon annotation runs
    with django_assert_num_queries(0):  # token, organization, catalogue: all kept
        assert compare(client) == small
    add_offers(40)
    large = compare(client, {**V100, "max_results": 100})
    assert large["matched"] == small["matched"] + 80
    with django_assert_num_queries(0):
        assert compare(client, {**V100, "max_results": 100}) == large


def test_a_public_price_change_shows_in_the_next_request(client):
    assert row(compare(client))["price_per_hour"] == "3.060000"
    price = Price.objects.public().get(
        instance_type__name="p3.2xlarge", region__code="us-east-1", purchase_option="on_demand"
    )
    price.price_per_hour = Decimal("2.5")
    price.save()  # as the admin and load_catalog do
    assert row(compare(client))["price_per_hour"] == "2.500000"


def test_an_organizations_price_list_shows_in_the_next_request(client, alice):
    assert row(compare(client))["price_origin"] == "catalogue"
    upload = api_client(user=alice).post(
        "/api/v1/orgs/org-a/estimates/price-list/prices/upload",
        {
            "prices": [
                {
                    "provider": "aws",
                    "region": "us-east-1",
                    "instance_type": "p3.2xlarge",
                    "purchase_option": "on_demand",
                    "price_per_hour": "1.25",
                }
            ]
        },
        format="json",
    )
    assert upload.status_code == 200, upload.content
    mine = row(compare(client))
    assert (mine["price_per_hour"], mine["price_origin"]) == ("1.250000", "your price")


def test_another_organizations_price_is_not_used(client):
    org_c = create_organization("Org C", make_user("carol@c.example"), "org-c")
    Price.objects.create(
        organization=org_c,
        instance_type=InstanceType.objects.get(name="p3.2xlarge"),
        region=Region.objects.get(code="us-east-1"),
        purchase_option="on_demand",
        price_per_hour=Decimal("0.01"),
        currency="USD",
        source="theirs",
        as_of="2026-01-01",
    )
    assert row(compare(client))["price_per_hour"] == "3.060000"


def test_a_carbon_figure_change_shows_in_the_next_request(client):
    assert row(compare(client))["carbon"]["intensity_g_per_kwh"] == 379
    grid = GridIntensity.objects.get(region__code="us-east-1")
    grid.intensity_g_per_kwh = 100
    grid.save()
    assert row(compare(client))["carbon"]["intensity_g_per_kwh"] == 100
    grid.delete()  # falls back to the country's figure (US: none in the fixture → world)
    assert row(compare(client))["carbon"]["intensity_basis"].startswith("fallback")


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("shared_cache")
def test_a_change_made_by_another_process_shows_in_the_next_request(org_a, alice, carbon_catalog):
    client = api_client(token=token_text(org_a, alice, "read"))
    before = row(compare(client))
    assert (before["price_per_hour"], before["carbon"]["intensity_g_per_kwh"]) == ("3.060000", 379)
    in_another_process(
        "from estimates.models import Price; from carbon.models import GridIntensity\n"
        "p = Price.objects.get(organization=None, instance_type__name='p3.2xlarge', "
        "region__code='us-east-1', purchase_option='on_demand')\n"
        "p.price_per_hour = 2.75; p.save()\n"
        "g = GridIntensity.objects.get(region__code='us-east-1')\n"
        "g.intensity_g_per_kwh = 55; g.save()\n"
    )
    after = row(compare(client))
    assert (after["price_per_hour"], after["carbon"]["intensity_g_per_kwh"]) == ("2.750000", 55)


def test_the_kept_carbon_figures_agree_with_the_footprint_model(client):
    from carbon import lookups
    from carbon.footprint import Workload, compute

    result = compare(client, {"min_gpu_memory_gb": 1, "gpu_count": 3, "hours": 7.5})
    checked = 0
    for offer in result["results"]:
        if offer["carbon"] is None:
            continue
        instance = InstanceType.objects.get(provider=offer["provider"], name=offer["instance_type"])
        region = Region.objects.get(provider=offer["provider"], code=offer["region"])
        hours = result["hours"] * (1 + offer["interruption_overhead_fraction"])
        expected = compute(
            Workload(
                hours=hours,
                gpu_count=offer["gpu_count"],
                utilization=1.0,
                gpus_per_node=instance.accelerator_count,
                vcpus=instance.vcpus,
                memory_gib=float(instance.memory_gib) if instance.memory_gib else None,
                accelerator_power=lookups.accelerator_power(instance.accelerator, 1.0),
                pue=lookups.pue(offer["provider"], region),
                intensity=lookups.intensity(region),
                host_model=lookups.host_model(offer["provider"]) if instance.vcpus else {},
            )
        )
        assert offer["carbon"] == {
            "co2e_kg": expected["co2e_kg"],
            "energy_kwh": expected["energy_kwh"],
            "intensity_g_per_kwh": expected["intensity_g_per_kwh"],
            "intensity_basis": expected["assumptions"][-1]["basis"],
            "pue": expected["pue"],
        }
        checked += 1
    assert checked >= 3
