"""`/api/v1/orgs/<org>/audit-events/`: the organization's audit log, read-only, for owners and
admins; filter by `action` and `actor` (a user id)."""

import django_filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers

from costsite.orgs.api import LIST_ERRORS, READ_ERRORS
from costsite.orgs.filters import IdFilter, OrgFilterSet
from costsite.orgs.models import AuditAction, AuditEvent
from costsite.orgs.roles import MANAGERS
from costsite.orgs.viewsets import OrgScopedViewSet, ReadOnlyRequestsMixin


class AuditEventFilter(OrgFilterSet):
    action = django_filters.ChoiceFilter(choices=AuditAction.choices)
    actor = IdFilter(field_name="actor_id", label="Actor (user id)")

    class Meta:
        model = AuditEvent
        fields = ["action", "actor"]


class AuditEventSerializer(serializers.ModelSerializer):
    actor_email = serializers.CharField(
        read_only=True, help_text="Who acted, kept after the account is gone; '' for the system."
    )

    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "created_at",
            "action",
            "actor",
            "actor_email",
            "ip",
            "target_type",
            "target_id",
            "target_label",
            "details",
        ]
        read_only_fields = fields


@extend_schema_view(
    list=extend_schema(responses={200: AuditEventSerializer(many=True), **LIST_ERRORS}),
    retrieve=extend_schema(responses={200: AuditEventSerializer, **READ_ERRORS}),
)
class AuditEventViewSet(
    ReadOnlyRequestsMixin, OrgScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin
):
    """Security-relevant actions in the organization (tokens, members, invitations, channels,
    deletions), newest first. Owners and admins only."""

    queryset = AuditEvent.objects.all()
    serializer_class = AuditEventSerializer
    read_roles = MANAGERS
    filterset_class = AuditEventFilter
