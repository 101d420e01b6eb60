"""Portal parity with the API: editing a training run (validated by the API's serializer, so a
run the API would refuse is refused here too) and the list of stored GPU utilisation samples
(the API's filters, newest first, paginated; a bad filter is a message, never a 500)."""

from datetime import UTC, datetime, timedelta

import pytest

from costsite.orgs.models import Team
from costsite.orgs.roles import Role
from estimates import utilization
from estimates.models import Accelerator, TrainingRun, UtilizationSample

A100_PEAK = 312e12  # A100-40GB, bf16
RUNS = "/o/org-a/estimates/runs/"
SAMPLES = "/o/org-a/estimates/utilization/"
BAD_IDS = [str(10**30), str(2**63), "0", "-1", "1.5", "a\x00b"]


def gpu_hours(flops, mfu):
    return flops / (A100_PEAK * mfu * 3600)


def new_run(org, name="run", **fields):
    values = {
        "name": name,
        "flops": 1e20,
        "accelerator": Accelerator.objects.get(name="A100-40GB"),
        "gpu_count": 8,
        "gpu_hours": gpu_hours(1e20, 0.45),
        "precision": "bf16",
        "source": "api",
        **fields,
    }
    values.setdefault("wall_hours", values["gpu_hours"] / values["gpu_count"])
    return TrainingRun.objects.create(organization=org, **values)


def edit_url(run):
    return f"{RUNS}{run.pk}/edit/"


def as_posted(form) -> dict:
    """The edit form's fields as the browser would post them unchanged."""
    values = {name: form[name].value() for name in form.fields}
    return {name: "" if value is None else value for name, value in values.items()}


@pytest.fixture
def owner(client, alice):
    client.force_login(alice)
    return client


# --- editing a run -----------------------------------------------------------------------------


def test_edit_page_shows_the_run_and_saves_only_that_run(owner, org_a, catalog):
    run, other = new_run(org_a, "first"), new_run(org_a, "second")
    page = owner.get(edit_url(run))
    assert page.status_code == 200
    form = page.context["form"]
    assert form["name"].value() == "first" and form["accelerator"].value() == "A100-40GB"
    data = as_posted(form)
    response = owner.post(edit_url(run), {**data, "name": "renamed", "notes": "ran twice"})
    assert response.status_code == 302 and response["Location"] == RUNS
    run.refresh_from_db()
    assert (run.name, run.notes) == ("renamed", "ran twice")
    assert run.flops == 1e20 and run.gpu_hours == pytest.approx(gpu_hours(1e20, 0.45))
    assert run.source == "api"  # where it came from is kept
    untouched = TrainingRun.objects.get(pk=other.pk)
    assert (untouched.name, untouched.notes, untouched.gpu_hours) == (
        "second",
        "",
        other.gpu_hours,
    )


def test_edit_derives_figures_like_an_api_patch(owner, org_a, catalog):
    run = new_run(org_a, params=1e9, tokens=2e10, flops=1.2e20, gpu_hours=gpu_hours(1.2e20, 0.4))
    data = as_posted(owner.get(edit_url(run)).context["form"])
    # new tokens: the FLOPs are computed again from params × tokens
    assert owner.post(edit_url(run), {**data, "tokens": "1e10"}).status_code == 302
    run.refresh_from_db()
    assert run.flops == pytest.approx(6e19)
    # new wall hours: the GPU-hours follow (× GPU count)
    data = as_posted(owner.get(edit_url(run)).context["form"])
    wall = run.wall_hours * 1.25
    assert owner.post(edit_url(run), {**data, "wall_hours": str(wall)}).status_code == 302
    run.refresh_from_db()
    assert run.wall_hours == pytest.approx(wall) and run.gpu_hours == pytest.approx(wall * 8)
    # emptying a derived figure keeps it; emptying an optional one clears it
    run.cost = 120
    run.save()
    data = as_posted(owner.get(edit_url(run)).context["form"])
    assert owner.post(edit_url(run), {**data, "flops": "", "cost": ""}).status_code == 302
    run.refresh_from_db()
    assert run.flops == pytest.approx(6e19) and run.cost is None


