"""The one way pages and the API find the organization a request acts on, and with which role.

Anything in an organization the caller does not belong to is a 404 (its existence is not
revealed); belonging with too low a role is a 403.
"""

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.http import Http404

from costsite.orgs.models import ApiToken, Membership, Organization
from costsite.orgs.roles import READERS
from costsite.orgs.tokens import TokenAuth


@dataclass(frozen=True)
class OrgAccess:
    organization: Organization
    membership: Membership
    role: str
    token: ApiToken | None = None

    def denial_reason(self) -> str:
        if self.token is not None and self.token.scope == "read":
            return "This API token has read scope; a write token is needed."
        return f"Your role ({self.role}) does not allow this."


def org_for_user(request, slug: str, roles=READERS) -> tuple[Organization, Membership]:
    """Page access helper: the organization and the user's membership, or 404/403."""
    membership = (
        Membership.objects.select_related("organization")
        .filter(organization__slug=slug, user_id=request.user.pk)
        .first()
    )
    if membership is None:
        raise Http404("No such organization.")
    require_role(membership, roles)
    return membership.organization, membership


def require_role(membership: Membership, roles) -> None:
    """403 unless the membership has one of `roles` (a page that only some roles may write)."""
    if membership.role not in roles:
        raise PermissionDenied(f"Your role ({membership.role}) does not allow this.")


def api_access(request, slug: str) -> OrgAccess:
    """API access helper: a token is bound to its organization; a session user to theirs."""
    auth = request.auth
    if isinstance(auth, TokenAuth):
        if auth.token.organization.slug != slug:
            raise Http404("No such organization.")
        return OrgAccess(auth.token.organization, auth.membership, auth.role, auth.token)
    organization, membership = org_for_user(request, slug)
    return OrgAccess(organization, membership, membership.role)
