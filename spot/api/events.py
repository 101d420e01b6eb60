"""`spot/events/`: AWS EventBridge events about spot instances, exactly as AWS sends them (an
API destination with the org token as a Bearer header); and the log of every event."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, serializers, status
from rest_framework.response import Response

from costsite.orgs.api import LIST_ERRORS, READ_ERRORS, WRITE_ERRORS
from costsite.orgs.filters import OrgFilterSet
from costsite.orgs.roles import OPERATORS
from costsite.orgs.viewsets import OrgScopedViewSet
from spot import events
from spot.models import EventSource, InterruptionEvent


class EventFilter(OrgFilterSet):
    """`?fleet=<id>&source=&kind=`, the list's filters here and on the events page: a fleet is
    chosen among the organization's own (OrgFilterSet); a bad value is a field error."""

    class Meta:
        model = InterruptionEvent
        fields = ["fleet", "source", "kind"]


class EventSerializer(serializers.ModelSerializer):
    class Meta:
        model = InterruptionEvent
        fields = [
            "id",
            "fleet",
            "attempt",
            "source",
            "kind",
            "provider_instance_id",
            "occurred_at",
            "received_at",
            "handled_at",
            "outcome",
            "detail",
        ]
        read_only_fields = fields


@extend_schema_view(
    list=extend_schema(responses={200: EventSerializer(many=True), **LIST_ERRORS}),
    retrieve=extend_schema(responses={200: EventSerializer, **READ_ERRORS}),
)
class InterruptionEventViewSet(OrgScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """Interruption warnings, rebalance recommendations and instance state changes, from
    EventBridge, job agents, the state poll and simulations; each recorded once."""

    queryset = InterruptionEvent.objects.all()
    serializer_class = EventSerializer
    write_roles = OPERATORS
    filterset_class = EventFilter

    @extend_schema(
        request={"application/json": OpenApiTypes.OBJECT},
        responses={202: EventSerializer, 200: EventSerializer, **WRITE_ERRORS},
        description="An EventBridge event as AWS sends it: `EC2 Spot Instance Interruption "
        "Warning`, `EC2 Instance Rebalance Recommendation` or `EC2 Instance State-change "
        "Notification`. Delivered at least once: a repeated event id returns 200 and does "
        "nothing. Handling (checkpoint directive, replacement, accounting) runs in a task.",
    )
    def create(self, request, *args, **kwargs):
        if not isinstance(request.data, dict):
            raise exceptions.ValidationError({"non_field_errors": ["Send one event object."]})
        try:
            parsed = events.parse_eventbridge(request.data)
        except events.EventError as exc:
            raise exceptions.ValidationError({exc.field: [str(exc)]}) from exc
        event, created = events.record(self.org, EventSource.EVENTBRIDGE, parsed)
        return Response(
            EventSerializer(event).data,
            status=status.HTTP_202_ACCEPTED if created else status.HTTP_200_OK,
        )
