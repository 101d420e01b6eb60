from django.contrib import admin

from costsite.orgs.admin_scoping import OrgScopedAdminMixin
from spot.models import IdleResource, IdleScan


class ReadMostlyAdmin(OrgScopedAdminMixin, admin.ModelAdmin):
    """Rows written by scans and deletions: viewable and removable, never added or edited."""

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request):
        return False


class IdleResourceInline(admin.TabularInline):
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
