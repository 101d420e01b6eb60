"""Carbon budgets: thresholds are validated the same way everywhere, an alert fires only once
its threshold is reached, is stored together with its deliveries, and one budget that cannot be
evaluated does not stop the others' alerts."""

import importlib
import logging

import pytest
from django.apps import apps as django_apps
from django.utils import timezone

from carbon import budgets as carbon_budgets
from carbon import tasks
from carbon.models import CarbonAlert, CarbonBudget, CarbonRecord, check_thresholds
from costsite.notify.channels import create_channel
from costsite.notify.delivery import notify
from costsite.notify.models import Delivery
from costsite.orgs.roles import Role
from tests.conftest import api_client


@pytest.fixture
def finance_admin(client, org_a, member):
    finance = member(org_a, Role.FINANCE)
    finance.is_staff = True
    finance.save()
    client.force_login(finance)
    return client


def admin_form(thresholds: str) -> dict:
    return {
        "team": "",
        "name": "co2",
        "limit_kg": "10",
        "period": "monthly",
        "start": "",
        "end": "",
        "thresholds": thresholds,
    }


def emit(org, kg, name="job"):
    return CarbonRecord.objects.create(
        organization=org,
        name=name,
        started_at=timezone.now(),
        energy_kwh=1,
        co2e_kg=kg,
        intensity_g_per_kwh=1,
        pue=1,
    )


def reread(budget):
    return CarbonBudget.objects.select_related("organization").get(pk=budget.pk)


@pytest.mark.parametrize(
    "thresholds",
    [
        '["80"]',
        "[80, 80]",
        "[0]",
        "[1001]",
        "[80.5]",
        "[true]",
        '"80"',
        '{"80": 1}',
        str([*range(1, 12)]),
    ],
)
def test_admin_refuses_thresholds_that_are_not_different_whole_percentages(
    finance_admin, thresholds
):
    response = finance_admin.post("/admin/carbon/carbonbudget/add/", admin_form(thresholds))
    assert response.status_code == 200
    assert "thresholds" in response.context["adminform"].form.errors
    assert not CarbonBudget.objects.exists()


def test_admin_accepts_whole_percentages(finance_admin, org_a):
    response = finance_admin.post("/admin/carbon/carbonbudget/add/", admin_form("[80, 100]"))
    assert response.status_code == 302
    assert CarbonBudget.objects.for_org(org_a).get().thresholds == [80, 100]


@pytest.mark.parametrize("limit", ["0", "1e13"])
def test_the_limit_has_the_same_bounds_in_admin_as_in_the_api_and_pages(
    finance_admin, org_a, alice, limit
):
    response = finance_admin.post(
        "/admin/carbon/carbonbudget/add/", admin_form("[80]") | {"limit_kg": limit}
    )
    assert "limit_kg" in response.context["adminform"].form.errors
    api = api_client(user=alice).post(
        "/api/v1/orgs/org-a/carbon/budgets/", {"name": "cb", "limit_kg": limit}, format="json"
    )
    assert api.status_code == 400 and "limit_kg" in api.json()
    assert not CarbonBudget.objects.exists()


def test_api_refuses_a_threshold_given_twice(org_a, alice):
    response = api_client(user=alice).post(
        "/api/v1/orgs/org-a/carbon/budgets/",
        {"name": "cb", "limit_kg": 10, "thresholds": [80, 80]},
        format="json",
    )
    assert response.status_code == 400 and "thresholds" in response.json()


def test_dashboard_form_refuses_thresholds_out_of_range(client, org_a, alice):
    client.force_login(alice)
    response = client.post(
        "/o/org-a/carbon/dashboard/",
        {"name": "X", "limit_kg": "10", "period": "monthly", "thresholds": "80, 1001"},
    )
    assert response.status_code == 200 and "thresholds" in response.context["form"].errors
    assert not CarbonBudget.objects.exists()


