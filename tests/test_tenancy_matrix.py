"""Every org-scoped page and endpoint against every kind of caller (DESIGN.md §3, §8).

API: owner/admin/finance/member/viewer sessions, an outsider, anonymous, write and read tokens,
a viewer's write token, revoked and expired tokens, another organization's token; and foreign
ids under one's own slug. Pages: the same people by session.
"""

import pytest
from django.forms.models import model_to_dict
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from costsite.orgs.roles import Role
from costsite.orgs.tokens import issue_token
from tests.conftest import api_client
from tests.tenancy import API_CASES, PAGE_CASES

ROLES = [Role.OWNER, Role.ADMIN, Role.FINANCE, Role.MEMBER, Role.VIEWER]
API_ACTORS = [
    *ROLES,
    "outsider",
    "anonymous",
    "owner_write_token",
    "owner_read_token",
    "viewer_write_token",
    "revoked_token",
    "expired_token",
    "other_org_token",
]
PAGE_ACTORS = [*ROLES, "outsider", "anonymous"]


def url_patterns():
    """(URL name with namespace, route, URLPattern) of every named route in the live URL
    configuration."""

    def walk(patterns, prefix="", namespace=None):
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                ns = pattern.namespace
                inner = f"{namespace}:{ns}" if namespace and ns else (ns or namespace)
                yield from walk(pattern.url_patterns, route, inner)
            elif isinstance(pattern, URLPattern) and pattern.name:
                name = f"{namespace}:{pattern.name}" if namespace else pattern.name
                yield name, route, pattern

    return list(walk(get_resolver().url_patterns))


def url_routes():
    """(URL name with namespace, route) of every route in the live URL configuration."""
    return [(name, route) for name, route, _ in url_patterns()]


def org_scoped_url_names():
    """URL names of every route with <org_slug> in it."""
    return {name for name, route in url_routes() if "org_slug" in route}


def api_paths_outside_organizations():
    """Paths of the API routes without <org_slug> (the caller's organization list)."""
    names = {n for n, route in url_routes() if n.startswith("api:") and "org_slug" not in route}
    return sorted(reverse(name) for name in names if name != "api:api-root")


def test_every_org_scoped_url_is_in_the_matrix():
    covered = {case.url_name for case in API_CASES + PAGE_CASES}
    missing = org_scoped_url_names() - covered
    assert not missing, f"add tenancy cases for: {sorted(missing)}"


def routed_api_methods():
    """(URL name, method) of every method the router sends to an org-scoped API view, including
    methods the view then refuses with 405 (a viewset's http_method_names), so that those are
    checked to pass the organization and role checks like the others."""
    routed = set()
    for name, route, pattern in url_patterns():
        if not name.startswith("api:") or "org_slug" not in route:
            continue
        callback = pattern.callback
        if getattr(callback, "actions", None):  # a viewset: the router's method -> action map
            methods = set(callback.actions)
        else:  # an APIView: the handlers it defines
            view = callback.cls
            methods = {m for m in view.http_method_names if hasattr(view, m)}
        routed |= {(name, method) for method in methods - {"head", "options"}}
    return routed


def test_every_routed_api_method_is_in_the_matrix():
    routed = routed_api_methods()
    assert ("api:membership-detail", "put") in routed  # the walk sees refused methods too
    covered = {(case.url_name, case.method) for case in API_CASES}
    missing = routed - covered
    assert not missing, f"add tenancy cases for: {sorted(missing)}"


