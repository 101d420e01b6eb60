"""The tenancy matrix: every org-scoped page and endpoint, who may call it, and what it needs.

A case names the URL (by its URL name, so tests/test_tenancy_matrix.py can check that every
org-scoped URL in the URL configuration has a case), the method, the roles allowed, a body and,
for detail URLs, a factory for the object in the URL. Later apps add their cases here.
"""

from dataclasses import dataclass

from costsite.notify.channels import create_channel
from costsite.notify.models import ChannelKind
from costsite.orgs.invitations import create_invitation
from costsite.orgs.models import Membership, Team
from costsite.orgs.roles import (
    FINANCE_WRITERS,
    MANAGERS,
    OPERATORS,
    READERS,
    SPEND_WRITERS,
    Role,
)
from costsite.orgs.tokens import issue_token


def new_member(org, actor):
    from costsite.accounts.models import User

    n = Membership.objects.count()
    user = User.objects.create_user(f"target{n}@{org.slug}.example", "pw")
    return Membership.objects.create(organization=org, user=user, role=Role.VIEWER)


def new_invitation(org, actor):
    return create_invitation(org, "invitee@example.com", Role.MEMBER, None)[0]


def new_team(org, actor):
    return Team.objects.create(organization=org, name=f"Team {Team.objects.count()}")


def new_token(org, actor):
    """The actor's own token when they belong to org, else the owner's."""
    owner = Membership.objects.for_org(org).filter(role=Role.OWNER).first().user
    creator = actor if actor and actor.memberships.filter(organization=org).exists() else owner
    return issue_token(org, creator, "matrix", "read")[0]


def new_channel(org, actor):
    return create_channel(org, "Ops email", ChannelKind.EMAIL, "ops@example.com")


def new_webhook(org, actor):
    return create_channel(org, "Hook", ChannelKind.WEBHOOK, "https://hooks.example.com/x")


def new_saved_estimate(org, actor):
    from estimates.models import SavedEstimate

    return SavedEstimate.objects.create(
        organization=org,
        name="saved",
        kind="estimate",
        inputs=ESTIMATE_BODY,
        result={"total_cost": "30.6000", "currency": "USD", "breakdown": {}, "assumptions": []},
    )


def new_org_price(org, actor):
    from estimates.models import InstanceType, Price, Region

    return Price.objects.create(
        organization=org,
        instance_type=InstanceType.objects.get(name="p3.2xlarge"),
        region=Region.objects.get(code="us-east-1"),
        purchase_option="on_demand",
        price_per_hour="2.5",
        source="test",
        as_of="2026-01-01",
    )


def new_discount(org, actor):
    from estimates.models import ProviderDiscount

    return ProviderDiscount.objects.create(organization=org, provider="gcp", percent="5")


def price_list_file(org=None):
    from django.core.files.uploadedfile import SimpleUploadedFile

    content = b"provider,region,instance_type,purchase_option,price_per_hour,currency\n"
    content += b"aws,us-east-1,p3.2xlarge,on_demand,2.50,USD\n"
    return {"file": SimpleUploadedFile("prices.csv", content, "text/csv")}


ESTIMATE_BODY = {
    "provider": "aws",
    "region": "us-east-1",
    "instance_type": "p3.2xlarge",
    "hours": 10,
}
COMPARE_BODY = {"accelerator": "A100", "gpu_count": 8, "hours": 10}
COMMITMENT_BODY = {
    "provider": "aws",
    "region": "us-east-1",
    "instance_type": "p3.2xlarge",
    "instance_hours_per_week": 100,
}
CI_PLAN_BODY = {
    "tests": [{"name": "unit", "test_type": "unit", "runs_per_week": 10, "minutes_per_run": 5}]
}
CATALOG = ("catalog",)


@dataclass(frozen=True)
class Case:
    url_name: str
    method: str
    path: str  # with {org} and, for detail URLs, {id}
    allowed: frozenset
    ok: int
    body: object = None  # a dict, or a callable(org) returning one (fresh files, new rows)
    obj: object = None  # factory(org, actor) for {id}
    session_only: bool = False
    computation: bool = False  # a POST that writes nothing: read tokens may call it
    fixtures: tuple = ()  # pytest fixtures the case needs (e.g. the catalogue)
    multipart: bool = False  # send the body as a form upload instead of JSON

    def data(self, org):
        return self.body(org) if callable(self.body) else self.body

    @property
    def id(self):
        return f"{self.url_name}:{self.method}"

    def url(self, org_slug, obj_id=None):
        return self.path.format(org=org_slug, id=obj_id)


API = "/api/v1/orgs/{org}"

