"""Form fields shared by every app's pages."""

from django import forms
from django.core.exceptions import ValidationError

from costsite.params import is_id


class RowsField(forms.ModelMultipleChoiceField):
    """Several rows by id (checkboxes). A value no row can have (not a whole number from 1 to
    MAX_ID) is a form error before any query: past 64 bits it would be a 500 on SQLite."""

    def _check_values(self, value):
        if not isinstance(value, (list, tuple)):
            raise ValidationError(self.error_messages["invalid_list"], code="invalid_list")
        for pk in value:
            if not is_id(pk):
                raise ValidationError(
                    self.error_messages["invalid_pk_value"],
                    code="invalid_pk_value",
                    params={"pk": pk},
                )
        return super()._check_values(value)
