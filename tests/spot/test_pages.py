"""Spot pages: list, new fleet with the advice before launch, detail with its timeline."""

from decimal import Decimal
from types import SimpleNamespace

from django.utils import timezone

from spot import orchestrator
from spot.models import Fleet, FleetStatus

FORM = {
    "name": "page fleet",
    "provider": "simulated",
    "region": "us-east-1",
    "instance_types": "p3.2xlarge, g5.xlarge",
    "availability_zones": "us-east-1a, us-east-1b",
    "target_count": "2",
    "strategy": "balanced",
    "total_steps": "1000",
    "hours": "24",
    "checkpoint_write_minutes": "5",
    "restart_minutes": "10",
    "fallback_unavailable_minutes": "30",
    "fallback_on_deadline": "on",
    "simulated_interruptions_per_hour": "0.2",
    "simulated_steps_per_hour": "100",
    "simulated_seed": "1",
}


def test_advice_is_shown_before_launch_and_nothing_is_created(client, alice, org_a, catalog):
    client.force_login(alice)
    response = client.post(f"/o/{org_a.slug}/spot/new/", {**FORM, "action": "advice"})
    assert response.status_code == 200
    advice = response.context["advice"]
    # The simulated hazard is used as the rate; 2 × p3.2xlarge at $0.40 against $3.06.
    assert advice["rate_basis"] == "given"
    assert advice["on_demand_cost"] == "146.8800"
    assert "Recommendation: spot" in response.content.decode()
    assert not Fleet.objects.exists()


def test_launch_creates_the_fleet_and_shows_it(client, alice, org_a, catalog, commit):
    client.force_login(alice)
    response = commit(client.post, f"/o/{org_a.slug}/spot/new/", {**FORM, "action": "launch"})
    fleet = Fleet.objects.get()
    assert response.status_code == 302
    assert response.url == f"/o/{org_a.slug}/spot/{fleet.pk}/"
    assert fleet.instance_types == ["p3.2xlarge", "g5.xlarge"]
    assert fleet.status == FleetStatus.RUNNING
    orchestrator.record_checkpoint(fleet, 10, "s3://b/10", timezone.now())
    page = client.get(response.url)
    html = page.content.decode()
    assert "simulated" in html and "s3://b/10" in html
    chart = page.context["charts"]["attempts"]
    spot_bars = chart["datasets"][0]["data"]
    assert [bar["y"] for bar in spot_bars] == ["slot 0", "slot 1"]
    assert 'data-chart="attempts-chart"' in html


def test_launch_without_a_catalogue_spot_price_creates_the_fleet_with_a_notice(
    client, alice, org_a, catalog, commit
):
    """p4de.24xlarge has no spot price in the catalogue: the advice cannot be computed, but the
    fleet can run (as the API creates it), so the page launches it and says why there is no
    advice."""
    client.force_login(alice)
    form = {**FORM, "instance_types": "p4de.24xlarge", "action": "launch"}
    response = commit(client.post, f"/o/{org_a.slug}/spot/new/", form, follow=True)
    fleet = Fleet.objects.get()
    assert response.redirect_chain == [(f"/o/{org_a.slug}/spot/{fleet.pk}/", 302)]
    notices = [(m.level_tag, str(m)) for m in response.context["messages"]]
    assert (
        "warning",
        "No advice for this fleet: No spot price for p4de.24xlarge in us-east-1.",
    ) in notices


def test_the_advice_without_a_catalogue_spot_price_is_a_field_error(client, alice, org_a, catalog):
    client.force_login(alice)
    form = {**FORM, "instance_types": "p4de.24xlarge", "action": "advice"}
    response = client.post(f"/o/{org_a.slug}/spot/new/", form)
    assert response.status_code == 200
    assert "No spot price" in str(response.context["form"].errors)
    assert not Fleet.objects.exists()


def test_form_errors_stay_beside_the_field_and_keep_input(client, alice, org_a, catalog):
    client.force_login(alice)
    response = client.post(
        f"/o/{org_a.slug}/spot/new/",
        {**FORM, "instance_types": "p3.2xlarg", "action": "launch"},
    )
    assert response.status_code == 200
    assert "did you mean p3.2xlarge" in str(response.context["form"].errors["instance_types"])
    assert 'value="p3.2xlarg"' in response.content.decode()
    assert not Fleet.objects.exists()


