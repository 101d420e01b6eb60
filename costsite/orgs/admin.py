from django.contrib import admin

from costsite.accounts.admin import SuperuserOnlyMixin
from costsite.orgs.admin_scoping import OrgScopedAdminMixin
from costsite.orgs.models import (
    ApiToken,
    AuditEvent,
    Invitation,
    Membership,
    Organization,
    Team,
)


class SuperuserOnlyAdmin(SuperuserOnlyMixin, admin.ModelAdmin):
    """Organizations, memberships, invitations and tokens decide who may do what; the portal
    enforces their rules (the last owner, who may grant owner), so only superusers edit them."""


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Organization)
class OrganizationAdmin(SuperuserOnlyAdmin):
    list_display = ["name", "slug", "time_zone", "currency", "created_at"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(SuperuserOnlyAdmin):
    list_display = ["user", "organization", "role", "created_at"]
    list_filter = ["role"]
    search_fields = ["user__email", "organization__slug"]
    autocomplete_fields = ["user", "organization"]


@admin.register(Invitation)
class InvitationAdmin(SuperuserOnlyAdmin):
    list_display = ["email", "organization", "role", "status", "created_at", "expires_at"]
    readonly_fields = ["digest", "accepted_at", "accepted_by", "invited_by"]
    search_fields = ["email", "organization__slug"]


@admin.register(ApiToken)
class ApiTokenAdmin(SuperuserOnlyAdmin):
    list_display = ["name", "masked", "organization", "user", "scope", "status", "last_used_at"]
    readonly_fields = ["lookup_id", "digest", "created_at", "last_used_at"]
    search_fields = ["name", "lookup_id", "organization__slug", "user__email"]

    def has_add_permission(self, request):
        return False  # tokens are shown once at creation: create them in the portal


@admin.register(Team)
class TeamAdmin(OrgScopedAdminMixin, admin.ModelAdmin):
    list_display = ["name", "organization", "created_at"]
    list_filter = ["organization"]
    search_fields = ["name"]
    filter_horizontal = ["members"]


@admin.register(AuditEvent)
class AuditEventAdmin(SuperuserOnlyAdmin):
    """The audit log is written by the application only: superusers read it, nobody edits it."""

    list_display = ["created_at", "organization", "action", "actor_email", "target_label", "ip"]
    list_filter = ["action"]
    search_fields = ["actor_email", "target_label", "organization__slug"]
    readonly_fields = [f.name for f in AuditEvent._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
