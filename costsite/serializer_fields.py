"""Serializer fields shared by every app's API."""

import math

from rest_framework import serializers


class FiniteFloatField(serializers.FloatField):
    """A float that rejects NaN and ±Infinity (DRF's FloatField accepts them, and NaN then slips
    past min/max checks)."""

    default_error_messages = {"not_finite": "Must be a finite number."}

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if not math.isfinite(value):
            self.fail("not_finite")
        return value
