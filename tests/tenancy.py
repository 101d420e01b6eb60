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
from costsite.orgs.roles import FINANCE_WRITERS, MANAGERS, OPERATORS, READERS, Role
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


def price_list_file():
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
    body: object = None  # a dict, or a callable returning one (fresh files per call)
    obj: object = None  # factory(org, actor) for {id}
    session_only: bool = False
    computation: bool = False  # a POST that writes nothing: read tokens may call it
    fixtures: tuple = ()  # pytest fixtures the case needs (e.g. the catalogue)

    def data(self):
        return self.body() if callable(self.body) else self.body

    @property
    def id(self):
        return f"{self.url_name}:{self.method}"

    def url(self, org_slug, obj_id=None):
        return self.path.format(org=org_slug, id=obj_id)


API = "/api/v1/orgs/{org}"

API_CASES = [
    Case("api:organization-detail", "get", API + "/", READERS, 200),
    Case("api:organization-detail", "patch", API + "/", MANAGERS, 200, {"name": "Renamed"}),
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
