from django.contrib import admin

from costsite.notify.channels import new_secret
from costsite.notify.forms import ChannelForm
from costsite.notify.models import Channel, ChannelKind, Delivery
from costsite.orgs.admin_scoping import OrgScopedAdminMixin
from costsite.orgs.models import AuditAction

READ_ONLY = ["last_success_at", "last_error", "last_error_at", "failing_since"]


@admin.register(Channel)
class ChannelAdmin(OrgScopedAdminMixin, admin.ModelAdmin):
    """Same validation as the portal (target format, SSRF). A webhook made here gets a signing
    secret that is not displayed: rotate it on the channel's portal page to see it."""

    form = ChannelForm
    audit_deletion_action = AuditAction.CHANNEL_DELETED
    fields = ["organization", "name", "kind", "target", "enabled", *READ_ONLY]
    readonly_fields = READ_ONLY
    list_display = ["name", "organization", "kind", "enabled", "status", "last_error_at"]
    list_filter = ["kind", "enabled"]
    search_fields = ["name", "target"]

    def save_model(self, request, obj, form, change):
        if obj.kind == ChannelKind.WEBHOOK and not obj.secret:
            obj.secret = new_secret()
        super().save_model(request, obj, form, change)


@admin.register(Delivery)
class DeliveryAdmin(OrgScopedAdminMixin, admin.ModelAdmin):
    list_display = ["event", "channel", "status", "attempts", "http_status", "created_at"]
    list_filter = ["status", "event"]
    readonly_fields = [f.name for f in Delivery._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
