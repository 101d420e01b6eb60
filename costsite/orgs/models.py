"""Organizations (tenants), their members and teams, invitations and API tokens."""

import hmac
import zoneinfo
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from costsite.orgs.roles import Role
from costsite.orgs.secrets import digest


class TenantQuerySet(models.QuerySet):
    """Base queryset of every tenant-owned model: `Model.objects.for_org(org)`."""

    org_field = "organization"

    def for_org(self, org):
        return self.filter(**{self.org_field: org})

    def for_orgs(self, orgs):
        return self.filter(**{f"{self.org_field}__in": orgs})


def validate_time_zone(value):
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"{value!r} is not a known time zone (use an IANA name).")


class OrganizationQuerySet(models.QuerySet):
    def for_user(self, user):
        return self.filter(memberships__user=user)


class Organization(models.Model):
    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=60, unique=True)
    time_zone = models.CharField(
        max_length=64,
        validators=[validate_time_zone],
        default="UTC",
        help_text="Budget periods start and end at midnight in this time zone.",
    )
    currency = models.CharField(max_length=3, default="USD", help_text="ISO 4217 code.")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = OrganizationQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class MembershipQuerySet(TenantQuerySet):
    def owners(self):
        return self.filter(role=Role.OWNER)


class Membership(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="memberships"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        ordering = ["user__email"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "user"], name="uniq_membership"),
        ]

    def __str__(self):
        return f"{self.user} in {self.organization} ({self.role})"


class Team(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="teams")
    name = models.CharField(max_length=120)
    description = models.CharField(max_length=300, blank=True)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="teams", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint("organization", Lower("name"), name="uniq_team_name_per_org"),
        ]

    def __str__(self):
        return self.name


TEAM_NAME_TAKEN = "A team with this name already exists."


def team_name_taken(org, name: str, team: Team | None = None) -> bool:
    """Whether another team of `org` than `team` holds `name` as uniq_team_name_per_org sees it.

    Compared with the constraint's own expression, Lower("name"), in the database: `iexact`
    compares UPPER() instead, which differs for some letters (UPPER('\u212a') is itself, its
    lower() is 'k'), and a name the check let through would reach the database as an error."""
    teams = (
        Team.objects.for_org(org)
        .alias(lower_name=Lower("name"))
        .filter(lower_name=Lower(models.Value(name)))
    )
    if team is not None and team.pk is not None:
        teams = teams.exclude(pk=team.pk)
    return teams.exists()


def default_invitation_expiry():
    return timezone.now() + timedelta(days=settings.COSTSITE_INVITATION_DAYS)


class Invitation(models.Model):
    """A single-use link that lets a person join an organization with a role.

    Only a digest of the link's secret is stored; the link is shown once to the inviter and
    emailed to the invitee.
    """

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="invitations"
    )
    email = models.EmailField()
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    digest = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(default=default_invitation_expiry)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"Invitation of {self.email} to {self.organization}"

    @property
    def status(self):
        if self.accepted_at:
            return "accepted"
        if self.revoked_at:
            return "revoked"
        if self.expires_at <= timezone.now():
            return "expired"
        return "pending"


class TokenScope(models.TextChoices):
    READ = "read", "Read"
    WRITE = "write", "Write"


class ApiTokenQuerySet(TenantQuerySet):
    def active(self):
        now = timezone.now()
        return self.filter(revoked_at__isnull=True).filter(
            models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=now)
        )


class ApiToken(models.Model):
    """A bearer token for automation, bound to one organization and its creator.

    The token text is `cst_<lookup_id>_<secret>`; only `lookup_id` and an HMAC digest of the
    whole token are stored. A read token acts as a viewer; a write token acts with its
    creator's *current* role, so it never grants more than the creator has, and stops working
    when the creator leaves the organization.
    """

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="api_tokens"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100)
    scope = models.CharField(max_length=8, choices=TokenScope.choices, default=TokenScope.READ)
    lookup_id = models.CharField(max_length=16, unique=True)
    digest = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.name} ({self.masked})"

    @property
    def masked(self):
        return f"cst_{self.lookup_id}_••••"

    @property
    def is_expired(self):
        return self.expires_at is not None and self.expires_at <= timezone.now()

    @property
    def is_active(self):
        return self.revoked_at is None and not self.is_expired

    @property
    def status(self):
        if self.revoked_at:
            return "revoked"
        if self.is_expired:
            return "expired"
        return "active"

    def matches(self, token_text: str) -> bool:
        return hmac.compare_digest(self.digest, digest(token_text))


class AuditAction(models.TextChoices):
    TOKEN_CREATED = "token.created", "API token created"
    TOKEN_REVOKED = "token.revoked", "API token revoked"
    MEMBER_ROLE_CHANGED = "member.role_changed", "Member role changed"
    MEMBER_REMOVED = "member.removed", "Member removed"
    INVITATION_CREATED = "invitation.created", "Invitation created"
    INVITATION_REVOKED = "invitation.revoked", "Invitation revoked"
    CHANNEL_CREATED = "channel.created", "Alert channel created"
    CHANNEL_SECRET_ROTATED = "channel.secret_rotated", "Alert channel secret rotated"
    CHANNEL_DELETED = "channel.deleted", "Alert channel deleted"
    BUDGET_DELETED = "budget.deleted", "Budget deleted"
    EXPENSE_DELETED = "expense.deleted", "Expense deleted"
    IDLE_RESOURCE_DELETED = "idle_resource.deleted", "Cloud resource deleted"
    IDLE_RESOURCE_DELETE_FAILED = "idle_resource.delete_failed", "Cloud resource deletion failed"


class AuditEvent(models.Model):
    """One security-relevant action in an organization: who, what, on which row, from where.

    Written by `costsite.orgs.audit.record` in the same transaction as the action; never edited.
    `actor_email` keeps who it was after the account is gone; labels and details never hold
    secrets (token texts, webhook secrets or URLs).
    """

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="audit_events"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    actor_email = models.EmailField(blank=True)
    action = models.CharField(max_length=40, choices=AuditAction.choices)
    target_type = models.CharField(max_length=60)
    target_id = models.CharField(max_length=64, blank=True)
    target_label = models.CharField(max_length=200, blank=True)
    details = models.JSONField(default=dict, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["organization", "-created_at"], name="audit_org_created"),
            models.Index(fields=["organization", "action"], name="audit_org_action"),
        ]

    def __str__(self):
        return f"{self.get_action_display()}: {self.target_label} by {self.actor_email or '—'}"
