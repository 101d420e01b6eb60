from django.contrib import admin

from costsite.accounts.admin import SuperuserOnlyMixin
from costsite.orgs.admin_scoping import OrgScopedAdminMixin
from estimates.models import (
    Accelerator,
    EgressRate,
    InstanceType,
    Price,
    ProviderDiscount,
    Region,
    SavedEstimate,
    StorageRate,
)


class CatalogueAdmin(SuperuserOnlyMixin, admin.ModelAdmin):
    """The public catalogue is shared by every organization: superusers only."""


@admin.register(Region)
class RegionAdmin(CatalogueAdmin):
    list_display = ["provider", "code", "name", "country_code"]
    list_filter = ["provider"]


@admin.register(Accelerator)
class AcceleratorAdmin(CatalogueAdmin):
    list_display = ["name", "family", "memory_gb", "peak_tflops", "tdp_w", "as_of"]


@admin.register(InstanceType)
class InstanceTypeAdmin(CatalogueAdmin):
    list_display = ["provider", "name", "accelerator", "accelerator_count", "vcpus", "as_of"]
    list_filter = ["provider", "accelerator__family"]
    search_fields = ["name"]


@admin.register(StorageRate)
class StorageRateAdmin(CatalogueAdmin):
    list_display = ["region", "storage_class", "price_per_gb_month", "as_of"]


@admin.register(EgressRate)
class EgressRateAdmin(CatalogueAdmin):
    list_display = ["region", "kind", "price_per_gb", "as_of"]


@admin.register(Price)
class PriceAdmin(OrgScopedAdminMixin, admin.ModelAdmin):
    """Staff see their organizations' own prices; public rows (no organization) are visible to
    superusers only, since the scoping keeps rows of the staff member's organizations."""

    list_display = [
        "instance_type",
        "region",
        "purchase_option",
        "price_per_hour",
        "organization",
        "as_of",
    ]
    list_filter = ["purchase_option", "instance_type__provider"]
    search_fields = ["instance_type__name", "region__code"]


@admin.register(ProviderDiscount)
class ProviderDiscountAdmin(OrgScopedAdminMixin, admin.ModelAdmin):
    list_display = ["organization", "provider", "percent", "note", "updated_at"]


@admin.register(SavedEstimate)
class SavedEstimateAdmin(OrgScopedAdminMixin, admin.ModelAdmin):
    list_display = ["name", "organization", "kind", "created_by", "created_at"]
    list_filter = ["kind"]
    readonly_fields = ["inputs", "result", "created_by", "created_at"]