def make_actor(actor, org_a, org_b, member):
    """(user whose session is used or None, token text or None, effective role or None)."""
    from costsite.orgs.models import Membership

    owner = Membership.objects.for_org(org_a).get(role=Role.OWNER).user
    if actor in ROLES:
        user = owner if actor == Role.OWNER else member(org_a, actor)
        return user, None, actor
    if actor == "outsider":
        return Membership.objects.for_org(org_b).get(role=Role.OWNER).user, None, None
    if actor == "anonymous":
        return None, None, None
    if actor == "owner_write_token":
        return owner, issue_token(org_a, owner, "w", "write")[1], Role.OWNER
    if actor == "owner_read_token":
        return owner, issue_token(org_a, owner, "r", "read")[1], Role.VIEWER
    if actor == "viewer_write_token":
        viewer = member(org_a, Role.VIEWER)
        return viewer, issue_token(org_a, viewer, "w", "write")[1], Role.VIEWER
    if actor == "revoked_token":
        token, text = issue_token(org_a, owner, "x", "write")
        token.revoked_at = token.created_at
        token.save()
        return owner, text, None
    if actor == "expired_token":
        token, text = issue_token(org_a, owner, "x", "write", expires_at=owner.date_joined)
        return owner, text, None
    if actor == "other_org_token":
        other = Membership.objects.for_org(org_b).get(role=Role.OWNER).user
        return other, issue_token(org_b, other, "w", "write")[1], None
    raise AssertionError(actor)


def expected_api_status(case, actor, role):
    if actor in ("anonymous", "revoked_token", "expired_token"):
        return 401
    if actor in ("outsider", "other_org_token"):
        return 404
    is_token = actor.endswith("_token")
    if is_token and case.session_only:
        return 403
    if actor == "owner_read_token" and case.method not in ("get", "head") and not case.computation:
        return 403
    return case.ok if role in case.allowed else 403


def call(client, case, url, org):
    return getattr(client, case.method)(
        url, case.data(org), format="multipart" if case.multipart else "json"
    )


def use_fixtures(case, request):
    for name in case.fixtures:
        request.getfixturevalue(name)


@pytest.mark.parametrize("actor", API_ACTORS)
@pytest.mark.parametrize("case", API_CASES, ids=lambda c: c.id)
def test_api_matrix(case, actor, org_a, org_b, member, request):
    use_fixtures(case, request)
    user, token, role = make_actor(actor, org_a, org_b, member)
    obj = case.obj(org_a, user) if case.obj else None
    client = api_client(user=None if token else user, token=token)
    response = call(client, case, case.url(org_a.slug, obj.pk if obj else None), org_a)
    assert response.status_code == expected_api_status(case, actor, role), response.content


FOREIGN_ID_CALLERS = {
    "owner_session": lambda org, owner: api_client(user=owner),
    "owner_write_token": lambda org, owner: api_client(
        token=issue_token(org, owner, "w", "write")[1]
    ),
}


# Session-only endpoints refuse tokens with 403 before looking anything up (the matrix checks it).
# A method the endpoint lacks (ok=405) is refused before any lookup too, whatever the id:
# test_api_missing_method_answers_alike_for_any_id checks that.
FOREIGN_ID_PARAMS = [
    pytest.param(case, caller, id=f"{case.id}-{caller}")
    for case in API_CASES
    if case.obj and case.ok != 405
    for caller in FOREIGN_ID_CALLERS
    if not (case.session_only and caller != "owner_session")
]


@pytest.mark.parametrize(("case", "caller"), FOREIGN_ID_PARAMS)
def test_api_foreign_id_under_own_slug_is_404(case, caller, org_a, org_b, alice, request):
    """Org B's object addressed under org A's slug, by A's owner: as if it did not exist."""
    use_fixtures(case, request)
    foreign = case.obj(org_b, None)
    client = FOREIGN_ID_CALLERS[caller](org_a, alice)
    response = call(client, case, case.url(org_a.slug, foreign.pk), org_a)
    assert response.status_code == 404


@pytest.mark.parametrize("case", [c for c in API_CASES if c.ok == 405], ids=lambda c: c.id)
def test_api_missing_method_answers_alike_for_any_id(case, org_a, org_b, alice, request):
    """Own, foreign or unknown id: the same 405, so it tells nothing about other organizations'
    rows; and the refused request changes nothing."""
    use_fixtures(case, request)
    client = api_client(user=alice)
    rows = case.obj(org_a, alice), case.obj(org_b, None)
    before = [model_to_dict(row) for row in rows]
    for obj_id in (rows[0].pk, rows[1].pk, 999_999):
        response = call(client, case, case.url(org_a.slug, obj_id), org_a)
        assert response.status_code == 405, (obj_id, response.content)
    assert [model_to_dict(type(row).objects.get(pk=row.pk)) for row in rows] == before