API_CASES = [
    Case("api:organization-detail", "get", API + "/", READERS, 200),
    Case("api:organization-detail", "patch", API + "/", MANAGERS, 200, {"name": "Renamed"}),
    Case(
        "api:organization-detail",
        "put",
        API + "/",
        MANAGERS,
        200,
        {"name": "Put name", "time_zone": "UTC", "currency": "EUR"},
    ),
    Case("api:membership-list", "get", API + "/members/", READERS, 200),
    Case("api:membership-detail", "get", API + "/members/{id}/", READERS, 200, obj=new_member),
    Case(
        "api:membership-detail",
        "patch",
        API + "/members/{id}/",
        MANAGERS,
        200,
        {"role": "member"},
        obj=new_member,
    ),
    # No PUT: a member changes by role only (PATCH). The router still routes PUT to the viewset,
    # so it passes the same organization and role checks before the 405.
    Case(
        "api:membership-detail",
        "put",
        API + "/members/{id}/",
        MANAGERS,
        405,
        {"role": "member"},
        obj=new_member,
    ),
    Case("api:membership-detail", "delete", API + "/members/{id}/", MANAGERS, 204, obj=new_member),
    Case("api:invitation-list", "get", API + "/invitations/", MANAGERS, 200),
    Case(
        "api:invitation-list",
        "post",
        API + "/invitations/",
        MANAGERS,
        201,
        {"email": "new@example.com", "role": "member"},
    ),
    Case(
        "api:invitation-detail",
        "get",
        API + "/invitations/{id}/",
        MANAGERS,
        200,
        obj=new_invitation,
    ),
    Case(
        "api:invitation-detail",
        "delete",
        API + "/invitations/{id}/",
        MANAGERS,
        204,
        obj=new_invitation,
    ),
    Case("api:team-list", "get", API + "/teams/", READERS, 200),
    Case("api:team-list", "post", API + "/teams/", MANAGERS, 201, {"name": "Matrix team"}),
    Case("api:team-detail", "get", API + "/teams/{id}/", READERS, 200, obj=new_team),
    Case(
        "api:team-detail",
        "patch",
        API + "/teams/{id}/",
        MANAGERS,
        200,
        {"description": "x"},
        obj=new_team,
    ),
    Case(
        "api:team-detail",
        "put",
        API + "/teams/{id}/",
        MANAGERS,
        200,
        {"name": "Put team"},
        obj=new_team,
    ),
    Case("api:team-detail", "delete", API + "/teams/{id}/", MANAGERS, 204, obj=new_team),
    Case("api:apitoken-list", "get", API + "/tokens/", READERS, 200, session_only=True),
    Case(
        "api:apitoken-list",
        "post",
        API + "/tokens/",
        READERS,
        201,
        {"name": "ci", "scope": "read"},
        session_only=True,
    ),
    Case(
        "api:apitoken-detail",
        "get",
        API + "/tokens/{id}/",
        READERS,
        200,
        obj=new_token,
        session_only=True,
    ),
    Case(
        "api:apitoken-detail",
        "delete",
        API + "/tokens/{id}/",
        READERS,
        204,
        obj=new_token,
        session_only=True,
    ),
    Case("api:channel-list", "get", API + "/channels/", READERS, 200),
    Case(
        "api:channel-list",
        "post",
        API + "/channels/",
        MANAGERS,
        201,
        {"name": "Ops", "kind": "email", "target": "ops@example.com"},
    ),
    Case("api:channel-detail", "get", API + "/channels/{id}/", READERS, 200, obj=new_channel),
    Case(
        "api:channel-detail",
        "patch",
        API + "/channels/{id}/",
        MANAGERS,
        200,
        {"enabled": False},
        obj=new_channel,
    ),
    Case(
        "api:channel-detail",
        "put",
        API + "/channels/{id}/",
        MANAGERS,
        200,
        {"name": "Ops", "kind": "email", "target": "ops2@example.com"},
        obj=new_channel,
    ),
    Case("api:channel-detail", "delete", API + "/channels/{id}/", MANAGERS, 204, obj=new_channel),
    Case("api:channel-test", "post", API + "/channels/{id}/test", MANAGERS, 202, obj=new_channel),
    Case(
        "api:channel-rotate-secret",
        "post",
        API + "/channels/{id}/rotate-secret/",
        MANAGERS,
        200,
        obj=new_webhook,
    ),
    Case(
        "api:channel-deliveries",
        "get",
        API + "/channels/{id}/deliveries/",
        READERS,
        200,
        obj=new_channel,
    ),
]


def computation(name, path, body):
    return Case(name, "post", API + path, READERS, 200, body, computation=True, fixtures=CATALOG)


def catalogue_read(name, path):
    return Case(name, "get", API + path, READERS, 200, fixtures=CATALOG)


EST = API + "/estimates"
API_CASES += [
    computation("api:estimates-estimate", "/estimates/estimate", ESTIMATE_BODY),
    computation("api:estimates-compare", "/estimates/compare", COMPARE_BODY),
    computation("api:estimates-commitments", "/estimates/commitments", COMMITMENT_BODY),
    computation("api:estimates-ci-plan", "/estimates/ci-plan", CI_PLAN_BODY),
    Case("api:saved-estimate-list", "get", EST + "/saved/", READERS, 200),
    Case(
        "api:saved-estimate-list",
        "post",
        EST + "/saved/",
        OPERATORS,
        201,
        {"name": "run", "kind": "estimate", "inputs": ESTIMATE_BODY},
        fixtures=CATALOG,
    ),
    Case(
        "api:saved-estimate-detail",
        "get",
        EST + "/saved/{id}/",
        READERS,
        200,
        obj=new_saved_estimate,
    ),
    Case(
        "api:saved-estimate-detail",
        "delete",
        EST + "/saved/{id}/",
        OPERATORS,
        204,
        obj=new_saved_estimate,
    ),
    Case("api:org-price-list", "get", EST + "/price-list/prices/", READERS, 200),
    Case(
        "api:org-price-upload",
        "post",
        EST + "/price-list/prices/upload",
        FINANCE_WRITERS,
        200,
        {
            "prices": [
                {
                    "provider": "aws",
                    "region": "us-east-1",
                    "instance_type": "p3.2xlarge",
                    "price_per_hour": "2.5",
                }
            ]
        },
        fixtures=CATALOG,
    ),
    Case(
        "api:org-price-detail",
        "get",
        EST + "/price-list/prices/{id}/",
        READERS,
        200,
        obj=new_org_price,
        fixtures=CATALOG,
    ),
    Case(
        "api:org-price-detail",
        "delete",
        EST + "/price-list/prices/{id}/",
        FINANCE_WRITERS,
        204,
        obj=new_org_price,
        fixtures=CATALOG,
    ),
    Case("api:discount-list", "get", EST + "/price-list/discounts/", READERS, 200),
    Case(
        "api:discount-list",
        "post",
        EST + "/price-list/discounts/",
        FINANCE_WRITERS,
        201,
        {"provider": "aws", "percent": "10"},
    ),
    Case(
        "api:discount-detail",
        "get",
        EST + "/price-list/discounts/{id}/",
        READERS,
        200,
        obj=new_discount,
    ),
    Case(
        "api:discount-detail",
        "patch",
        EST + "/price-list/discounts/{id}/",
        FINANCE_WRITERS,
        200,
        {"percent": "7.5"},
        obj=new_discount,
    ),
    Case(
        "api:discount-detail",
        "put",
        EST + "/price-list/discounts/{id}/",
        FINANCE_WRITERS,
        200,
        {"provider": "gcp", "percent": "7.5"},
        obj=new_discount,
    ),
    Case(
        "api:discount-detail",
        "delete",
        EST + "/price-list/discounts/{id}/",
        FINANCE_WRITERS,
        204,
        obj=new_discount,
    ),
    catalogue_read("api:catalog-regions", "/catalog/regions/"),
    catalogue_read("api:catalog-accelerators", "/catalog/accelerators/"),
    catalogue_read("api:catalog-instance-types", "/catalog/instance-types/"),
    catalogue_read("api:catalog-storage-rates", "/catalog/storage-rates/"),
    catalogue_read("api:catalog-egress-rates", "/catalog/egress-rates/"),
    catalogue_read("api:catalog-prices", "/catalog/prices/?provider=aws"),
]