def test_a_budget_that_cannot_be_evaluated_does_not_stop_other_organizations_alerts(
    org_a, org_b, caplog
):
    # Saved before thresholds were validated; evaluated first (budgets go by name).
    broken = CarbonBudget.objects.create(
        organization=org_a, name="a-broken", limit_kg=10, thresholds=["80"]
    )
    emit(org_a, 9)
    other = CarbonBudget.objects.create(organization=org_b, name="b", limit_kg=1, thresholds=[50])
    emit(org_b, 5)
    with caplog.at_level(logging.ERROR, logger="carbon.tasks"):
        assert tasks.evaluate_all() == 1
    assert other.alerts.count() == 1
    assert f"Carbon budget {broken.pk} could not be evaluated" in caplog.text


def test_a_budget_that_cannot_be_evaluated_does_not_stop_its_organizations_other_budgets(
    org_a, caplog
):
    CarbonBudget.objects.create(organization=org_a, name="a", limit_kg=10, thresholds=["80"])
    fine = CarbonBudget.objects.create(organization=org_a, name="b", limit_kg=10, thresholds=[80])
    emit(org_a, 9)
    with caplog.at_level(logging.ERROR, logger="carbon.tasks"):
        assert tasks.evaluate_organization(org_a.pk) == 1
    assert fine.alerts.count() == 1


def test_an_alert_fires_when_the_threshold_is_reached_not_just_below(org_a):
    budget = CarbonBudget.objects.create(
        organization=org_a, name="c", limit_kg=100_000, thresholds=[80]
    )
    emit(org_a, 79_996)  # 79.996 %, which shows as 80.0 %
    assert carbon_budgets.emitted(reread(budget))["percent_used"] == 80.0
    assert carbon_budgets.evaluate(reread(budget)) == []
    emit(org_a, 4, name="more")  # exactly 80 %
    assert [a.percent for a in carbon_budgets.evaluate(reread(budget))] == [80]


def test_an_alert_is_stored_only_together_with_its_deliveries(org_a, receiver, monkeypatch):
    channel = create_channel(org_a, "hook", "webhook", receiver.url)
    budget = CarbonBudget.objects.create(organization=org_a, name="c", limit_kg=10, thresholds=[50])
    budget.channels.add(channel)
    emit(org_a, 6)

    def dies(*args, **kwargs):
        raise RuntimeError("worker died while queueing the deliveries")

    monkeypatch.setattr(carbon_budgets, "notify", dies)
    with pytest.raises(RuntimeError):
        carbon_budgets.evaluate(reread(budget))
    assert not CarbonAlert.objects.exists()  # not "fired" without anyone being told
    monkeypatch.setattr(carbon_budgets, "notify", notify)
    (alert,) = carbon_budgets.evaluate(reread(budget))
    (delivery,) = Delivery.objects.filter(channel=channel)
    assert delivery.event == "carbon.threshold_crossed"
    assert delivery.payload["data"]["threshold_percent"] == alert.percent == 50
    assert carbon_budgets.evaluate(reread(budget)) == [] and Delivery.objects.count() == 1


@pytest.mark.parametrize(
    ("stored", "repaired"),
    [
        (["80", 80, 80, 100.0, 80.5, True, 0, 1001, None], [80, 100]),
        ("80", []),
        ({"80": 1}, []),
        ([*range(12, 0, -1)], [*range(1, 11)]),
        ([100, 50], [50, 100]),
    ],
)
def test_migration_0005_repairs_thresholds_saved_before_validation(org_a, stored, repaired):
    repair = importlib.import_module("carbon.migrations.0005_repair_thresholds").repair
    budget = CarbonBudget.objects.create(organization=org_a, name="old", limit_kg=10)
    CarbonBudget.objects.filter(pk=budget.pk).update(thresholds=stored)  # as before 0004
    repair(django_apps, None)
    budget.refresh_from_db()
    assert budget.thresholds == repaired
    check_thresholds(budget.thresholds)
