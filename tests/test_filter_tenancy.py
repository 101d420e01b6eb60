"""Every list filter by a related row (`?team=`, `?budget=`, `?fleet=`, ...) of every routed
org-scoped list: another organization's row id gets exactly the answer an id no row has, so a
filter never tells whether another organization's row exists (DESIGN §3)."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from django_filters import ModelChoiceFilter, ModelMultipleChoiceFilter
from rest_framework.test import APIRequestFactory

from budgets.models import Budget
from carbon.models import CarbonBudget
from costsite.orgs.filters import OrgFilterBackend
from costsite.orgs.models import Team
from spot.models import Fleet
from tests import tenancy
from tests.conftest import api_client

# How to make a row of org B for each model a list can be filtered by (the tenancy matrix's).
ROWS_OF_ORG_B = {
    Team: tenancy.new_team,
    Budget: tenancy.new_budget,
    CarbonBudget: tenancy.new_carbon_budget,
    Fleet: tenancy.new_fleet,
}


def org_list_routes():
    """(path under /api/v1/orgs/<org>/, viewset class) of every routed list."""

    def walk(patterns, prefix):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                view = pattern.callback
                if getattr(view, "actions", {}).get("get") == "list":
                    yield prefix + str(pattern.pattern), view.cls

    marker = "api/v1/orgs/<slug:org_slug>/"
    for route, viewset in walk(get_resolver().url_patterns, ""):
        if route.startswith(marker):
            yield route[len(marker) :].replace("^", "").replace("/?$", "/"), viewset


def related_filters():
    """(path, query parameter, related model) of every filter by a related row."""
    request = APIRequestFactory().get("/")
    found = []
    for path, viewset in org_list_routes():
        view = viewset()
        view.request = request
        filterset = OrgFilterBackend().get_filterset_class(view, viewset.queryset)
        for name, spec in (filterset.base_filters if filterset else {}).items():
            if isinstance(spec, ModelChoiceFilter | ModelMultipleChoiceFilter):
                found.append((path, name, spec.queryset.model))
    return found


RELATED_FILTERS = related_filters()


def test_the_related_filters_are_found():
    names = {(path, name) for path, name, _ in RELATED_FILTERS}
    assert {("budgets/", "team"), ("alerts/", "budget"), ("spot/events/", "fleet")} <= names


@pytest.mark.parametrize(
    ("path", "name", "model"),
    RELATED_FILTERS,
    ids=[f"{path}?{name}" for path, name, _ in RELATED_FILTERS],
)
def test_another_organizations_row_is_filtered_like_one_that_does_not_exist(
    org_a, org_b, alice, path, name, model
):
    assert model in ROWS_OF_ORG_B, f"add a row of org B for {model.__name__}"
    theirs = ROWS_OF_ORG_B[model](org_b, None)
    client = api_client(user=alice)
    url = f"/api/v1/orgs/{org_a.slug}/{path}"
    other_org = client.get(url, {name: theirs.pk})
    no_row = client.get(url, {name: theirs.pk + 1000})
    assert other_org.status_code == no_row.status_code == 400
    assert other_org.json() == no_row.json()