PAGE = "/o/{org}"

PAGE_CASES = [
    Case("orgs:overview", "get", PAGE + "/", READERS, 200),
    Case("orgs:settings", "get", PAGE + "/settings/", MANAGERS, 200),
    Case(
        "orgs:settings",
        "post",
        PAGE + "/settings/",
        MANAGERS,
        302,
        {"name": "Renamed", "time_zone": "Europe/Paris", "currency": "EUR"},
    ),
    Case("orgs:members", "get", PAGE + "/members/", READERS, 200),
    Case(
        "orgs:members",
        "post",
        PAGE + "/members/",
        MANAGERS,
        200,
        {"email": "new@example.com", "role": "member"},
    ),
    Case(
        "orgs:change-role",
        "post",
        PAGE + "/members/{id}/role/",
        MANAGERS,
        302,
        {"role": "member"},
        obj=new_member,
    ),
    Case(
        "orgs:remove-member", "post", PAGE + "/members/{id}/remove/", MANAGERS, 302, obj=new_member
    ),
    Case(
        "orgs:revoke-invitation",
        "post",
        PAGE + "/invitations/{id}/revoke/",
        MANAGERS,
        302,
        obj=new_invitation,
    ),
    Case("orgs:teams", "get", PAGE + "/teams/", READERS, 200),
    Case("orgs:teams", "post", PAGE + "/teams/", MANAGERS, 302, {"name": "Page team"}),
    Case("orgs:team", "get", PAGE + "/teams/{id}/", READERS, 200, obj=new_team),
    Case(
        "orgs:team", "post", PAGE + "/teams/{id}/", MANAGERS, 302, {"name": "Edited"}, obj=new_team
    ),
    Case("orgs:delete-team", "post", PAGE + "/teams/{id}/delete/", MANAGERS, 302, obj=new_team),
    Case("orgs:tokens", "get", PAGE + "/tokens/", READERS, 200),
    Case("orgs:tokens", "post", PAGE + "/tokens/", READERS, 200, {"name": "ci", "scope": "read"}),
    Case("orgs:revoke-token", "post", PAGE + "/tokens/{id}/revoke/", READERS, 302, obj=new_token),
    Case("notify:list", "get", PAGE + "/channels/", READERS, 200),
    Case(
        "notify:list",
        "post",
        PAGE + "/channels/",
        MANAGERS,
        302,
        {"name": "Ops", "kind": "email", "target": "ops@example.com", "enabled": "on"},
    ),
    Case("notify:detail", "get", PAGE + "/channels/{id}/", READERS, 200, obj=new_channel),
    Case(
        "notify:detail",
        "post",
        PAGE + "/channels/{id}/",
        MANAGERS,
        302,
        {"name": "Renamed", "target": "ops@example.com", "enabled": "on"},
        obj=new_channel,
    ),
    Case("notify:test", "post", PAGE + "/channels/{id}/test/", MANAGERS, 302, obj=new_channel),
    Case(
        "notify:rotate-secret",
        "post",
        PAGE + "/channels/{id}/rotate-secret/",
        MANAGERS,
        200,
        obj=new_webhook,
    ),
    Case("notify:delete", "post", PAGE + "/channels/{id}/delete/", MANAGERS, 302, obj=new_channel),
]


EP = PAGE + "/estimates"


def page_computation(name, path, body):
    return [
        Case(name, "get", EP + path, READERS, 200, fixtures=CATALOG),
        Case(name, "post", EP + path, READERS, 200, body, computation=True, fixtures=CATALOG),
    ]


PAGE_CASES += [
    *page_computation(
        "estimates:estimate",
        "/",
        {
            **ESTIMATE_BODY,
            "nodes": 1,
            "purchase_option": "on_demand",
            "storage_gb": 0,
            "storage_class": "object-standard",
            "egress_gb": 0,
            "egress_kind": "internet",
        },
    ),
    *page_computation("estimates:compare", "/compare/", {**COMPARE_BODY, "max_results": 5}),
    *page_computation("estimates:commitments", "/commitments/", COMMITMENT_BODY),
    *page_computation(
        "estimates:ci-plan",
        "/ci-plan/",
        {
            "tests-TOTAL_FORMS": "1",
            "tests-INITIAL_FORMS": "0",
            "tests-MIN_NUM_FORMS": "1",
            "tests-MAX_NUM_FORMS": "50",
            "tests-0-name": "unit",
            "tests-0-test_type": "unit",
            "tests-0-runs_per_week": "10",
            "tests-0-minutes_per_run": "5",
            "tests-0-shards": "1",
        },
    ),
    Case("estimates:saved", "get", EP + "/saved/", READERS, 200),
    Case(
        "estimates:saved-detail", "get", EP + "/saved/{id}/", READERS, 200, obj=new_saved_estimate
    ),
    Case(
        "estimates:saved-delete",
        "post",
        EP + "/saved/{id}/delete/",
        OPERATORS,
        302,
        obj=new_saved_estimate,
    ),
    Case("estimates:catalogue", "get", EP + "/catalogue/", READERS, 200, fixtures=CATALOG),
    Case("estimates:price-list", "get", EP + "/prices/", READERS, 200),
    Case(
        "estimates:price-list",
        "post",
        EP + "/prices/",
        FINANCE_WRITERS,
        302,
        price_list_file,
        fixtures=CATALOG,
    ),
    Case(
        "estimates:price-delete",
        "post",
        EP + "/prices/{id}/delete/",
        FINANCE_WRITERS,
        302,
        obj=new_org_price,
        fixtures=CATALOG,
    ),
    Case(
        "estimates:discount-delete",
        "post",
        EP + "/discounts/{id}/delete/",
        FINANCE_WRITERS,
        302,
        obj=new_discount,
    ),
]


# --- budgets -----------------------------------------------------------------------------------


def new_budget(org, actor):
    from budgets.models import Budget

    return Budget.objects.create(
        organization=org, name=f"B{Budget.objects.count()}", amount="1000", currency="USD"
    )


def new_rule(org, actor):
    from budgets.models import AlertRule

    return AlertRule.objects.create(organization=org, budget=new_budget(org, actor), percent="80")


