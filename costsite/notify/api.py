"""REST API for alert channels: CRUD, send a test, the delivery log, secret rotation."""

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from costsite.notify import channels, delivery
from costsite.notify.models import Channel, Delivery
from costsite.orgs.api import LIST_ERRORS, READ_ERRORS, crud_schema
from costsite.orgs.exceptions import Conflict
from costsite.orgs.roles import MANAGERS
from costsite.orgs.viewsets import OrgScopedModelViewSet, OrgScopedSerializer


class ChannelSerializer(OrgScopedSerializer):
    status = serializers.CharField(read_only=True)
    secret = serializers.SerializerMethodField(
        help_text="Webhook signing secret; present only in the response that creates or rotates it."
    )

    class Meta:
        model = Channel
        fields = [
            "id",
            "name",
            "kind",
            "target",
            "enabled",
            "status",
            "secret",
            "created_at",
            "last_success_at",
            "last_error",
            "last_error_at",
            "failing_since",
        ]
        read_only_fields = [
            "id",
            "status",
            "secret",
            "created_at",
            "last_success_at",
            "last_error",
            "last_error_at",
            "failing_since",
        ]

    def to_representation(self, channel):
        data = super().to_representation(channel)
        access = self.context.get("access")
        if access is None or access.role not in MANAGERS:
            data["target"] = channel.masked_target
        return data

    def get_secret(self, channel) -> str | None:
        return channel.secret if self.context.get("show_secret") and channel.secret else None

    def validate(self, attrs):
        kind = attrs.get("kind", self.instance.kind if self.instance else None)
        if self.instance is not None and kind != self.instance.kind:
            raise serializers.ValidationError({"kind": ["The kind of a channel cannot change."]})
        if "target" in attrs or self.instance is None:
            try:
                attrs["target"] = channels.clean_target(kind, attrs.get("target", ""))
            except DjangoValidationError as exc:
                raise serializers.ValidationError({"target": exc.messages}) from exc
        return attrs


class DeliverySerializer(serializers.ModelSerializer):
    class Meta:
        model = Delivery
        fields = [
            "id",
            "event",
            "status",
            "attempts",
            "http_status",
            "error",
            "duration_ms",
            "created_at",
            "next_attempt_at",
            "finished_at",
            "attempt_log",
        ]
        read_only_fields = fields


@crud_schema(ChannelSerializer)
class ChannelViewSet(OrgScopedModelViewSet):
    """Alert channels (email, signed webhook, Slack-compatible webhook). Owners and admins
    write; everyone in the organization reads."""

    queryset = Channel.objects.all()
    serializer_class = ChannelSerializer
    filterset_fields = ["kind", "enabled"]

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = channels.create_channel(
            self.org, data["name"], data["kind"], data["target"], data.get("enabled", True)
        )
        serializer.context["show_secret"] = True

    def perform_destroy(self, instance):
        channels.delete_channel(instance)

    @extend_schema(
        request=None,
        description="Queue a test message to this channel; poll the delivery log for the result.",
        responses={202: DeliverySerializer, **READ_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def test(self, request, *args, **kwargs):
        sent = delivery.send_test(self.get_object())
        return Response(DeliverySerializer(sent).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        request=None,
        description="Replace the webhook signing secret; the new one is in this response only.",
        responses={
            200: ChannelSerializer,
            409: OpenApiResponse(description="Not a webhook."),
            **READ_ERRORS,
        },
    )
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, *args, **kwargs):
        channel = self.get_object()
        if channel.kind != "webhook":
            raise Conflict("Only webhook channels have a signing secret.")
        channels.rotate_secret(channel)
        context = self.get_serializer_context() | {"show_secret": True}
        return Response(ChannelSerializer(channel, context=context).data)

    @extend_schema(
        description="The delivery log of this channel, newest first.",
        responses={200: DeliverySerializer(many=True), **LIST_ERRORS},
    )
    @action(detail=True, methods=["get"])
    def deliveries(self, request, *args, **kwargs):
        log = Delivery.objects.for_org(self.org).filter(channel=self.get_object())
        page = self.paginate_queryset(log)
        return self.get_paginated_response(DeliverySerializer(page, many=True).data)
