"""Tenant scoping for Django admin, used by every app's ModelAdmin of tenant-owned rows.

Superusers see everything. A staff user who is not a superuser sees, opens, adds and saves only
rows of organizations where they hold the finance, admin or owner role; foreign-key and
many-to-many choices are limited the same way, and a row's related objects must belong to the
row's own organization. A new row's organization is set for them when they have exactly one
such organization, and can never be changed afterwards by them. The list's filters over related
rows offer only values their own rows use (never another organization's name), and a new or
changed row is checked against the model's constraints (a duplicate is a form error, not a 500).
"""

from django.contrib import admin
from django.contrib.admin import RelatedOnlyFieldListFilter
from django.contrib.admin.utils import get_fields_from_path
from django.core.exceptions import (
    NON_FIELD_ERRORS,
    FieldDoesNotExist,
    PermissionDenied,
    ValidationError,
)

from costsite.accounts.models import User
from costsite.orgs import audit
from costsite.orgs.models import Organization
from costsite.orgs.roles import ADMIN_SITE_ROLES


def admin_organizations(user):
    if user.is_superuser:
        return Organization.objects.all()
    if not (user.is_active and user.is_staff):
        return Organization.objects.none()
    return Organization.objects.filter(
        memberships__user=user, memberships__role__in=ADMIN_SITE_ROLES
    ).distinct()


def _allowed_org_ids(request) -> set[int]:
    if not hasattr(request, "_admin_org_ids"):
        request._admin_org_ids = set(admin_organizations(request.user).values_list("pk", flat=True))
    return request._admin_org_ids


def _related_org_error(org_id, value):
    """Why `value` may not be linked from a row of organization `org_id`, or None."""
    if isinstance(value, User):
        if not value.memberships.filter(organization_id=org_id).exists():
            return f"{value} is not a member of this organization."
    elif getattr(value, "organization_id", org_id) != org_id:
        return f"{value} belongs to another organization."
    return None


