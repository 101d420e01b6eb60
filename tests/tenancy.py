"""The tenancy matrix: every org-scoped page and endpoint, who may call it, and what it needs.

A case names the URL (by its URL name, so tests/test_tenancy_matrix.py can check that every
org-scoped URL in the URL configuration has a case), the method, the roles allowed, a body and,
for detail URLs, a factory for the object in the URL. Later apps add their cases here.
"""

from dataclasses import dataclass, field

from costsite.notify.channels import create_channel
from costsite.notify.models import ChannelKind
from costsite.orgs.invitations import create_invitation
from costsite.orgs.models import Membership, Team
from costsite.orgs.roles import MANAGERS, READERS, Role
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


@dataclass(frozen=True)
class Case:
    url_name: str
    method: str
    path: str  # with {org} and, for detail URLs, {id}
    allowed: frozenset
    ok: int
    body: dict | None = None
    obj: object = None  # factory(org, actor) for {id}
    session_only: bool = False
    extra: dict = field(default_factory=dict)

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