def test_an_edit_that_makes_the_run_implausible_is_refused_like_the_api(owner, org_a, catalog):
    run = new_run(org_a)
    before = TrainingRun.objects.filter(pk=run.pk).values().get()
    data = as_posted(owner.get(edit_url(run)).context["form"])
    too_fast = "10"  # 1e20 FLOPs in 10 GPU-hours: 890 % of an A100's peak
    page = owner.post(edit_url(run), {**data, "gpu_hours": too_fast})
    assert page.status_code == 200
    api = owner.patch(
        f"/api/v1/orgs/org-a/estimates/runs/{run.pk}/",
        {"gpu_hours": 10},
        content_type="application/json",
    )
    assert api.status_code == 400
    assert page.context["form"].errors["gpu_hours"] == api.json()["gpu_hours"]
    assert "Too few for this compute" in page.context["form"].errors["gpu_hours"][0]
    assert TrainingRun.objects.filter(pk=run.pk).values().get() == before


@pytest.mark.parametrize(
    "field,value,message",
    [
        ("accelerator", "A100", "'A100' is a family"),
        ("accelerator", "A10G", "no peak throughput"),
        ("accelerator", "A1\x0000", ""),
        ("gpu_count", "0", ""),
        ("gpu_count", "many", ""),
        ("gpu_count", str(10**30), ""),
        ("name", "", ""),
        ("flops", "nan", ""),
        ("cost", "-1", ""),
        ("team", str(10**30), ""),
        ("team", "a\x00b", ""),
        ("precision", "fp64", ""),
    ],
)
def test_bad_edits_are_form_errors(owner, org_a, catalog, field, value, message):
    run = new_run(org_a)
    before = TrainingRun.objects.filter(pk=run.pk).values().get()
    data = as_posted(owner.get(edit_url(run)).context["form"])
    response = owner.post(edit_url(run), {**data, field: value})
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert field in errors, errors
    assert message in errors[field][0]
    assert TrainingRun.objects.filter(pk=run.pk).values().get() == before


def test_team_is_set_and_cleared_and_only_from_the_organization(owner, org_a, org_b, catalog):
    run = new_run(org_a)
    team = Team.objects.create(organization=org_a, name="Research")
    foreign = Team.objects.create(organization=org_b, name="Theirs")
    data = as_posted(owner.get(edit_url(run)).context["form"])
    refused = owner.post(edit_url(run), {**data, "team": str(foreign.pk)})
    assert "team" in refused.context["form"].errors
    assert owner.post(edit_url(run), {**data, "team": str(team.pk)}).status_code == 302
    run.refresh_from_db()
    assert run.team == team
    data = as_posted(owner.get(edit_url(run)).context["form"])
    assert data["team"] == team.pk
    assert owner.post(edit_url(run), {**data, "team": ""}).status_code == 302
    run.refresh_from_db()
    assert run.team is None


def test_a_new_run_can_name_its_team(owner, org_a, catalog):
    team = Team.objects.create(organization=org_a, name="Research")
    body = {
        "name": "with team",
        "flops": "1e20",
        "accelerator": "A100-40GB",
        "gpu_count": "8",
        "precision": "bf16",
        "gpu_hours": str(gpu_hours(1e20, 0.45)),
        "team": str(team.pk),
    }
    assert owner.post(RUNS, body).status_code == 302
    assert TrainingRun.objects.get(name="with team").team == team


def test_edit_links_and_access_follow_the_api_roles(
    client, org_a, org_b, alice, bob, charlie, member, catalog
):
    run = new_run(org_a)
    client.force_login(alice)
    assert edit_url(run) in client.get(RUNS).content.decode()
    client.force_login(member(org_a, Role.MEMBER))
    assert edit_url(run) in client.get(RUNS).content.decode()
    assert client.get(edit_url(run)).status_code == 200
    for role in (Role.FINANCE, Role.VIEWER):
        client.force_login(member(org_a, role))
        assert edit_url(run) not in client.get(RUNS).content.decode()
        assert client.get(edit_url(run)).status_code == 403
        assert client.post(edit_url(run), {"name": "x"}).status_code == 403
    client.force_login(charlie)  # another organization
    assert client.get(edit_url(run)).status_code == 404
    theirs = new_run(org_b)
    client.force_login(alice)  # another organization's run under one's own slug
    assert client.get(edit_url(theirs)).status_code == 404
    assert client.get(f"{RUNS}{2**63}/edit/").status_code == 404
    assert TrainingRun.objects.get(pk=run.pk).name == "run"


# --- utilisation samples -----------------------------------------------------------------------

T0 = datetime(2026, 11, 20, 8, tzinfo=UTC)


def store(org, job, count, team=None, source="api", gpus=1, start=T0):
    rows = [
        {"job": job, "gpu_index": gpu, "at": start + i * timedelta(minutes=1), "gpu_utilization": i}
        for i in range(count)
        for gpu in range(gpus)
    ]
    return utilization.store(org, rows, source, team)


