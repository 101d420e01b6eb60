"""REST API for idle-resource cleanup: scans of an AWS region and the idle resources they found.

A scan is created queued and runs in a task; poll it. Deleting resources happens in AWS at once,
one by one, and the response says for each id whether it was deleted.
"""

from dataclasses import asdict
from decimal import Decimal

import django_filters
from django.db.models import Count, DecimalField, Q, Sum, Value
from django.db.models.functions import Coalesce
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from costsite.orgs.api import LIST_ERRORS, READ_ERRORS, WRITE_ERRORS
from costsite.orgs.filters import IdFilter, OrgFilterSet
from costsite.orgs.roles import OPERATORS
from costsite.orgs.viewsets import OrgScopedViewSet
from costsite.params import MAX_ID
from spot import idle, idle_rates
from spot.models import IdleResource, IdleScan

MAX_DELETE = 500


class IdleResourceSerializer(serializers.ModelSerializer):
    deleted_by = serializers.EmailField(
        source="deleted_by.email", read_only=True, default=None, allow_null=True
    )

    class Meta:
        model = IdleResource
        fields = [
            "id",
            "scan",
            "kind",
            "resource_id",
            "region",
            "description",
            "size_gb",
            "idle_since",
            "monthly_cost",
            "currency",
            "price_basis",
            "deleted_at",
            "deleted_by",
            "delete_error",
        ]
        read_only_fields = fields


class IdleScanSerializer(serializers.ModelSerializer):
    created_by = serializers.EmailField(
        source="created_by.email", read_only=True, default=None, allow_null=True
    )
    resource_count = serializers.IntegerField(read_only=True)
    monthly_waste = serializers.DecimalField(
        max_digits=16,
        decimal_places=4,
        read_only=True,
        help_text="Monthly cost of the resources found and not deleted.",
    )
    currency = serializers.SerializerMethodField()

    class Meta:
        model = IdleScan
        fields = [
            "id",
            "region",
            "snapshot_min_age_days",
            "stopped_min_days",
            "account_id",
            "status",
            "error",
            "created_by",
            "created_at",
            "finished_at",
            "resource_count",
            "monthly_waste",
            "currency",
        ]
        read_only_fields = fields

    def get_currency(self, scan) -> str:
        return idle_rates.CURRENCY


class IdleScanDetailSerializer(IdleScanSerializer):
    resources = IdleResourceSerializer(many=True, read_only=True)

    class Meta(IdleScanSerializer.Meta):
        fields = [*IdleScanSerializer.Meta.fields, "resources"]
        read_only_fields = fields


class IdleScanInput(serializers.Serializer):
    region = serializers.CharField(max_length=40, help_text="An AWS region of the catalogue.")
    snapshot_min_age_days = serializers.IntegerField(
        min_value=1,
        max_value=idle.MAX_DAYS,
        default=30,
        help_text="List snapshots older than this many days.",
    )
    stopped_min_days = serializers.IntegerField(
        min_value=1,
        max_value=idle.MAX_DAYS,
        default=7,
        help_text="List instances stopped for more than this many days.",
    )

    def validate_region(self, value):
        codes = [code for code, _ in idle.aws_regions()]
        if value not in codes:
            raise serializers.ValidationError(
                f"Not an AWS region of the catalogue; one of: {', '.join(codes) or 'none loaded'}."
            )
        return value


