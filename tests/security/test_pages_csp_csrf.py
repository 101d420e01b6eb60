"""Every page: served with the Content-Security-Policy, free of what it forbids (inline script,
style and handlers), and every POST form carries a CSRF token that the server requires."""

from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.test import Client
from django.utils import timezone

from budgets.models import Budget, Expense
from costsite.orgs.invitations import create_invitation
from costsite.orgs.roles import Role
from tests.security.html import POST_FORM, TEMPLATE_RULES, scan
from tests.tenancy import PAGE_CASES

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
STATIC = Path(__file__).resolve().parents[2] / "static"
POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "object-src": "'none'",
    "base-uri": "'none'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
}
GET_CASES = [c for c in PAGE_CASES if c.method == "get"]
POST_CASES = [c for c in PAGE_CASES if c.method == "post"]


def policy_of(response):
    header = response.headers.get("Content-Security-Policy", "")
    return dict(part.strip().split(" ", 1) for part in header.split(";") if part.strip())


def assert_clean(response):
    html = response.content.decode()
    assert policy_of(response) == POLICY
    found = scan(html)
    assert found.violations == []
    assert found.post_forms == found.post_forms_with_token, "a POST form without a CSRF token"


@pytest.fixture
def spend(org_a):
    """Rows that make budget pages draw their progress bars."""
    Budget.objects.create(organization=org_a, name="GPU", amount=Decimal("1000"))
    Expense.objects.create(
        organization=org_a,
        amount=Decimal("250"),
        provider="aws",
        service="EC2",
        incurred_at=timezone.now(),
        source="manual",
    )


@pytest.mark.parametrize("case", GET_CASES, ids=lambda c: c.id)
def test_every_org_page_has_the_policy_and_nothing_inline(case, org_a, alice, spend, request):
    for name in case.fixtures:
        request.getfixturevalue(name)
    obj = case.obj(org_a, alice) if case.obj else None
    client = Client()
    client.force_login(alice)
    response = client.get(case.url(org_a.slug, obj.pk if obj else None))
    assert response.status_code == 200
    if response["Content-Type"].startswith("text/html"):
        assert_clean(response)
    else:  # exports (CSV)
        assert policy_of(response) == POLICY


def test_budget_bars_carry_their_width_as_data(client, org_a, alice, spend):
    client.force_login(alice)
    html = client.get("/o/org-a/budgets/").content.decode()
    assert 'data-width="25.0"' in html and "style=" not in html


@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/accounts/login/",
        "/accounts/signup/",
        "/accounts/password/reset/",
        "/accounts/password/reset/sent/",
    ],
)
def test_public_pages_have_the_policy_and_nothing_inline(client, db, url):
    response = client.get(url)
    assert response.status_code == 200
    assert_clean(response)


def test_invitation_page_has_the_policy_and_nothing_inline(client, org_a, alice):
    _, secret = create_invitation(org_a, "new@example.com", Role.MEMBER, alice)
    response = client.get(f"/invite/{secret}/")
    assert response.status_code == 200
    assert_clean(response)


@pytest.mark.parametrize("url", ["/orgs/new/", "/accounts/password/"])
def test_account_pages_have_the_policy_and_nothing_inline(client, alice, url):
    client.force_login(alice)
    response = client.get(url)
    assert response.status_code == 200
    assert_clean(response)


def test_api_docs_work_under_the_policy(client, db):
    """drf-spectacular's Swagger page has inline script and style; templates/drf_spectacular/
    overrides it with static files, so the strict policy applies unchanged."""
    response = client.get("/api/docs/")
    assert response.status_code == 200
    assert_clean(response)
    html = response.content.decode()
    assert "js/swagger-init.js" in html and 'data-schema-url="/api/schema/"' in html
    assert finders.find("js/swagger-init.js") and finders.find("css/swagger.css")


@pytest.mark.parametrize(
    "url",
    [
        "/admin/",
        "/admin/login/",
        "/admin/orgs/team/",
        "/admin/orgs/team/add/",
        "/admin/budgets/expense/",
        "/admin/accounts/user/",
    ],
)
def test_admin_pages_have_the_policy_and_nothing_inline(client, org_a, alice, url):
    alice.is_staff = alice.is_superuser = True
    alice.save()
    if url != "/admin/login/":
        client.force_login(alice)
    response = client.get(url)
    assert response.status_code == 200
    assert policy_of(response) == POLICY
    assert scan(response.content.decode()).violations == []


def template_sources():
    return sorted(TEMPLATES.rglob("*.html"))


@pytest.mark.parametrize("path", template_sources(), ids=lambda p: str(p.relative_to(TEMPLATES)))
def test_templates_have_nothing_inline(path):
    source = path.read_text()
    broken = [rule for rule, pattern in TEMPLATE_RULES.items() if pattern.search(source)]
    assert broken == []


@pytest.mark.parametrize("path", template_sources(), ids=lambda p: str(p.relative_to(TEMPLATES)))
def test_every_post_form_in_templates_has_a_csrf_token(path):
    for form in POST_FORM.findall(path.read_text()):
        assert "{% csrf_token %}" in form


def test_static_scripts_write_no_markup_with_inline_handlers():
    for script in (STATIC / "js").glob("*.js"):
        source = script.read_text()
        assert "innerHTML" not in source and "javascript:" not in source, script.name


def test_the_scanner_finds_what_the_policy_forbids():
    found = scan(
        '<div style="width:3%"></div><button onclick="x()"></button><a href="javascript:x()">'
        "</a><script>alert(1)</script><style>p{}</style>"
        '<script type="application/json" id="d">{}</script><script src="/s.js"></script>'
        '<form method="post"><input name="x"></form>'
    )
    assert len(found.violations) == 5
    assert (found.post_forms, found.post_forms_with_token) == (1, 0)


@pytest.mark.parametrize("case", POST_CASES, ids=lambda c: c.id)
def test_posts_without_the_csrf_token_are_refused(case, org_a, alice, request):
    for name in case.fixtures:
        request.getfixturevalue(name)
    obj = case.obj(org_a, alice) if case.obj else None
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    response = client.post(case.url(org_a.slug, obj.pk if obj else None), case.data(org_a) or {})
    assert response.status_code == 403
    assert b"CSRF" in response.content


def test_posts_with_the_csrf_token_pass(org_a, alice):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    page = client.get("/o/org-a/teams/")
    token = page.cookies["csrftoken"].value
    response = client.post("/o/org-a/teams/", {"name": "Ok", "csrfmiddlewaretoken": token})
    assert response.status_code == 302


@pytest.mark.parametrize(
    "url", ["/accounts/login/", "/accounts/signup/", "/accounts/password/reset/"]
)
def test_public_forms_refuse_posts_without_the_token(db, url):
    response = Client(enforce_csrf_checks=True).post(url, {"username": "x", "password": "y"})
    assert response.status_code == 403
