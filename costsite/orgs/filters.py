"""django-filter filters shared by every app's list endpoints and pages."""

import django_filters
from django import forms
from django_filters import ModelChoiceFilter, ModelMultipleChoiceFilter
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema_field

from costsite.params import MAX_ID


@extend_schema_field({"type": "integer", "format": "int64", "minimum": 1, "maximum": MAX_ID})
class IdFilter(django_filters.NumberFilter):
    """A row id in the query string: a whole number from 1 to MAX_ID. Anything else is a field
    error (a 400 in the API, a message on a page) and never reaches the database, where a
    number past 64 bits is a 500 on SQLite and `1.5` would match row 1."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)

    def get_max_validator(self):
        return None  # the field's own max_value bounds it


class OrgFilterSet(django_filters.FilterSet):
    """A filter set of an organization's list. Given the organization (`org`), its filters by a
    related row (`?team=<id>`, `?budget=<id>`) choose only among that organization's rows: another
    organization's row id is then the same field error as an id no row has, so a filter never
    tells whether another organization's row exists."""

    def __init__(self, data=None, queryset=None, *, request=None, prefix=None, org=None):
        super().__init__(data, queryset, request=request, prefix=prefix)
        if org is None:
            return
        for spec in self.filters.values():
            if isinstance(spec, ModelChoiceFilter | ModelMultipleChoiceFilter):
                rows = spec.get_queryset(request)
                if hasattr(rows, "for_org"):  # an organization's rows (TenantQuerySet)
                    spec.queryset = rows.for_org(org)


class OrgFilterBackend(DjangoFilterBackend):
    """DRF's django-filter backend with OrgFilterSet as the base of generated filter sets, given
    the organization of an org-scoped view (its `org`)."""

    filterset_base = OrgFilterSet

    def get_filterset_kwargs(self, request, queryset, view):
        kwargs = super().get_filterset_kwargs(request, queryset, view)
        org = getattr(view, "org", None)
        if org is not None:
            kwargs["org"] = org
        return kwargs