def new_alert(org, actor):
    from datetime import date

    from budgets.models import Alert

    rule = new_rule(org, actor)
    return Alert.objects.create(
        organization=org,
        rule=rule,
        budget=rule.budget,
        period_start=date(2026, 11, 1),
        period_end=date(2026, 11, 30),
        kind="actual",
        percent="80",
        spent="900",
        forecast="1200",
        amount="1000",
        currency="USD",
    )


def new_expense(org, actor):
    from django.utils import timezone

    from budgets.models import Expense

    return Expense.objects.create(
        organization=org, amount="12.5", currency="USD", incurred_at=timezone.now(), source="manual"
    )


def new_import(org, actor):
    from budgets.models import ExpenseImport

    return ExpenseImport.objects.create(organization=org, filename="f.csv", status="completed")


def focus_file(org=None):
    from django.core.files.uploadedfile import SimpleUploadedFile

    header = b"ProviderName,BillingCurrency,ChargePeriodStart,ChargePeriodEnd,BilledCost\n"
    row = b"AWS,USD,2026-11-01 00:00:00,2026-11-01 01:00:00,1.25\n"
    return {"file": SimpleUploadedFile("focus.csv", header + row, "text/csv")}


EXPENSE_BODY = {
    "amount": "12.50",
    "currency": "USD",
    "incurred_at": "2026-11-02T10:00:00Z",
    "provider": "aws",
    "service": "EC2",
}
B = API + "/budgets"
API_CASES += [
    Case("api:budget-list", "get", B + "/", READERS, 200),
    Case(
        "api:budget-list",
        "post",
        B + "/",
        FINANCE_WRITERS,
        201,
        {"name": "GPU", "amount": "1000.00", "currency": "USD", "period": "monthly"},
    ),
    Case(
        "api:budget-presets",
        "post",
        B + "/presets",
        FINANCE_WRITERS,
        201,
        {"size": "small", "name": "CI"},
    ),
    Case("api:budget-detail", "get", B + "/{id}/", READERS, 200, obj=new_budget),
    Case(
        "api:budget-detail",
        "patch",
        B + "/{id}/",
        FINANCE_WRITERS,
        200,
        {"amount": "1500"},
        obj=new_budget,
    ),
    Case(
        "api:budget-detail",
        "put",
        B + "/{id}/",
        FINANCE_WRITERS,
        200,
        {"name": "X", "amount": "10", "currency": "USD", "period": "monthly"},
        obj=new_budget,
    ),
    Case("api:budget-detail", "delete", B + "/{id}/", FINANCE_WRITERS, 204, obj=new_budget),
    Case("api:alert-rule-list", "get", API + "/alert-rules/", READERS, 200),
    Case(
        "api:alert-rule-list",
        "post",
        API + "/alert-rules/",
        FINANCE_WRITERS,
        201,
        lambda org: {
            "budget": new_budget(org, None).pk,
            "percent": "50",
            "kind": "actual",
            "channels": [],
        },
    ),
    Case("api:alert-rule-detail", "get", API + "/alert-rules/{id}/", READERS, 200, obj=new_rule),
    Case(
        "api:alert-rule-detail",
        "patch",
        API + "/alert-rules/{id}/",
        FINANCE_WRITERS,
        200,
        {"percent": "90"},
        obj=new_rule,
    ),
    Case(
        "api:alert-rule-detail",
        "put",
        API + "/alert-rules/{id}/",
        FINANCE_WRITERS,
        200,
        lambda org: {
            "budget": new_budget(org, None).pk,
            "percent": "60",
            "kind": "forecast",
            "channels": [],
        },
        obj=new_rule,
    ),
    Case(
        "api:alert-rule-detail",
        "delete",
        API + "/alert-rules/{id}/",
        FINANCE_WRITERS,
        204,
        obj=new_rule,
    ),
    Case("api:alert-list", "get", API + "/alerts/", READERS, 200),
    Case("api:alert-detail", "get", API + "/alerts/{id}/", READERS, 200, obj=new_alert),
    Case(
        "api:alert-acknowledge",
        "post",
        API + "/alerts/{id}/acknowledge",
        SPEND_WRITERS,
        200,
        obj=new_alert,
    ),
    Case(
        "api:alert-snooze",
        "post",
        API + "/alerts/{id}/snooze",
        SPEND_WRITERS,
        200,
        {"hours": 24},
        obj=new_alert,
    ),
    Case("api:expense-list", "get", API + "/expenses/", READERS, 200),
    Case("api:expense-list", "post", API + "/expenses/", SPEND_WRITERS, 201, EXPENSE_BODY),
    Case(
        "api:expense-bulk",
        "post",
        API + "/expenses/bulk",
        SPEND_WRITERS,
        201,
        {"expenses": [EXPENSE_BODY, {**EXPENSE_BODY, "amount": "3"}]},
    ),
    Case("api:expense-summary", "get", API + "/expenses/summary?group_by=provider", READERS, 200),
    Case(
        "api:expense-import-file",
        "post",
        API + "/expenses/import",
        SPEND_WRITERS,
        202,
        focus_file,
        multipart=True,
    ),
    Case("api:expense-detail", "get", API + "/expenses/{id}/", READERS, 200, obj=new_expense),
    Case(
        "api:expense-detail",
        "delete",
        API + "/expenses/{id}/",
        FINANCE_WRITERS,
        204,
        obj=new_expense,
    ),
    Case("api:expense-import-list", "get", API + "/expenses/imports/", READERS, 200),
    Case(
        "api:expense-import-detail",
        "get",
        API + "/expenses/imports/{id}/",
        READERS,
        200,
        obj=new_import,
    ),
]