@pytest.mark.parametrize("case", [c for c in API_CASES if c.method == "get"], ids=lambda c: c.id)
def test_api_unknown_slug_is_404_like_a_foreign_one(case, org_a, alice, request):
    use_fixtures(case, request)
    obj = case.obj(org_a, alice) if case.obj else None
    response = api_client(user=alice).get(case.url("no-such-org", obj.pk if obj else None))
    assert response.status_code == 404


@pytest.mark.parametrize("actor", PAGE_ACTORS)
@pytest.mark.parametrize("case", PAGE_CASES, ids=lambda c: c.id)
def test_page_matrix(case, actor, org_a, org_b, member, client, request):
    use_fixtures(case, request)
    user, _, role = make_actor(actor, org_a, org_b, member)
    obj = case.obj(org_a, user) if case.obj else None
    if user is not None:
        client.force_login(user)
    url = case.url(org_a.slug, obj.pk if obj else None)
    response = getattr(client, case.method)(url, case.data(org_a) or {})
    if actor == "anonymous":
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
    elif actor == "outsider":
        assert response.status_code == 404
    else:
        assert response.status_code == (case.ok if role in case.allowed else 403)


@pytest.mark.parametrize("case", [c for c in PAGE_CASES if c.obj], ids=lambda c: c.id)
def test_page_foreign_id_under_own_slug_is_404(case, org_a, org_b, alice, client, request):
    use_fixtures(case, request)
    foreign = case.obj(org_b, None)
    client.force_login(alice)
    response = getattr(client, case.method)(
        case.url(org_a.slug, foreign.pk), case.data(org_a) or {}
    )
    assert response.status_code == 404


def test_org_list_shows_only_the_callers_organizations(org_a, org_b, alice, charlie):
    slugs = [o["slug"] for o in api_client(user=alice).get("/api/v1/orgs/").json()["results"]]
    assert slugs == ["org-a"]
    token = issue_token(org_b, charlie, "t", "read")[1]
    slugs = [o["slug"] for o in api_client(token=token).get("/api/v1/orgs/").json()["results"]]
    assert slugs == ["org-b"]


def test_org_list_needs_credentials(db):
    assert api_client().get("/api/v1/orgs/").status_code == 401


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("credentials", ["revoked_token", "expired_token", "bad_token"])
def test_api_outside_organizations_refuses_bad_tokens(credentials, method, request, db):
    token = "cst_notatoken" if credentials == "bad_token" else request.getfixturevalue(credentials)
    client = api_client(token=token)
    paths = api_paths_outside_organizations()
    assert paths
    for path in paths:
        assert getattr(client, method)(path, {}).status_code == 401, path


def test_creating_an_organization_needs_a_session(org_a, alice, alice_write_token):
    body = {"name": "Second org"}
    assert api_client(token=alice_write_token).post("/api/v1/orgs/", body).status_code == 403
    response = api_client(user=alice).post("/api/v1/orgs/", body)
    assert response.status_code == 201
    assert response.json()["role"] == "owner"


POSTED_PAGES = {c.url_name for c in PAGE_CASES if c.method != "get"}
READ_ONLY_PAGES = [c for c in PAGE_CASES if c.method == "get" and c.url_name not in POSTED_PAGES]


@pytest.mark.parametrize("case", READ_ONLY_PAGES, ids=lambda c: c.id)
def test_read_only_pages_refuse_writes(case, org_a, alice, client, request):
    """A page that only shows things answers 405 to a POST, even from its owner."""
    use_fixtures(case, request)
    obj = case.obj(org_a, alice) if case.obj else None
    client.force_login(alice)
    assert client.post(case.url(org_a.slug, obj.pk if obj else None)).status_code == 405