@extend_schema_view(
    list=extend_schema(responses={200: IdleScanSerializer(many=True), **LIST_ERRORS}),
    retrieve=extend_schema(responses={200: IdleScanDetailSerializer, **READ_ERRORS}),
    create=extend_schema(
        request=IdleScanInput,
        responses={201: IdleScanDetailSerializer, **WRITE_ERRORS},
        description="Queue a scan of the region with the task worker's AWS credentials; poll "
        "the scan until its status is done or failed.",
    ),
)
class IdleScanViewSet(
    OrgScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin
):
    """Scans of an AWS region for unattached volumes, old snapshots, unassociated Elastic IPs
    and long-stopped instances, each priced per month from the catalogue."""

    queryset = IdleScan.objects.select_related("created_by")
    serializer_class = IdleScanSerializer
    write_roles = OPERATORS
    filterset_fields = ["status", "region"]

    def refine_queryset(self, queryset):
        queryset = queryset.annotate(
            resource_count=Count("resources"),
            monthly_waste=Coalesce(
                Sum("resources__monthly_cost", filter=Q(resources__deleted_at__isnull=True)),
                Value(Decimal(0)),
                output_field=DecimalField(max_digits=16, decimal_places=4),
            ),
        ).order_by(*IdleScan._meta.ordering)  # aggregation drops Meta.ordering
        if self.action == "retrieve":
            queryset = queryset.prefetch_related("resources__deleted_by")
        return queryset

    def get_serializer_class(self):
        return IdleScanDetailSerializer if self.action == "retrieve" else IdleScanSerializer

    def create(self, request, *args, **kwargs):
        form = IdleScanInput(data=request.data)
        form.is_valid(raise_exception=True)
        scan = idle.start_scan(self.org, request.user, **form.validated_data)
        scan = self.get_queryset().prefetch_related("resources__deleted_by").get(pk=scan.pk)
        return Response(IdleScanDetailSerializer(scan).data, status=status.HTTP_201_CREATED)


class IdleResourceFilter(OrgFilterSet):
    scan = IdFilter(field_name="scan_id")
    deleted = django_filters.BooleanFilter(
        field_name="deleted_at", lookup_expr="isnull", exclude=True
    )

    class Meta:
        model = IdleResource
        fields = ["scan", "kind", "deleted"]


class DeleteInput(serializers.Serializer):
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        min_length=1,
        max_length=MAX_DELETE,
    )
    confirm = serializers.BooleanField(help_text="Must be true: the resources are deleted in AWS.")

    def validate_ids(self, ids):
        found = set(
            IdleResource.objects.for_org(self.context["org"])
            .filter(pk__in=ids)
            .values_list("pk", flat=True)
        )
        missing = sorted(set(ids) - found)
        if missing:
            raise serializers.ValidationError(
                f"Not idle resources of this organization: {', '.join(map(str, missing))}."
            )
        return list(dict.fromkeys(ids))

    def validate_confirm(self, value):
        if not value:
            raise serializers.ValidationError("Send true to delete these resources in AWS.")
        return value


class DeleteResultSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    resource_id = serializers.CharField()
    kind = serializers.CharField()
    result = serializers.ChoiceField(choices=["deleted", "failed", "already_deleted"])
    error = serializers.CharField()


class DeleteResponseSerializer(serializers.Serializer):
    deleted = serializers.IntegerField()
    failed = serializers.IntegerField()
    results = DeleteResultSerializer(many=True)


@extend_schema_view(
    list=extend_schema(responses={200: IdleResourceSerializer(many=True), **LIST_ERRORS}),
    retrieve=extend_schema(responses={200: IdleResourceSerializer, **READ_ERRORS}),
)
class IdleResourceViewSet(OrgScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """Idle resources found by scans; filter by scan, kind and deleted."""

    queryset = IdleResource.objects.select_related("deleted_by")
    serializer_class = IdleResourceSerializer
    write_roles = OPERATORS
    filterset_class = IdleResourceFilter

    @extend_schema(
        request=DeleteInput,
        responses={
            200: DeleteResponseSerializer,
            400: OpenApiResponse(
                OpenApiTypes.OBJECT,
                description="No confirm, or ids that are not this organization's; nothing "
                "was deleted.",
            ),
            **{code: WRITE_ERRORS[code] for code in (401, 403, 404)},
        },
        description="Delete the resources in AWS (volumes, snapshots, Elastic IPs; stopped "
        "instances are terminated) with the server's AWS credentials. Each id is reported: "
        "deleted, failed (with the reason) or already_deleted; one failure does not stop the "
        "others.",
    )
    @action(detail=False, methods=["post"], url_path="delete", url_name="delete")
    def delete_selected(self, request, *args, **kwargs):
        form = DeleteInput(data=request.data, context=self.get_serializer_context())
        form.is_valid(raise_exception=True)
        ids = form.validated_data["ids"]
        rows = {row.pk: row for row in self.get_queryset().filter(pk__in=ids)}
        results = idle.delete([rows[pk] for pk in ids], request.user)
        body = {
            "deleted": sum(1 for r in results if r.result == "deleted"),
            "failed": sum(1 for r in results if r.result == "failed"),
            "results": [asdict(r) for r in results],
        }
        return Response(DeleteResponseSerializer(body).data)
