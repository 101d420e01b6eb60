from django.contrib import admin

from costsite.notify.models import Channel, Delivery
from costsite.orgs.admin_scoping import OrgScopedAdminMixin


@admin.register(Channel)
class ChannelAdmin(OrgScopedAdminMixin, admin.ModelAdmin):
    list_display = ["name", "organization", "kind", "enabled", "status", "last_error_at"]
    list_filter = ["kind", "enabled"]
    search_fields = ["name", "target"]
    readonly_fields = ["last_success_at", "last_error", "last_error_at", "failing_since"]


@admin.register(Delivery)
class DeliveryAdmin(OrgScopedAdminMixin, admin.ModelAdmin):
    list_display = ["event", "channel", "status", "attempts", "http_status", "created_at"]
    list_filter = ["status", "event"]
    readonly_fields = [f.name for f in Delivery._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
