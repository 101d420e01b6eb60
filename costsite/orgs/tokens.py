"""Issuing, checking and revoking API tokens."""

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone

from costsite.orgs.models import ApiToken, Membership, TokenScope
from costsite.orgs.roles import Role
from costsite.orgs.secrets import digest, new_token_text, parse_token_text

LAST_USED_RESOLUTION = timedelta(minutes=1)


def issue_token(org, user, name: str, scope: str, expires_at=None) -> tuple[ApiToken, str]:
    """Create a token; returns it with its text, which is never available again."""
    lookup_id, text = new_token_text()
    token = ApiToken.objects.create(
        organization=org,
        user=user,
        name=name,
        scope=scope,
        expires_at=expires_at,
        lookup_id=lookup_id,
        digest=digest(text),
    )
    return token, text


@dataclass(frozen=True)
class TokenAuth:
    token: ApiToken
    membership: Membership

    @property
    def role(self) -> str:
        """A read token acts as a viewer; a write token with its creator's current role."""
        if self.token.scope == TokenScope.WRITE:
            return self.membership.role
        return Role.VIEWER


def authenticate(token_text: str) -> TokenAuth | None:
    """The token and its creator's current membership, or None if the token must not work."""
    lookup_id = parse_token_text(token_text)
    if lookup_id is None:
        return None
    # One query: the token, its organization and creator, and the creator's membership now.
    creator_membership = Membership.objects.filter(
        organization_id=OuterRef("organization_id"), user_id=OuterRef("user_id")
    )
    token = (
        ApiToken.objects.select_related("organization", "user")
        .filter(lookup_id=lookup_id)
        .annotate(
            membership_id=Subquery(creator_membership.values("pk")[:1]),
            membership_role=Subquery(creator_membership.values("role")[:1]),
        )
        .first()
    )
    if token is None or not token.matches(token_text) or not token.is_active:
        return None
    if not token.user.is_active or token.membership_id is None:
        return None
    membership = Membership(
        pk=token.membership_id,
        organization=token.organization,
        user=token.user,
        role=token.membership_role,
    )
    membership._state.adding = False  # an existing row, loaded through the join above
    membership._state.db = token._state.db
    touch_last_used(token)
    return TokenAuth(token=token, membership=membership)


def touch_last_used(token: ApiToken, now=None) -> None:
    """Record use at most once a minute, with one conditional UPDATE and no read."""
    now = now or timezone.now()
    if token.last_used_at and now - token.last_used_at < LAST_USED_RESOLUTION:
        return
    ApiToken.objects.filter(pk=token.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION)
    ).update(last_used_at=now)
    token.last_used_at = now


def revoke(token: ApiToken) -> None:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
            revoked_at=token.revoked_at
        )


def tokens_visible_to(membership: Membership):
    """Managers see every token of the organization; others only their own."""
    tokens = ApiToken.objects.for_org(membership.organization).select_related("user")
    if membership.role in (Role.OWNER, Role.ADMIN):
        return tokens
    return tokens.filter(user_id=membership.user_id)
