"""Finance staff edit budgets, allocations, thresholds and expenses here, for their own
organizations only (OrgScopedAdminMixin); every budget change is recorded in its history."""

from django import forms
from django.contrib import admin

from budgets import saving
from budgets.alerts import queue_evaluation
from budgets.forms import BUDGET_FIELDS, BudgetRules, ExpenseRules
from budgets.models import (
    Alert,
    AlertRule,
    Budget,
    BudgetChange,
    CloudCostSource,
    Expense,
    ExpenseImport,
)
from costsite.notify.models import Channel
from costsite.orgs.admin_scoping import (
    OrgScopedAdminMixin,
    ParentScopedInline,
    admin_organizations,
)
from costsite.orgs.models import AuditAction


class AlertRuleInlineForm(forms.ModelForm):
    def clean(self):
        cleaned = super().clean()
        budget = cleaned.get("budget")  # the budget being saved (the inline's parent)
        channels = cleaned.get("channels") or []
        if budget and any(c.organization_id != budget.organization_id for c in channels):
            self.add_error("channels", "Use channels of the budget's own organization.")
        return cleaned


class AlertRuleInline(ParentScopedInline):
    model = AlertRule
    form = AlertRuleInlineForm
    extra = 0
    fields = ["percent", "kind", "channels"]
    filter_horizontal = []

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        kwargs["queryset"] = Channel.objects.for_orgs(admin_organizations(request.user))
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        if obj is not None:  # a new budget's organization is known once its form is valid
            field = formset.form.base_fields["channels"]
            field.queryset = Channel.objects.for_org(obj.organization_id)
        return formset


class BudgetChangeInline(ParentScopedInline):
    model = BudgetChange
    extra = 0
    fields = ["changed_at", "changed_by", "field", "old_value", "new_value", "via"]
    readonly_fields = fields
    can_delete = False
    verbose_name_plural = "Change history"

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class BudgetAdminForm(BudgetRules, forms.ModelForm):
    """The same rules as the portal and the API."""

    class Meta:
        model = Budget
        fields = ["organization", *BUDGET_FIELDS]

    def clean(self):
        # Admin saves run in one transaction (ModelAdmin.changeform_view): locking the parent,
        # then the budget, before the allocation check (as budgets.saving does) keeps a
        # concurrent allocation from taking the room or from missing a parent's change.
        parent = self.cleaned_data.get("parent")
        if parent is not None:
            Budget.objects.select_for_update().filter(pk=parent.pk).first()
        if self.instance.pk is not None:
            Budget.objects.select_for_update().filter(pk=self.instance.pk).first()
        return super().clean()


@admin.register(Budget)
class BudgetAdmin(OrgScopedAdminMixin, admin.ModelAdmin):
    form = BudgetAdminForm
    audit_deletion_action = AuditAction.BUDGET_DELETED
    list_display = ["name", "organization", "team", "parent", "amount", "currency", "period"]
    list_filter = ["period", "currency"]
    search_fields = ["name"]
    inlines = [AlertRuleInline, BudgetChangeInline]

    def save_model(self, request, obj, form, change):
        before = Budget.objects.get(pk=obj.pk) if change else None
        saving.save(
            before,
            obj,
            lambda: super(BudgetAdmin, self).save_model(request, obj, form, change) or obj,
            request.user,
            "admin",
        )

    def save_formset(self, request, form, formset, change):
        if formset.model is not AlertRule:
            return super().save_formset(request, form, formset, change)
        rules = formset.save(commit=False)  # rules belong to the budget's organization
        for rule in formset.deleted_objects:
            rule.delete()
        for rule in rules:
            rule.organization = form.instance.organization
            rule.save()
        formset.save_m2m()
        if formset.has_changed():  # a new or edited threshold may be crossed already
            queue_evaluation(form.instance.organization_id)
        return None


class ExpenseAdminForm(ExpenseRules, forms.ModelForm):
    """The same rules as the portal and the API."""


@admin.register(Expense)
class ExpenseAdmin(OrgScopedAdminMixin, admin.ModelAdmin):
    """Every write re-evaluates the organization's budgets once committed, as the API's and
    the portal's do (budgets.recording)."""

    form = ExpenseAdminForm
    audit_deletion_action = AuditAction.EXPENSE_DELETED
    list_display = ["incurred_at", "amount", "currency", "provider", "service", "team", "source"]
    list_filter = ["source", "purchase_type", "provider"]
    search_fields = ["service", "description", "external_id", "resource_id"]
    date_hierarchy = "incurred_at"
    readonly_fields = ["import_batch", "created_by", "created_at"]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)
        queue_evaluation(obj.organization_id)

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        queue_evaluation(obj.organization_id)

    def delete_queryset(self, request, queryset):
        organization_ids = set(queryset.values_list("organization_id", flat=True))
        super().delete_queryset(request, queryset)
        for organization_id in organization_ids:
            queue_evaluation(organization_id)


@admin.register(Alert)
class AlertAdmin(OrgScopedAdminMixin, admin.ModelAdmin):
    list_display = [
        "budget",
        "kind",
        "percent",
        "period_start",
        "spent",
        "fired_at",
        "acknowledged_at",
    ]
    readonly_fields = [f.name for f in Alert._meta.fields if f.name not in ("snoozed_until",)]

    def has_add_permission(self, request):
        return False


@admin.register(ExpenseImport)
class ExpenseImportAdmin(OrgScopedAdminMixin, admin.ModelAdmin):
    list_display = [
        "filename",
        "organization",
        "status",
        "rows_imported",
        "rows_skipped",
        "created_at",
    ]
    readonly_fields = [f.name for f in ExpenseImport._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(CloudCostSource)
class CloudCostSourceAdmin(OrgScopedAdminMixin, admin.ModelAdmin):
    list_display = [
        "organization",
        "provider",
        "account_label",
        "enabled",
        "last_pulled_at",
        "last_result",
    ]
    readonly_fields = ["last_pulled_at", "last_result"]
