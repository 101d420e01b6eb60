"""django-filter filters shared by every app's list endpoints and pages."""

import django_filters
from django import forms
from drf_spectacular.utils import extend_schema_field

MAX_ID = 2**63 - 1  # the largest primary key (a 64-bit signed column)


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
