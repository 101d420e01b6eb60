"""The audit log: `record(...)` writes one AuditEvent for a security-relevant action.

Domain functions call `record` where the action happens, so pages, the API and tasks all leave
the same trail. Who acted and from which address come from the request being served (set by
`AuditContextMiddleware`; DRF puts the token's user on it), unless the caller names the actor;
outside a request (tasks, commands) there is no address.
"""

from contextvars import ContextVar

from costsite.orgs.models import ApiToken, AuditEvent

_request = ContextVar("audit_request", default=None)
_FROM_REQUEST = object()


class AuditContextMiddleware:
    """Makes the request being served available to `record`."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _request.set(request)
        try:
            return self.get_response(request)
        finally:
            _request.reset(token)


def _request_user(request):
    user = getattr(request, "user", None)
    return user if user is not None and user.is_authenticated else None


def record(
    organization, action, target=None, *, actor=_FROM_REQUEST, label=None, details=None
) -> AuditEvent:
    """Write an audit event. `target` is the model instance acted on (it may be about to be
    deleted); `label` overrides its display text. Never pass secrets in `label` or `details`."""
    request = _request.get()
    if actor is _FROM_REQUEST:
        actor = _request_user(request) if request is not None else None
    details = dict(details or {})
    token = getattr(getattr(request, "auth", None), "token", None)  # a TokenAuth from DRF
    if isinstance(token, ApiToken):
        details.setdefault("via_token", token.masked)
    return AuditEvent.objects.create(
        organization=organization,
        actor=actor,
        actor_email=getattr(actor, "email", ""),
        action=action,
        target_type=target._meta.model_name if target is not None else "",
        target_id=str(target.pk) if target is not None and target.pk is not None else "",
        target_label=(label if label is not None else str(target or ""))[:200],
        details=details,
        ip=(request.META.get("REMOTE_ADDR") or None) if request is not None else None,
    )