class OrgScopedAdminMixin:
    org_field = "organization"
    # The AuditAction recorded for each row deleted in the admin (None: not audited).
    audit_deletion_action = None

    # --- which rows -----------------------------------------------------------------------
    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(**{f"{self.org_field}__in": _allowed_org_ids(request)})

    def _row_allowed(self, request, obj) -> bool:
        if obj is None or request.user.is_superuser:
            return True
        return getattr(obj, f"{self.org_field}_id") in _allowed_org_ids(request)

    def has_module_permission(self, request):
        return request.user.is_superuser or bool(_allowed_org_ids(request))

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request) and self._row_allowed(request, obj)

    def has_add_permission(self, request):
        return self.has_module_permission(request)

    def has_change_permission(self, request, obj=None):
        return self.has_module_permission(request) and self._row_allowed(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self.has_module_permission(request) and self._row_allowed(request, obj)

    # --- which filters --------------------------------------------------------------------
    def get_list_filter(self, request):
        """Django's filter over a relation lists every row of the related table (every
        organization, every user); for a non-superuser it lists only the values used by the
        rows they may see."""
        list_filter = super().get_list_filter(request)
        if request.user.is_superuser:
            return list_filter
        return [
            (item, RelatedOnlyFieldListFilter) if self._is_relation(item) else item
            for item in list_filter
        ]

    def _is_relation(self, item) -> bool:
        if not isinstance(item, str):
            return False  # a (field, filter class) pair or a SimpleListFilter: as written
        try:
            return get_fields_from_path(self.model, item)[-1].is_relation
        except FieldDoesNotExist:
            return False

    # --- which choices --------------------------------------------------------------------
    def _limit_choices(self, db_field, request, kwargs):
        if request.user.is_superuser:
            return
        org_ids = _allowed_org_ids(request)
        model = db_field.remote_field.model
        if model is Organization:
            kwargs["queryset"] = Organization.objects.filter(pk__in=org_ids)
        elif model is User:
            kwargs["queryset"] = User.objects.filter(
                memberships__organization_id__in=org_ids
            ).distinct()
        else:
            queryset = model._default_manager.get_queryset()
            if hasattr(queryset, "for_orgs"):
                kwargs["queryset"] = queryset.for_orgs(org_ids)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        self._limit_choices(db_field, request, kwargs)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        self._limit_choices(db_field, request, kwargs)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    # --- the organization of a row --------------------------------------------------------
    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and not request.user.is_superuser:
            fields.append(self.org_field)
        return fields

    def _org_is_implied(self, request, obj) -> bool:
        return obj is None and not request.user.is_superuser and len(_allowed_org_ids(request)) == 1

    def get_exclude(self, request, obj=None):
        exclude = list(super().get_exclude(request, obj) or [])
        if self._org_is_implied(request, obj):
            exclude.append(self.org_field)
        return exclude

    def get_fields(self, request, obj=None):
        fields = list(super().get_fields(request, obj))
        if self._org_is_implied(request, obj) and self.org_field in fields:
            fields.remove(self.org_field)
        return fields

    def get_form(self, request, obj=None, **kwargs):
        form_class = super().get_form(request, obj, **kwargs)
        org_field = self.org_field
        only_org = None
        if obj is None and not request.user.is_superuser:
            org_ids = _allowed_org_ids(request)
            only_org = next(iter(org_ids)) if len(org_ids) == 1 else None

        class ScopedForm(form_class):
            def clean(self):
                cleaned = super().clean()
                org_id = only_org or getattr(self.instance, f"{org_field}_id", None)
                if org_field in cleaned and cleaned[org_field] is not None:
                    org_id = cleaned[org_field].pk
                if org_id is None:
                    return cleaned
                setattr(self.instance, f"{org_field}_id", org_id)
                for name, value in cleaned.items():
                    if name == org_field:
                        continue
                    values = (
                        value
                        if hasattr(value, "__iter__") and not isinstance(value, str | bytes | dict)
                        else [value]
                    )
                    for item in values:
                        error = _related_org_error(org_id, item) if hasattr(item, "pk") else None
                        if error:
                            self.add_error(name, ValidationError(error))
                return cleaned

            def _get_validation_exclusions(self):
                # Django leaves out of model validation every field the form does not show,
                # and with it every constraint that mentions one (a team name unique per
                # organization...), so a duplicate would reach the database as a 500. The
                # organization is not shown when it is implied or read-only, but clean() has
                # set it on the row by now: validate the row with it.
                exclude = super()._get_validation_exclusions()
                if org_field not in self.fields and getattr(self.instance, f"{org_field}_id"):
                    exclude.discard(org_field)
                return exclude

            def add_error(self, field, error):
                # An error about the organization, which this form does not show, is about the
                # row as a whole (Django refuses errors for fields a form does not have).
                error_dict = getattr(error, "error_dict", None) or {}
                if field is None and org_field in error_dict and org_field not in self.fields:
                    error_dict.setdefault(NON_FIELD_ERRORS, []).extend(error_dict.pop(org_field))
                super().add_error(field, error)

        return ScopedForm

    def save_model(self, request, obj, form, change):
        if not self._row_allowed(request, obj):
            raise PermissionDenied
        super().save_model(request, obj, form, change)

    def log_deletions(self, request, queryset):
        super().log_deletions(request, queryset)
        if self.audit_deletion_action:
            for obj in queryset:
                audit.record(
                    getattr(obj, self.org_field),
                    self.audit_deletion_action,
                    obj,
                    actor=request.user,
                    details={"via": "admin"},
                )


class ParentScopedInline(admin.TabularInline):
    """Rows that belong to a parent row (a budget's rules, a fleet's attempts), allowed exactly
    when the parent is: by the parent admin's organization-scoped permissions
    (OrgScopedAdminMixin), not by Django model permissions, which finance staff do not hold."""

    def parent_admin(self):
        return self.admin_site.get_model_admin(self.parent_model)

    def has_view_permission(self, request, obj=None):
        return self.parent_admin().has_view_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return self.parent_admin().has_change_permission(request, obj)

    def has_add_permission(self, request, obj=None):
        return self.parent_admin().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self.parent_admin().has_change_permission(request, obj)