def listed(response):
    return [(s.job, s.gpu_index, s.at) for s in response.context["samples"]]


def test_samples_are_listed_newest_first_and_paginated(client, org_a, bob):
    store(org_a, "train", 60, gpus=2)
    client.force_login(bob)  # every role reads
    first = client.get(SAMPLES)
    assert first.status_code == 200
    page = first.context["samples"]
    assert page.paginator.count == 120 and len(page) == 50
    ats = [s.at for s in page]
    assert ats == sorted(ats, reverse=True) and ats[0] == T0 + timedelta(minutes=59)
    assert "page=2" in first.content.decode()
    last = client.get(SAMPLES, {"page": "3"}).context["samples"]
    assert len(last) == 20 and last[len(last) - 1].at == T0
    for bad in ("abc", "0", str(10**30), "a\x00b"):
        assert client.get(SAMPLES, {"page": bad}).status_code == 200


def test_samples_are_filtered_like_the_api(client, org_a, org_b, alice):
    team = Team.objects.create(organization=org_a, name="Research")
    store(org_a, "train", 10, team=team)
    store(org_a, "eval", 5, source="csv", gpus=2)
    store(org_b, "train", 7)  # another organization's: never shown
    client.force_login(alice)
    assert client.get(SAMPLES).context["samples"].paginator.count == 20
    cases = [
        ({"job": "train"}, 10),
        ({"job": "nope"}, 0),
        ({"team": str(team.pk)}, 10),
        ({"source": "csv"}, 10),
        ({"gpu_index": "1"}, 5),
        ({"job": "eval", "gpu_index": "0"}, 5),
        ({"since": "2026-11-20T08:05"}, 5),  # without a zone: UTC
        ({"since": "2026-11-20T09:05+01:00", "until": "2026-11-20T08:08Z"}, 3),
        ({"until": "2026-11-20"}, 0),
    ]
    for query, count in cases:
        response = client.get(SAMPLES, query)
        assert response.context["samples"].paginator.count == count, query
        assert not response.context["filter"].errors, query
        api = client.get("/api/v1/orgs/org-a/estimates/utilization/", query)
        assert api.json()["count"] == count, query


@pytest.mark.parametrize(
    "query",
    [{"team": bad} for bad in BAD_IDS]
    + [
        {"job": "train\x00"},
        {"since": "yesterday"},
        {"since": "2026-13-01"},
        {"since": "0001-01-01T00:00:00+01:00"},
        {"until": "9999-12-31T23:59:59-01:00"},
        {"until": "2026-11-20T08:00:00+99:00"},
        {"source": "mail"},
        {"gpu_index": "x"},
    ],
)
def test_bad_sample_filters_are_messages_not_500s(client, org_a, alice, query):
    store(org_a, "train", 3, gpus=2)
    client.force_login(alice)
    response = client.get(SAMPLES, {"gpu_index": "0", **query})
    assert response.status_code == 200
    field = next(iter(query))
    assert field in response.context["filter"].errors
    assert 'role="alert"' in response.content.decode()
    # the filter is not applied; the good ones are
    assert response.context["samples"].paginator.count == (6 if field == "gpu_index" else 3)


def test_api_far_dates_are_400_not_500(client, org_a, alice):
    client.force_login(alice)
    response = client.get(
        "/api/v1/orgs/org-a/estimates/utilization/", {"since": "0001-01-01T00:00:00+01:00"}
    )
    assert response.status_code == 400 and "since" in response.json()


def test_another_organizations_team_filter_shows_nothing(client, org_a, org_b, alice):
    theirs = Team.objects.create(organization=org_b, name="Theirs")
    store(org_b, "train", 3, team=theirs)
    store(org_a, "train", 3)
    client.force_login(alice)
    response = client.get(SAMPLES, {"team": str(theirs.pk)})
    assert response.status_code == 200 and response.context["samples"].paginator.count == 0
    assert "Theirs" not in response.content.decode()


def test_rightsizing_and_the_navigation_link_to_the_samples(client, org_a, alice, catalog):
    store(org_a, "llm pretrain", 3, start=datetime.now(UTC) - timedelta(hours=1))
    client.force_login(alice)
    page = client.get("/o/org-a/estimates/rightsizing/").content.decode()
    assert f'href="{SAMPLES}"' in page
    assert f"{SAMPLES}?job=llm%20pretrain" in page
    samples = client.get(SAMPLES, {"job": "llm pretrain"})
    assert samples.context["samples"].paginator.count == 3
    assert 'aria-current="page">GPU samples' in samples.content.decode()
    assert UtilizationSample.objects.count() == 3