def test_simulating_an_interruption_from_the_page(client, alice, org_a, make_fleet, commit):
    fleet = make_fleet()
    client.force_login(alice)
    response = commit(client.post, f"/o/{org_a.slug}/spot/{fleet.pk}/interrupt/")
    assert response.status_code == 302
    assert fleet.attempts.count() == 2
    page = client.get(f"/o/{org_a.slug}/spot/{fleet.pk}/")
    assert "Simulated by a user" in page.content.decode()


def test_overview_shows_spot_savings_of_real_fleets_and_simulated_ones_apart(
    client, alice, org_a, make_fleet, monkeypatch
):
    from spot import overview

    make_fleet()

    def totals(fleet, attempts, now, footprints):  # 5 spent where on-demand costs 12
        return SimpleNamespace(cost=Decimal(5), on_demand_equivalent_cost=Decimal(12))

    monkeypatch.setattr(overview.accounting, "totals", totals)
    panel = overview.spot_panel(org_a, None)
    assert (panel["fleets"], panel["savings"]) == (0, Decimal("0.00"))
    assert (panel["simulated"], panel["simulated_savings"]) == (1, Decimal("7.00"))
    client.force_login(alice)
    html = client.get(f"/o/{org_a.slug}/").content.decode()
    header = html[html.index("Spot savings") : html.index("</h2>", html.index("Spot savings"))]
    assert "0.0000 USD" in header
    assert '1 <span class="badge simulated">simulated</span> fleet, not counted above' in html
    assert "7.0000 USD of simulated savings" in html


def test_fleet_money_is_labelled_in_the_prices_currency(client, alice, org_a, make_fleet):
    """The catalogue's prices are USD: an organization in EUR sees USD, not relabelled EUR."""
    org_a.currency = "EUR"
    org_a.save()
    make_fleet()
    client.force_login(alice)

    def between(url, start, end):
        html = client.get(url).content.decode()
        part = html[html.index(start) :]
        return part[: part.index(end)]

    panel = between(f"/o/{org_a.slug}/", "Spot savings", "</section>")
    table = between(f"/o/{org_a.slug}/spot/", "<table", "</table>")
    for money in (panel, table):
        assert "USD" in money and "EUR" not in money


def test_admin_shows_own_fleets_and_keeps_running_ones(client, org_a, org_b, member, make_fleet):
    from costsite.orgs.roles import Role
    from spot.models import Fleet
    from tests.tenancy import new_fleet

    finance = member(org_a, Role.FINANCE)
    finance.is_staff = True
    finance.save()
    fleet = make_fleet()
    other = new_fleet(org_b, None)
    client.force_login(finance)
    page = client.get("/admin/spot/fleet/").content.decode()
    assert f">{fleet.name}<" in page and f"/{other.pk}/change/" not in page
    detail = client.get(f"/admin/spot/fleet/{fleet.pk}/change/")
    attempt = fleet.attempts.first()
    assert attempt is not None and attempt.provider_instance_id in detail.content.decode()
    refused = client.post(f"/admin/spot/fleet/{fleet.pk}/delete/", {"post": "yes"})
    assert refused.status_code == 403
    orchestrator.cancel(fleet, finance)
    client.post(f"/admin/spot/fleet/{fleet.pk}/delete/", {"post": "yes"})
    assert not Fleet.objects.filter(pk=fleet.pk).exists()


def test_fleet_list_queries_do_not_grow_with_fleets(client, alice, org_a, make_fleet):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(alice)
    counts = []
    for _ in range(2):
        make_fleet(target_count=2)
        make_fleet()
        client.get(f"/api/v1/orgs/{org_a.slug}/spot/fleets/")  # per-process caches built once
        with CaptureQueriesContext(connection) as api:
            assert client.get(f"/api/v1/orgs/{org_a.slug}/spot/fleets/").status_code == 200
        with CaptureQueriesContext(connection) as page:
            assert client.get(f"/o/{org_a.slug}/spot/").status_code == 200
        counts.append((len(api.captured_queries), len(page.captured_queries)))
    assert counts[0] == counts[1]
