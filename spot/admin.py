from django.contrib import admin

from costsite.orgs.admin_scoping import OrgScopedAdminMixin, ParentScopedInline
from spot.models import Attempt, Fleet, IdleResource, IdleScan, InterruptionEvent


class ReadMostlyAdmin(OrgScopedAdminMixin, admin.ModelAdmin):
    """Rows written by scans and deletions: viewable and removable, never added or edited."""

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request):
        return False


class IdleResourceInline(ParentScopedInline):
    model = IdleResource
    extra = 0
    fields = ["kind", "resource_id", "monthly_cost", "currency", "deleted_at", "deleted_by"]
    readonly_fields = fields
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(IdleScan)
class IdleScanAdmin(ReadMostlyAdmin):
    list_display = ["region", "organization", "account_id", "status", "created_by", "created_at"]
    list_filter = ["status", "region"]
    inlines = [IdleResourceInline]


@admin.register(IdleResource)
class IdleResourceAdmin(ReadMostlyAdmin):
    list_display = [
        "resource_id",
        "kind",
        "organization",
        "region",
        "monthly_cost",
        "currency",
        "deleted_at",
        "deleted_by",
    ]
    list_filter = ["kind", "region"]
    search_fields = ["resource_id", "description"]


class AttemptInline(ParentScopedInline):
    model = Attempt
    extra = 0
    fields = [
        "slot",
        "provider_instance_id",
        "market",
        "instance_type",
        "availability_zone",
        "price_per_hour",
        "state",
        "launched_at",
        "ended_at",
        "end_reason",
    ]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Fleet)
class FleetAdmin(ReadMostlyAdmin):
    """Fleets are run from the portal and the API; the admin shows them (finance reads what
    they cost) and removes ended ones."""

    list_display = ["name", "organization", "provider", "region", "status", "created_at"]
    list_filter = ["status", "provider"]
    search_fields = ["name"]
    inlines = [AttemptInline]

    def has_delete_permission(self, request, obj=None):
        # A fleet with live instances is cancelled first (its instances are terminated).
        return super().has_delete_permission(request, obj) and (obj is None or obj.is_final)


@admin.register(InterruptionEvent)
class InterruptionEventAdmin(ReadMostlyAdmin):
    list_display = ["kind", "source", "provider_instance_id", "organization", "received_at"]
    list_filter = ["kind", "source"]
    search_fields = ["provider_instance_id", "event_key"]
