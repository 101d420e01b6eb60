from django.contrib import admin

from carbon.models import (
    AcceleratorPower,
    CarbonAlert,
    CarbonBudget,
    CarbonFactor,
    CarbonRecord,
    CountryIntensity,
    GridIntensity,
    Pue,
)
from costsite.accounts.admin import SuperuserOnlyMixin
from costsite.orgs.admin_scoping import OrgScopedAdminMixin


class CatalogueAdmin(SuperuserOnlyMixin, admin.ModelAdmin):
    """The carbon catalogue is shared by every organization: superusers only."""


for model in (GridIntensity, CountryIntensity, Pue, AcceleratorPower, CarbonFactor):
    admin.site.register(model, CatalogueAdmin)


@admin.register(CarbonRecord)
class CarbonRecordAdmin(OrgScopedAdminMixin, admin.ModelAdmin):
    list_display = ["name", "organization", "team", "started_at", "energy_kwh", "co2e_kg", "source"]
    list_filter = ["source", "provider"]
    search_fields = ["name", "external_id"]


@admin.register(CarbonBudget)
class CarbonBudgetAdmin(OrgScopedAdminMixin, admin.ModelAdmin):
    list_display = ["name", "organization", "team", "limit_kg", "period"]


@admin.register(CarbonAlert)
class CarbonAlertAdmin(OrgScopedAdminMixin, admin.ModelAdmin):
    list_display = ["budget", "percent", "period_start", "emitted_kg", "fired_at"]
    readonly_fields = ["organization", "budget", "percent", "period_start", "emitted_kg"]

    def has_add_permission(self, request):
        return False
