"""Creating organizations and changing who belongs to them.

The one rule that must hold under concurrency: an organization always keeps at least one owner.
Changes that could remove an owner lock the organization's owner rows first.
"""

from django.db import transaction
from django.utils.text import slugify

from costsite.orgs import audit
from costsite.orgs.models import AuditAction, Membership, Organization, Team
from costsite.orgs.roles import Role


class MembershipError(Exception):
    """A change that would break a membership rule; the message is shown to the user."""


RESERVED_SLUGS = frozenset({"new", "admin", "api", "static", "accounts", "invite"})


def unique_slug(name: str) -> str:
    base = slugify(name)[:50] or "org"
    if base in RESERVED_SLUGS:
        base = f"{base}-org"
    slug, n = base, 1
    while Organization.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


@transaction.atomic
def create_organization(name: str, owner, slug: str | None = None, **fields) -> Organization:
    org = Organization.objects.create(name=name, slug=slug or unique_slug(name), **fields)
    Membership.objects.create(organization=org, user=owner, role=Role.OWNER)
    return org


def can_manage(actor: Membership, target: Membership | None, new_role: str | None = None) -> bool:
    """Owners manage everyone; admins manage non-owners and cannot hand out the owner role."""
    if actor.role == Role.OWNER:
        return True
    if actor.role != Role.ADMIN:
        return False
    if target is not None and target.role == Role.OWNER:
        return False
    return new_role != Role.OWNER


def _lock_owners(org: Organization) -> list[int]:
    return list(
        Membership.objects.for_org(org)
        .owners()
        .select_for_update()
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def change_role(actor: Membership, target: Membership, new_role: str) -> Membership:
    if new_role not in Role.values:
        raise MembershipError(f"Unknown role {new_role!r}.")
    if not can_manage(actor, target, new_role):
        raise PermissionError("Only owners can grant the owner role or change an owner.")
    with transaction.atomic():
        owner_ids = _lock_owners(target.organization)
        target = Membership.objects.select_for_update().get(pk=target.pk)
        if target.role == Role.OWNER and new_role != Role.OWNER and owner_ids == [target.pk]:
            raise MembershipError(
                "The last owner cannot be demoted. Make someone else owner first."
            )
        old_role, target.role = target.role, new_role
        target.save(update_fields=["role"])
        if old_role != new_role:
            audit.record(
                target.organization,
                AuditAction.MEMBER_ROLE_CHANGED,
                target,
                actor=actor.user,
                label=target.user.email,
                details={"from": old_role, "to": new_role},
            )
    return target


def remove_member(actor: Membership, target: Membership) -> None:
    """Remove a member (or let a member leave: actor == target). Their teams and tokens go too."""
    leaving = actor.pk == target.pk
    if not leaving and not can_manage(actor, target):
        raise PermissionError("Only owners can remove an owner.")
    with transaction.atomic():
        owner_ids = _lock_owners(target.organization)
        target = Membership.objects.select_for_update().get(pk=target.pk)
        if target.role == Role.OWNER and owner_ids == [target.pk]:
            raise MembershipError(
                "The last owner cannot be removed. Make someone else owner first."
            )
        org = target.organization
        for team in Team.objects.for_org(org).filter(members=target.user):
            team.members.remove(target.user)
        target.user.api_tokens.filter(organization=org).delete()
        audit.record(
            org,
            AuditAction.MEMBER_REMOVED,
            target,
            actor=actor.user,
            label=target.user.email,
            details={"role": target.role, "left": leaving},
        )
        target.delete()


def add_member(org: Organization, user, role: str) -> Membership:
    membership, _ = Membership.objects.get_or_create(
        organization=org, user=user, defaults={"role": role}
    )
    return membership