P = PAGE
PAGE_CASES += [
    Case("budgets:list", "get", P + "/budgets/", READERS, 200),
    Case("budgets:create", "get", P + "/budgets/new/", FINANCE_WRITERS, 200),
    Case(
        "budgets:create",
        "post",
        P + "/budgets/new/",
        FINANCE_WRITERS,
        302,
        {"name": "GPU", "amount": "500", "currency": "USD", "period": "monthly"},
    ),
    Case("budgets:preset", "get", P + "/budgets/presets/", FINANCE_WRITERS, 200),
    Case(
        "budgets:preset",
        "post",
        P + "/budgets/presets/",
        FINANCE_WRITERS,
        302,
        {"size": "medium", "name": "CI"},
    ),
    Case("budgets:detail", "get", P + "/budgets/{id}/", READERS, 200, obj=new_budget),
    Case("budgets:edit", "get", P + "/budgets/{id}/edit/", FINANCE_WRITERS, 200, obj=new_budget),
    Case(
        "budgets:edit",
        "post",
        P + "/budgets/{id}/edit/",
        FINANCE_WRITERS,
        302,
        {"name": "Edited", "amount": "700", "currency": "USD", "period": "monthly"},
        obj=new_budget,
    ),
    Case(
        "budgets:delete", "post", P + "/budgets/{id}/delete/", FINANCE_WRITERS, 302, obj=new_budget
    ),
    Case(
        "budgets:rule-create",
        "post",
        P + "/budgets/{id}/rules/",
        FINANCE_WRITERS,
        302,
        {"percent": "75", "kind": "actual"},
        obj=new_budget,
    ),
    Case(
        "budgets:rule-delete",
        "post",
        P + "/budgets/rules/{id}/delete/",
        FINANCE_WRITERS,
        302,
        obj=new_rule,
    ),
    Case(
        "budgets:alert-acknowledge",
        "post",
        P + "/budgets/alerts/{id}/acknowledge/",
        SPEND_WRITERS,
        302,
        obj=new_alert,
    ),
    Case("budgets:expenses", "get", P + "/expenses/", READERS, 200),
    Case(
        "budgets:expenses",
        "post",
        P + "/expenses/",
        SPEND_WRITERS,
        302,
        {
            "amount": "5",
            "currency": "USD",
            "incurred_at": "2026-11-02 10:00",
            "purchase_type": "on_demand",
        },
    ),
    Case("budgets:expense-export", "get", P + "/expenses/export.csv", READERS, 200),
    Case("budgets:import", "get", P + "/expenses/import/", READERS, 200),
    Case(
        "budgets:import",
        "post",
        P + "/expenses/import/",
        SPEND_WRITERS,
        302,
        lambda org: {**focus_file(), "cost_column": "BilledCost"},
    ),
    Case(
        "budgets:import-detail", "get", P + "/expenses/imports/{id}/", READERS, 200, obj=new_import
    ),
    Case("budgets:reports", "get", P + "/reports/", READERS, 200),
    Case("budgets:report-export", "get", P + "/reports/export.csv", READERS, 200),
]


# --- carbon ------------------------------------------------------------------------------------

CARBON = ("carbon_catalog",)
API_CASES += [
    Case(
        "api:carbon-footprint",
        "post",
        API + "/carbon/footprint",
        READERS,
        200,
        {"provider": "aws", "region": "us-east-1", "instance_type": "p3.2xlarge", "hours": 10},
        computation=True,
        fixtures=CARBON,
    ),
    Case(
        "api:carbon-green-regions",
        "post",
        API + "/carbon/green-regions",
        READERS,
        200,
        {"accelerator": "V100", "gpu_count": 1, "hours": 10},
        computation=True,
        fixtures=CARBON,
    ),
]

PAGE_CASES += [
    Case("carbon:footprint", "get", PAGE + "/carbon/", READERS, 200, fixtures=CARBON),
    Case(
        "carbon:footprint",
        "post",
        PAGE + "/carbon/",
        READERS,
        200,
        {"provider": "aws", "region": "us-east-1", "instance_type": "p3.2xlarge", "hours": "10"},
        computation=True,
        fixtures=CARBON,
    ),
    Case(
        "carbon:green-regions",
        "get",
        PAGE + "/carbon/green-regions/",
        READERS,
        200,
        fixtures=CARBON,
    ),
    Case(
        "carbon:green-regions",
        "post",
        PAGE + "/carbon/green-regions/",
        READERS,
        200,
        {"accelerator": "V100", "gpu_count": "1", "hours": "10", "purchase_option": "on_demand"},
        computation=True,
        fixtures=CARBON,
    ),
]


def new_record(org, actor):
    from carbon.models import CarbonRecord

    return CarbonRecord.objects.create(
        organization=org,
        name="job",
        started_at="2026-11-20T08:00:00Z",
        energy_kwh=1,
        co2e_kg=0.4,
        intensity_g_per_kwh=400,
        pue=1.0,
    )


RECORD_BODY = {
    "name": "job",
    "started_at": "2026-11-20T08:00:00Z",
    "energy_kwh": 2,
    "pue": 1.1,
    "intensity_g_per_kwh": 300,
}
R = API + "/carbon/records"
API_CASES += [
    Case("api:carbon-record-list", "get", R + "/", READERS, 200),
    Case(
        "api:carbon-record-list", "post", R + "/", SPEND_WRITERS, 201, RECORD_BODY, fixtures=CARBON
    ),
    Case("api:carbon-record-summary", "get", R + "/summary", READERS, 200),
    Case("api:carbon-record-detail", "get", R + "/{id}/", READERS, 200, obj=new_record),
    Case("api:carbon-record-detail", "delete", R + "/{id}/", SPEND_WRITERS, 204, obj=new_record),
]

PAGE_CASES += [Case("carbon:dashboard", "get", PAGE + "/carbon/dashboard/", READERS, 200)]


def new_carbon_budget(org, actor):
    from carbon.models import CarbonBudget

    return CarbonBudget.objects.create(organization=org, name="cb", limit_kg=100, thresholds=[80])


def new_carbon_alert(org, actor):
    from carbon.models import CarbonAlert

    return CarbonAlert.objects.create(
        organization=org,
        budget=new_carbon_budget(org, actor),
        percent=80,
        period_start="2026-11-01",
        emitted_kg=90,
    )


