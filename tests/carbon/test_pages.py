"""Carbon pages that do what the API does: edit a carbon budget (team, custom period,
thresholds, channels) with the API's rules, and list, filter and delete job records."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from carbon import views
from carbon.models import CarbonBudget, CarbonRecord
from costsite.notify.channels import create_channel
from costsite.notify.models import ChannelKind
from costsite.orgs.models import Team
from costsite.orgs.roles import Role
from tests.conftest import api_client


@pytest.fixture
def owner(client, alice):
    client.force_login(alice)
    return client


@pytest.fixture
def queued(monkeypatch):
    """The organizations whose carbon budgets the pages queued for evaluation."""
    calls = []
    monkeypatch.setattr(views, "queue_evaluation", calls.append)
    return calls


def budget(org, **kwargs):
    values = {"name": "co2", "limit_kg": 100, "thresholds": [80]} | kwargs
    return CarbonBudget.objects.create(organization=org, **values)


def record(org, name="job", started_at=None, **kwargs):
    return CarbonRecord.objects.create(
        organization=org,
        name=name,
        started_at=started_at or timezone.now(),
        energy_kwh=1,
        co2e_kg=0.5,
        intensity_g_per_kwh=400,
        pue=1.1,
        **kwargs,
    )


EDIT = {
    "name": "Research 2026",
    "limit_kg": "250",
    "period": "custom",
    "start": "2026-01-01",
    "end": "2026-06-30",
    "thresholds": "100, 50",
}


# --- carbon budget edit ------------------------------------------------------------------------


def test_the_dashboard_links_each_budget_to_its_edit_page(owner, org_a):
    made = budget(org_a)
    html = owner.get("/o/org-a/carbon/dashboard/").content.decode()
    assert f"/o/org-a/carbon/budgets/{made.pk}/edit/" in html


def test_viewers_see_no_edit_link(client, org_a, bob):
    made = budget(org_a)
    client.force_login(bob)  # a viewer
    html = client.get("/o/org-a/carbon/dashboard/").content.decode()
    assert f"/budgets/{made.pk}/edit/" not in html


def test_edit_page_shows_the_budget(owner, org_a):
    made = budget(org_a, thresholds=[50, 90])
    response = owner.get(f"/o/org-a/carbon/budgets/{made.pk}/edit/")
    assert response.status_code == 200
    form = response.context["form"]
    assert form["name"].value() == "co2" and form["thresholds"].value() == "50, 90"


def test_edit_sets_team_custom_period_thresholds_and_channels(owner, org_a, queued):
    made = budget(org_a)
    team = Team.objects.create(organization=org_a, name="Research")
    channel = create_channel(org_a, "Ops", ChannelKind.EMAIL, "ops@example.com")
    response = owner.post(
        f"/o/org-a/carbon/budgets/{made.pk}/edit/",
        EDIT | {"team": team.pk, "channels": [channel.pk]},
    )
    assert response.status_code == 302 and response["Location"] == "/o/org-a/carbon/dashboard/"
    made.refresh_from_db()
    assert (made.name, made.limit_kg, made.period, made.team) == (
        "Research 2026",
        250,
        "custom",
        team,
    )
    assert (made.start, made.end, made.thresholds) == (
        date(2026, 1, 1),
        date(2026, 6, 30),
        [50, 100],
    )
    assert list(made.channels.all()) == [channel]
    assert queued == [org_a.pk]
    html = owner.get("/o/org-a/carbon/dashboard/").content.decode()
    assert "Research 2026 (Research)" in html and "2026-01-01 – 2026-06-30" in html


def test_edit_can_clear_team_and_channels(owner, org_a, queued):
    team = Team.objects.create(organization=org_a, name="Research")
    made = budget(org_a, team=team)
    made.channels.add(create_channel(org_a, "Ops", ChannelKind.EMAIL, "ops@example.com"))
    data = {"name": "co2", "limit_kg": "100", "period": "yearly", "thresholds": "80"}
    assert owner.post(f"/o/org-a/carbon/budgets/{made.pk}/edit/", data).status_code == 302
    made.refresh_from_db()
    assert (made.team, made.period, list(made.channels.all())) == (None, "yearly", [])


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"start": "", "end": ""}, "end"),
        ({"end": ""}, "end"),
        ({"start": "2026-07-01", "end": "2026-06-30"}, "end"),
        ({"start": "1999-12-31"}, "start"),
        ({"end": "2101-01-01"}, "end"),
        ({"start": "not a date"}, "start"),
        ({"end": "99999-01-01"}, "end"),
        ({"thresholds": "80, 80"}, "thresholds"),
        ({"thresholds": "0"}, "thresholds"),
        ({"thresholds": "1001"}, "thresholds"),
        ({"thresholds": "80.5"}, "thresholds"),
        ({"thresholds": ", ".join(str(v) for v in range(1, 12))}, "thresholds"),
        ({"limit_kg": "0"}, "limit_kg"),
        ({"limit_kg": "1e13"}, "limit_kg"),
        ({"limit_kg": "nan"}, "limit_kg"),
        ({"limit_kg": "inf"}, "limit_kg"),
        ({"period": "weekly"}, "period"),
        ({"name": ""}, "name"),
        ({"name": "x" * 121}, "name"),
        ({"team": str(10**30)}, "team"),
        ({"channels": str(2**63)}, "channels"),
        ({"channels": "٣"}, "channels"),
    ],
)
def test_edit_refuses_bad_input_with_form_errors(owner, org_a, queued, change, field):
    made = budget(org_a)
    response = owner.post(f"/o/org-a/carbon/budgets/{made.pk}/edit/", EDIT | change)
    assert response.status_code == 200
    assert field in response.context["form"].errors
    made.refresh_from_db()
    assert (made.name, made.period, made.limit_kg) == ("co2", "monthly", 100)
    assert queued == []


def test_edit_refuses_another_organizations_team_and_channel(owner, org_a, org_b):
    made = budget(org_a)
    theirs = Team.objects.create(organization=org_b, name="Theirs")
    channel = create_channel(org_b, "Theirs", ChannelKind.EMAIL, "b@example.com")
    response = owner.post(
        f"/o/org-a/carbon/budgets/{made.pk}/edit/",
        EDIT | {"team": theirs.pk, "channels": [channel.pk]},
    )
    assert {"team", "channels"} <= set(response.context["form"].errors)
    made.refresh_from_db()
    assert made.team is None and not made.channels.exists()


def test_the_form_and_the_api_refuse_the_same_custom_periods(owner, org_a):
    """One rule (carbon.models.check_period): the same message from the page and the API."""
    made = budget(org_a)
    bad = {"period": "custom", "start": "2026-07-01", "end": "2026-06-30"}
    page = owner.post(f"/o/org-a/carbon/budgets/{made.pk}/edit/", EDIT | bad)
    api = api_client(user=org_a.memberships.get(role=Role.OWNER).user).patch(
        f"/api/v1/orgs/org-a/carbon/budgets/{made.pk}/", bad, format="json"
    )
    assert api.status_code == 400
    assert page.context["form"].errors["end"] == api.json()["end"]


def test_create_on_the_dashboard_takes_a_custom_period(owner, org_a, queued):
    response = owner.post("/o/org-a/carbon/dashboard/", EDIT)
    assert response.status_code == 302
    made = CarbonBudget.objects.for_org(org_a).get()
    assert (made.period, made.start, made.end) == ("custom", date(2026, 1, 1), date(2026, 6, 30))
    assert queued == [org_a.pk]
    bad = owner.post("/o/org-a/carbon/dashboard/", EDIT | {"end": ""})
    assert bad.status_code == 200 and "end" in bad.context["form"].errors
    assert CarbonBudget.objects.count() == 1


def test_the_admin_refuses_a_custom_period_without_dates(client, org_a, member):
    finance = member(org_a, Role.FINANCE)
    finance.is_staff = True
    finance.save()
    client.force_login(finance)
    data = {"team": "", "name": "co2", "limit_kg": "10", "period": "custom"}
    data |= {"start": "", "end": "", "thresholds": "[80]"}
    response = client.post("/admin/carbon/carbonbudget/add/", data)
    assert response.status_code == 200
    assert "end" in response.context["adminform"].form.errors
    assert not CarbonBudget.objects.exists()


def test_finance_may_edit_but_members_may_not(client, org_a, member, queued):
    made = budget(org_a)
    client.force_login(member(org_a, Role.FINANCE))
    assert client.post(f"/o/org-a/carbon/budgets/{made.pk}/edit/", EDIT).status_code == 302
    client.force_login(member(org_a, Role.MEMBER))
    assert client.get(f"/o/org-a/carbon/budgets/{made.pk}/edit/").status_code == 403
    assert client.post(f"/o/org-a/carbon/budgets/{made.pk}/edit/", EDIT).status_code == 403


def test_another_organizations_budget_is_404(owner, org_b):
    theirs = budget(org_b)
    assert owner.get(f"/o/org-a/carbon/budgets/{theirs.pk}/edit/").status_code == 404
    assert owner.post(f"/o/org-a/carbon/budgets/{theirs.pk}/edit/", EDIT).status_code == 404
    theirs.refresh_from_db()
    assert theirs.name == "co2"


# --- job records -------------------------------------------------------------------------------


def test_records_page_lists_newest_first_and_paginates(owner, org_a):
    now = timezone.now()
    for i in range(55):
        record(org_a, name=f"job-{i:02}", started_at=now - timedelta(hours=i))
    first = owner.get("/o/org-a/carbon/records/")
    assert first.status_code == 200
    page = first.context["records"]
    assert page.paginator.count == 55 and len(page) == 50
    assert [r.name for r in page][:2] == ["job-00", "job-01"]
    second = owner.get("/o/org-a/carbon/records/?page=2").context["records"]
    assert [r.name for r in second] == [f"job-{i}" for i in range(50, 55)]
    for odd in ("999", "abc", "-1", "0"):
        assert owner.get(f"/o/org-a/carbon/records/?page={odd}").status_code == 200


def test_records_page_filters(owner, org_a):
    team = Team.objects.create(organization=org_a, name="Research")
    record(org_a, name="aws-job", provider="aws", region="us-east-1", team=team)
    record(org_a, name="gcp-job", provider="gcp", region="us-central1")
    record(org_a, name="run-job", source="run")

    def names(query):
        response = owner.get(f"/o/org-a/carbon/records/?{query}")
        assert response.status_code == 200
        return sorted(r.name for r in response.context["records"])

    assert names("") == ["aws-job", "gcp-job", "run-job"]
    assert names("provider=aws") == ["aws-job"]
    assert names("region=us-central1") == ["gcp-job"]
    assert names(f"team={team.pk}") == ["aws-job"]
    assert names("source=run") == ["run-job"]
    assert names("provider=gcp&region=us-east-1") == []


@pytest.mark.parametrize(
    "query",
    ["team=abc", f"team={10**30}", "team=٣", "provider=a%00b", "region=a%00b", "source=%00"],
)
def test_records_page_shrugs_off_odd_filters(owner, org_a, query):
    record(org_a)
    assert owner.get(f"/o/org-a/carbon/records/?{query}").status_code == 200


def test_records_page_hides_other_organizations_records_and_teams(owner, org_a, org_b):
    record(org_a, name="ours")
    their_team = Team.objects.create(organization=org_b, name="Theirs")
    record(org_b, name="theirs", team=their_team)
    response = owner.get(f"/o/org-a/carbon/records/?team={their_team.pk}")
    assert list(response.context["records"]) == []
    html = owner.get("/o/org-a/carbon/records/").content.decode()
    assert "ours" in html and "theirs" not in html and "Theirs" not in html


def test_the_carbon_nav_links_the_records_page(owner, org_a):
    html = owner.get("/o/org-a/carbon/dashboard/").content.decode()
    assert 'href="/o/org-a/carbon/records/"' in html


def test_delete_removes_only_that_record(owner, org_a, org_b):
    doomed, kept = record(org_a, name="doomed"), record(org_a, name="kept")
    theirs = record(org_b, name="theirs")
    html = owner.get("/o/org-a/carbon/records/").content.decode()
    action = f"/o/org-a/carbon/records/{doomed.pk}/delete/"
    assert action in html and 'data-confirm="Delete the record of doomed?"' in html
    response = owner.post(action)
    assert response.status_code == 302 and response["Location"] == "/o/org-a/carbon/records/"
    assert set(CarbonRecord.objects.values_list("pk", flat=True)) == {kept.pk, theirs.pk}
    assert owner.post(action).status_code == 404  # gone
    assert owner.get(action).status_code == 405


def test_delete_returns_to_the_same_filters_and_page(owner, org_a):
    doomed = record(org_a, provider="aws")
    response = owner.post(f"/o/org-a/carbon/records/{doomed.pk}/delete/?provider=aws&page=2")
    assert response["Location"] == "/o/org-a/carbon/records/?provider=aws&page=2"
    assert owner.get(response["Location"]).status_code == 200


def test_delete_from_the_dashboards_top_jobs(owner, org_a):
    doomed = record(org_a, name="big")
    html = owner.get("/o/org-a/carbon/dashboard/").content.decode()
    assert f"/o/org-a/carbon/records/{doomed.pk}/delete/" in html
    response = owner.post(f"/o/org-a/carbon/records/{doomed.pk}/delete/", {"back": "dashboard"})
    assert response["Location"] == "/o/org-a/carbon/dashboard/"
    assert not CarbonRecord.objects.exists()


def test_members_may_delete_records_viewers_may_not(client, org_a, bob, member):
    """The API's roles for records (SPEND_WRITERS): members report jobs, so they may delete."""
    first, second = record(org_a), record(org_a)
    client.force_login(bob)  # a viewer
    html = client.get("/o/org-a/carbon/records/").content.decode()
    assert "/delete/" not in html
    assert client.post(f"/o/org-a/carbon/records/{first.pk}/delete/").status_code == 403
    client.force_login(member(org_a, Role.MEMBER))
    assert client.post(f"/o/org-a/carbon/records/{first.pk}/delete/").status_code == 302
    assert list(CarbonRecord.objects.all()) == [second]


def test_another_organizations_record_is_404(owner, org_b):
    theirs = record(org_b)
    assert owner.post(f"/o/org-a/carbon/records/{theirs.pk}/delete/").status_code == 404
    assert CarbonRecord.objects.filter(pk=theirs.pk).exists()
