"""API errors: DRF's shape everywhere, and domain errors mapped to their status codes."""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, connections
from rest_framework import exceptions, status
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler as drf_exception_handler


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "This change conflicts with the current state."
    default_code = "conflict"


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "payload_too_large"


def exception_handler(exc, context):
    if isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge(
            f"The request body is too large: at most {settings.DATA_UPLOAD_MAX_MEMORY_SIZE:,} "
            "bytes (send bulk expenses in batches of up to 1,000; files as multipart uploads)."
        )
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(as_serializer_error(exc))
    elif isinstance(exc, IntegrityError):
        # A concurrent write won a uniqueness race that validation had already checked.
        exc = Conflict("This conflicts with a change made at the same time; reload and retry.")
    if not getattr(context.get("view"), "writes_nothing", False):
        return drf_exception_handler(exc, context)
    # DRF marks any open transaction for rollback on errors, assuming it is the request's own
    # (ATOMIC_REQUESTS). Views that write nothing run outside one, so an enclosing transaction
    # is someone else's (a test's, a caller's): leave its state as it was.
    states = {db.alias: db.needs_rollback for db in connections.all() if db.in_atomic_block}
    response = drf_exception_handler(exc, context)
    for alias, needs_rollback in states.items():
        connections[alias].needs_rollback = needs_rollback
    return response