CB = API + "/carbon/budgets"
API_CASES += [
    Case("api:carbon-budget-list", "get", CB + "/", READERS, 200),
    Case(
        "api:carbon-budget-list",
        "post",
        CB + "/",
        FINANCE_WRITERS,
        201,
        {"name": "cb", "limit_kg": 100, "thresholds": [80]},
    ),
    Case("api:carbon-budget-detail", "get", CB + "/{id}/", READERS, 200, obj=new_carbon_budget),
    Case(
        "api:carbon-budget-detail",
        "patch",
        CB + "/{id}/",
        FINANCE_WRITERS,
        200,
        {"limit_kg": 50},
        obj=new_carbon_budget,
    ),
    Case(
        "api:carbon-budget-detail",
        "put",
        CB + "/{id}/",
        FINANCE_WRITERS,
        200,
        {"name": "cb2", "limit_kg": 60, "period": "yearly", "thresholds": [90], "channels": []},
        obj=new_carbon_budget,
    ),
    Case(
        "api:carbon-budget-detail",
        "delete",
        CB + "/{id}/",
        FINANCE_WRITERS,
        204,
        obj=new_carbon_budget,
    ),
    Case("api:carbon-alert-list", "get", API + "/carbon/alerts/", READERS, 200),
    Case(
        "api:carbon-alert-detail",
        "get",
        API + "/carbon/alerts/{id}/",
        READERS,
        200,
        obj=new_carbon_alert,
    ),
]
PAGE_CASES += [
    Case(
        "carbon:dashboard",
        "post",
        PAGE + "/carbon/dashboard/",
        FINANCE_WRITERS,
        302,
        {"name": "cb", "limit_kg": "5", "period": "monthly", "thresholds": "80"},
    ),
    Case(
        "carbon:budget-delete",
        "post",
        PAGE + "/carbon/budgets/{id}/delete/",
        FINANCE_WRITERS,
        302,
        obj=new_carbon_budget,
    ),
]


# --- estimates: planning -----------------------------------------------------------------------


def new_training_run(org, actor):
    from estimates.models import Accelerator, TrainingRun

    return TrainingRun.objects.create(
        organization=org,
        name="run",
        flops=1e20,
        accelerator=Accelerator.objects.get(name="A100-40GB"),
        gpu_count=8,
        gpu_hours=800,
        wall_hours=100,
    )


RUN_BODY = {
    "name": "matrix run",
    "flops": 1e20,
    "accelerator": "A100-40GB",
    "gpu_count": 8,
    "gpu_hours": 800,
}
WORKLOAD = {"params": 1e9, "tokens": 2e10}
R = API + "/estimates/runs"
E = API + "/estimates"
API_CASES += [
    Case("api:training-run-list", "get", R + "/", READERS, 200),
    Case("api:training-run-list", "post", R + "/", OPERATORS, 201, RUN_BODY, fixtures=CATALOG),
    Case("api:training-run-efficiency", "get", R + "/efficiency", READERS, 200, fixtures=CATALOG),
    Case(
        "api:training-run-detail",
        "get",
        R + "/{id}/",
        READERS,
        200,
        obj=new_training_run,
        fixtures=CATALOG,
    ),
    Case(
        "api:training-run-detail",
        "patch",
        R + "/{id}/",
        OPERATORS,
        200,
        {"wall_hours": 120},
        obj=new_training_run,
        fixtures=CATALOG,
    ),
    Case(
        "api:training-run-detail",
        "put",
        R + "/{id}/",
        OPERATORS,
        200,
        RUN_BODY,
        obj=new_training_run,
        fixtures=CATALOG,
    ),
    Case(
        "api:training-run-detail",
        "delete",
        R + "/{id}/",
        OPERATORS,
        204,
        obj=new_training_run,
        fixtures=CATALOG,
    ),
    Case(
        "api:planning-training-time",
        "post",
        E + "/training-time",
        READERS,
        200,
        {**WORKLOAD, "accelerator": "A100", "gpu_count": 8},
        computation=True,
        fixtures=CATALOG,
    ),
    Case(
        "api:planning-configurations",
        "post",
        E + "/configurations",
        READERS,
        200,
        {**WORKLOAD, "configurations": [{"accelerator": "V100", "gpu_count": 8}]},
        computation=True,
        fixtures=CATALOG,
    ),
    Case(
        "api:planning-scaling",
        "post",
        E + "/scaling",
        READERS,
        200,
        {**WORKLOAD, "accelerator": "A100"},
        computation=True,
        fixtures=CATALOG,
    ),
    Case(
        "api:planning-tradeoffs",
        "post",
        E + "/tradeoffs",
        READERS,
        200,
        {**WORKLOAD, "deadline_hours": 100},
        computation=True,
        fixtures=CATALOG,
    ),
    Case(
        "api:planning-batch-size",
        "post",
        E + "/batch-size",
        READERS,
        200,
        {"params": 1e9, "seq_len": 2048, "accelerator": "A100-80GB", "global_batch": 64},
        computation=True,
        fixtures=CATALOG,
    ),
]
PLANNER_FORM = {
    **WORKLOAD,
    "accelerator": "A100",
    "gpu_count": "8",
    "purchase_option": "on_demand",
    "gpu_counts": "1, 8",
}
PAGE_CASES += [
    Case("estimates:planner", "get", PAGE + "/estimates/planner/", READERS, 200),
    Case(
        "estimates:planner",
        "post",
        PAGE + "/estimates/planner/",
        READERS,
        200,
        PLANNER_FORM,
        computation=True,
        fixtures=CATALOG,
    ),
    Case("estimates:runs", "get", PAGE + "/estimates/runs/", READERS, 200, fixtures=CATALOG),
    Case(
        "estimates:runs",
        "post",
        PAGE + "/estimates/runs/",
        OPERATORS,
        302,
        {**RUN_BODY, "precision": "bf16"},
        fixtures=CATALOG,
    ),
    Case(
        "estimates:run-delete",
        "post",
        PAGE + "/estimates/runs/{id}/delete/",
        OPERATORS,
        302,
        obj=new_training_run,
        fixtures=CATALOG,
    ),
]


# --- spot fleets -------------------------------------------------------------------------------


def new_fleet(org, actor):
    """A running simulated fleet with one running instance (no task runs in the matrix)."""
    from django.utils import timezone

    from spot.models import Attempt, Fleet

    fleet = Fleet.objects.create(
        organization=org,
        name="matrix",
        provider="simulated",
        region="us-east-1",
        instance_types=["p3.2xlarge"],
        target_count=1,
        total_steps=1000,
        status="running",
    )
    Attempt.objects.create(
        organization=org,
        fleet=fleet,
        slot=0,
        provider_instance_id=f"sim-{fleet.pk}-0-1",
        market="spot",
        instance_type="p3.2xlarge",
        price_per_hour="0.40",
        on_demand_price_per_hour="3.06",
        launched_at=timezone.now(),
    )
    return fleet


def new_spot_event(org, actor):
    from django.utils import timezone

    from spot.models import InterruptionEvent

    return InterruptionEvent.objects.create(
        organization=org,
        event_key=f"eventbridge:{InterruptionEvent.objects.count()}",
        source="eventbridge",
        kind="interruption_warning",
        provider_instance_id="i-0abc",
        occurred_at=timezone.now(),
    )


FLEET_BODY = {
    "name": "matrix fleet",
    "provider": "simulated",
    "region": "us-east-1",
    "instance_types": ["p3.2xlarge"],
    "total_steps": 100,
}
EVENTBRIDGE_BODY = {
    "version": "0",
    "id": "7bf73129-1428-4cd3-a780-95db273d1602",
    "detail-type": "EC2 Spot Instance Interruption Warning",
    "source": "aws.ec2",
    "account": "123456789012",
    "time": "2026-11-22T12:00:00Z",
    "region": "us-east-1",
    "resources": ["arn:aws:ec2:us-east-1a:instance/i-0abc"],
    "detail": {"instance-id": "i-0abc", "instance-action": "terminate"},
}
ADVICE_BODY = {
    "provider": "aws",
    "region": "us-east-1",
    "instance_type": "p3.2xlarge",
    "hours": 10,
}
F = API + "/spot/fleets"
API_CASES += [
    Case("api:spot-fleet-list", "get", F + "/", READERS, 200),
    Case("api:spot-fleet-list", "post", F + "/", OPERATORS, 201, FLEET_BODY, fixtures=CATALOG),
    Case(
        "api:spot-fleet-detail", "get", F + "/{id}/", READERS, 200, obj=new_fleet, fixtures=CATALOG
    ),
    Case(
        "api:spot-fleet-cancel",
        "post",
        F + "/{id}/cancel",
        OPERATORS,
        200,
        {},
        obj=new_fleet,
        fixtures=CATALOG,
    ),
    Case(
        "api:spot-fleet-checkpoints",
        "post",
        F + "/{id}/checkpoints/",
        OPERATORS,
        201,
        {"step": 5, "uri": "s3://b/5"},
        obj=new_fleet,
    ),
    Case(
        "api:spot-fleet-progress",
        "post",
        F + "/{id}/progress/",
        OPERATORS,
        200,
        {"step": 5},
        obj=new_fleet,
        fixtures=CATALOG,
    ),
    Case("api:spot-fleet-directive", "get", F + "/{id}/directive", READERS, 200, obj=new_fleet),
    Case(
        "api:spot-fleet-notices",
        "post",
        F + "/{id}/notices/",
        OPERATORS,
        202,
        {"instance_id": "i-0abc", "kind": "interruption_warning"},
        obj=new_fleet,
    ),
    Case(
        "api:spot-fleet-interrupt",
        "post",
        F + "/{id}/interrupt",
        OPERATORS,
        202,
        {},
        obj=new_fleet,
    ),
    Case("api:spot-event-list", "get", API + "/spot/events/", READERS, 200),
    Case("api:spot-event-list", "post", API + "/spot/events/", OPERATORS, 202, EVENTBRIDGE_BODY),
    Case(
        "api:spot-event-detail", "get", API + "/spot/events/{id}/", READERS, 200, obj=new_spot_event
    ),
    Case(
        "api:spot-advice",
        "post",
        API + "/spot/advice",
        READERS,
        200,
        ADVICE_BODY,
        computation=True,
        fixtures=CATALOG,
    ),
]
PAGE_CASES += [
    Case("spot:fleet-list", "get", PAGE + "/spot/", READERS, 200, fixtures=CATALOG),
    Case("spot:fleet-new", "get", PAGE + "/spot/new/", OPERATORS, 200, fixtures=CATALOG),
    Case(
        "spot:fleet-new",
        "post",
        PAGE + "/spot/new/",
        OPERATORS,
        302,
        {
            **FLEET_BODY,
            "instance_types": "p3.2xlarge",
            "target_count": "1",
            "strategy": "balanced",
            "checkpoint_write_minutes": "5",
            "restart_minutes": "10",
            "action": "launch",
        },
        fixtures=CATALOG,
    ),
    Case(
        "spot:fleet-detail",
        "get",
        PAGE + "/spot/{id}/",
        READERS,
        200,
        obj=new_fleet,
        fixtures=CATALOG,
    ),
    Case(
        "spot:fleet-cancel",
        "post",
        PAGE + "/spot/{id}/cancel/",
        OPERATORS,
        302,
        obj=new_fleet,
        fixtures=CATALOG,
    ),
    Case(
        "spot:fleet-interrupt",
        "post",
        PAGE + "/spot/{id}/interrupt/",
        OPERATORS,
        302,
        obj=new_fleet,
    ),
]


# --- Spot: idle-resource cleanup ---
# Scans are queued on commit, which never happens inside a test transaction, so creating one
# reaches no AWS endpoint. The API delete case sends an already deleted resource (reported
# without calling AWS); the page delete case stops at the confirmation step.


def new_idle_scan(org, actor):
    from spot.models import IdleScan

    return IdleScan.objects.create(organization=org, region="us-east-1", status="done")


def new_idle_resource(org, actor, **fields):
    from spot.models import IdleResource

    return IdleResource.objects.create(
        organization=org,
        scan=new_idle_scan(org, actor),
        kind="volume",
        resource_id=f"vol-{IdleResource.objects.count():017d}",
        region="us-east-1",
        monthly_cost="8.0000",
        price_basis="100 GiB × 0.08 USD/GB-month",
        **fields,
    )


def deleted_idle_resource_ids(org):
    from django.utils import timezone

    return {"ids": [new_idle_resource(org, None, deleted_at=timezone.now()).pk], "confirm": True}


IDLE_SCAN_BODY = {"region": "us-east-1", "snapshot_min_age_days": 30, "stopped_min_days": 7}
IS = API + "/spot/idle-scans"
IR = API + "/spot/idle-resources"
API_CASES += [
    Case("api:idle-scan-list", "get", IS + "/", READERS, 200),
    Case("api:idle-scan-list", "post", IS + "/", OPERATORS, 201, IDLE_SCAN_BODY, fixtures=CATALOG),
    Case("api:idle-scan-detail", "get", IS + "/{id}/", READERS, 200, obj=new_idle_scan),
    Case("api:idle-resource-list", "get", IR + "/", READERS, 200),
    Case("api:idle-resource-detail", "get", IR + "/{id}/", READERS, 200, obj=new_idle_resource),
    Case(
        "api:idle-resource-delete",
        "post",
        IR + "/delete/",
        OPERATORS,
        200,
        deleted_idle_resource_ids,
    ),
]
PAGE_CASES += [
    Case("spot:idle", "get", PAGE + "/spot/idle/", READERS, 200),
    Case(
        "spot:idle",
        "post",
        PAGE + "/spot/idle/",
        OPERATORS,
        302,
        {k: str(v) for k, v in IDLE_SCAN_BODY.items()},
        fixtures=CATALOG,
    ),
    Case(
        "spot:idle-delete",
        "post",
        PAGE + "/spot/idle/delete/",
        OPERATORS,
        200,
        lambda org: {"resources": [str(new_idle_resource(org, None).pk)]},
    ),
]


# --- estimates: right-sizing -------------------------------------------------------------------


def utilization_file(org=None):
    from django.core.files.uploadedfile import SimpleUploadedFile

    content = b"timestamp, index, utilization.gpu [%], memory.used [MiB], memory.total [MiB]\n"
    content += b"2026/11/20 08:00:00.000, 0, 87 %, 30512 MiB, 40960 MiB\n"
    return {"file": SimpleUploadedFile("gpu.csv", content, "text/csv"), "job": "matrix"}


UTILIZATION_BODY = {
    "samples": [{"job": "matrix", "at": "2026-11-20T08:00:00Z", "gpu_utilization": 87}]
}
API_CASES += [
    Case("api:utilization-list", "get", EST + "/utilization/", READERS, 200),
    Case("api:utilization-list", "post", EST + "/utilization/", OPERATORS, 201, UTILIZATION_BODY),
    Case(
        "api:utilization-upload",
        "post",
        EST + "/utilization/upload",
        OPERATORS,
        201,
        utilization_file,
        multipart=True,
    ),
    Case("api:rightsizing-list", "get", EST + "/rightsizing/", READERS, 200, fixtures=CATALOG),
]
PAGE_CASES += [
    Case("estimates:rightsizing", "get", EP + "/rightsizing/", READERS, 200, fixtures=CATALOG),
    Case("estimates:rightsizing", "post", EP + "/rightsizing/", OPERATORS, 302, utilization_file),
]


# --- the audit log -----------------------------------------------------------------------------


def new_audit_event(org, actor):
    return new_invitation(org, actor).organization.audit_events.latest("pk")


API_CASES += [
    Case("api:audit-event-list", "get", "/api/v1/orgs/{org}/audit-events/", MANAGERS, 200),
    Case(
        "api:audit-event-detail",
        "get",
        "/api/v1/orgs/{org}/audit-events/{id}/",
        MANAGERS,
        200,
        obj=new_audit_event,
    ),
]
PAGE_CASES += [Case("orgs:audit", "get", PAGE + "/settings/audit/", MANAGERS, 200)]


# --- budgets: portal expense delete and alert rule edit ----------------------------------------

PAGE_CASES += [
    Case(
        "budgets:expense-delete",
        "post",
        PAGE + "/expenses/{id}/delete/",
        FINANCE_WRITERS,
        302,
        obj=new_expense,
    ),
    Case(
        "budgets:rule-edit",
        "get",
        PAGE + "/budgets/rules/{id}/edit/",
        FINANCE_WRITERS,
        200,
        obj=new_rule,
    ),
    Case(
        "budgets:rule-edit",
        "post",
        PAGE + "/budgets/rules/{id}/edit/",
        FINANCE_WRITERS,
        302,
        {"percent": "90", "kind": "forecast"},
        obj=new_rule,
    ),
]


# --- carbon: budget edit page, job records page ------------------------------------------------

PAGE_CASES += [
    Case(
        "carbon:budget-edit",
        "get",
        PAGE + "/carbon/budgets/{id}/edit/",
        FINANCE_WRITERS,
        200,
        obj=new_carbon_budget,
    ),
    Case(
        "carbon:budget-edit",
        "post",
        PAGE + "/carbon/budgets/{id}/edit/",
        FINANCE_WRITERS,
        302,
        {
            "name": "cb2",
            "limit_kg": "50",
            "period": "custom",
            "start": "2026-01-01",
            "end": "2026-12-31",
            "thresholds": "90",
        },
        obj=new_carbon_budget,
    ),
    Case("carbon:records", "get", PAGE + "/carbon/records/", READERS, 200),
    Case(
        "carbon:record-delete",
        "post",
        PAGE + "/carbon/records/{id}/delete/",
        SPEND_WRITERS,
        302,
        obj=new_record,
    ),
]


# --- Spot: the interruption events page and the advice page ------------------------------------
# The advice page computes (it writes nothing): every role, as the API's advice.

PAGE_CASES += [
    Case("spot:events", "get", PAGE + "/spot/events/", READERS, 200),
    Case("spot:advice", "get", PAGE + "/spot/advice/", READERS, 200, fixtures=CATALOG),
    Case(
        "spot:advice",
        "post",
        PAGE + "/spot/advice/",
        READERS,
        200,
        {
            "provider": "gcp",
            "region": "us-central1",
            "instance_type": "a2-highgpu-1g",
            "hours": "10",
        },
        fixtures=CATALOG,
    ),
]


# --- estimates: editing runs, utilisation samples ----------------------------------------------

PAGE_CASES += [
    Case(
        "estimates:run-edit",
        "get",
        PAGE + "/estimates/runs/{id}/edit/",
        OPERATORS,
        200,
        obj=new_training_run,
        fixtures=CATALOG,
    ),
    Case(
        "estimates:run-edit",
        "post",
        PAGE + "/estimates/runs/{id}/edit/",
        OPERATORS,
        302,
        {**RUN_BODY, "precision": "bf16", "name": "edited"},
        obj=new_training_run,
        fixtures=CATALOG,
    ),
    Case("estimates:utilization", "get", PAGE + "/estimates/utilization/", READERS, 200),
]


# --- budgets: snoozing an alert's reminders -----------------------------------------------------

PAGE_CASES += [
    Case(
        "budgets:alert-snooze",
        "post",
        P + "/budgets/alerts/{id}/snooze/",
        SPEND_WRITERS,
        302,
        {"hours": "24"},
        obj=new_alert,
    ),
]
