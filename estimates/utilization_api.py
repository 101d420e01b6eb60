"""REST API: GPU utilisation samples (bulk JSON and CSV upload) and right-sizing."""

from datetime import UTC

import django_filters
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from costsite.orgs.api import LIST_ERRORS, READ_ERRORS, WRITE_ERRORS
from costsite.orgs.filters import IdFilter, OrgFilterSet
from costsite.orgs.models import Team
from costsite.orgs.roles import OPERATORS
from costsite.orgs.viewsets import (
    OrgContextViewSet,
    OrgPrimaryKeyField,
    OrgScopedFieldsMixin,
    OrgScopedViewSet,
    ReadOnlyRequestsMixin,
)
from costsite.periods import check_supported_day
from estimates import rightsizing, utilization, utilization_upload
from estimates.models import Provider, PurchaseOption, UtilizationSample, UtilizationSource

MAX_BULK_SAMPLES = 10_000


class UtilizationSampleSerializer(serializers.ModelSerializer):
    class Meta:
        model = UtilizationSample
        fields = [
            "id",
            "job",
            "team",
            "provider",
            "region",
            "instance_type",
            "gpu_index",
            "at",
            "gpu_utilization",
            "gpu_memory_used_gb",
            "gpu_memory_total_gb",
            "cpu_utilization",
            "memory_used_gb",
            "oom",
            "source",
        ]
        read_only_fields = fields


def _checked(check, *args):
    try:
        return check(*args)
    except utilization.RowError as exc:
        raise serializers.ValidationError(str(exc)) from exc


class UtilizationSampleInput(serializers.Serializer):
    job = serializers.CharField(max_length=utilization.MAX_JOB_LENGTH)
    gpu_index = serializers.IntegerField(
        min_value=0, max_value=utilization.MAX_GPU_INDEX, default=0
    )
    at = serializers.DateTimeField(help_text="ISO 8601; without a time zone, UTC.")
    gpu_utilization = serializers.FloatField(min_value=0, max_value=100, help_text="Percent.")
    gpu_memory_used_gb = serializers.FloatField(
        min_value=0, max_value=utilization.MAX_GPU_MEMORY_GB, required=False, allow_null=True
    )
    gpu_memory_total_gb = serializers.FloatField(
        min_value=0, max_value=utilization.MAX_GPU_MEMORY_GB, required=False, allow_null=True
    )
    cpu_utilization = serializers.FloatField(
        min_value=0, max_value=100, required=False, allow_null=True, help_text="Percent."
    )
    memory_used_gb = serializers.FloatField(
        min_value=0, max_value=utilization.MAX_HOST_MEMORY_GB, required=False, allow_null=True
    )
    oom = serializers.BooleanField(default=False, help_text="Killed out of memory here.")
    provider = serializers.ChoiceField(
        choices=Provider.choices, required=False, allow_blank=True, default=""
    )
    region = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
    instance_type = serializers.CharField(
        max_length=60, required=False, allow_blank=True, default=""
    )

    def validate_at(self, at):
        return _checked(utilization.check_at, at)

    def validate(self, attrs):
        used, total = attrs.get("gpu_memory_used_gb"), attrs.get("gpu_memory_total_gb")
        try:
            utilization.check_memory(used, total)
        except utilization.RowError as exc:
            raise serializers.ValidationError({"gpu_memory_used_gb": [str(exc)]}) from exc
        return attrs


class UtilizationBulkInput(OrgScopedFieldsMixin, serializers.Serializer):
    samples = UtilizationSampleInput(many=True, allow_empty=False, max_length=MAX_BULK_SAMPLES)
    team = OrgPrimaryKeyField(queryset=Team.objects.all(), required=False, allow_null=True)


class UtilizationUploadInput(OrgScopedFieldsMixin, serializers.Serializer):
    file = serializers.FileField(
        help_text="nvidia-smi or DCGM exporter CSV, up to 20 MB; see the README for columns.",
        validators=[utilization_upload.validate_size],
    )
    job = serializers.CharField(
        max_length=utilization.MAX_JOB_LENGTH,
        required=False,
        allow_blank=True,
        help_text="Required for nvidia-smi files; DCGM rows may carry their own.",
    )
    provider = serializers.ChoiceField(choices=Provider.choices, required=False, allow_blank=True)
    region = serializers.CharField(max_length=40, required=False, allow_blank=True)
    instance_type = serializers.CharField(max_length=60, required=False, allow_blank=True)
    team = OrgPrimaryKeyField(queryset=Team.objects.all(), required=False, allow_null=True)


class UtilizationStoredSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    duplicates = serializers.IntegerField(help_text="Samples already stored, skipped.")


def check_supported_time(value):
    """A filter's date-time in the supported days: converting year 1 or 9999 with an offset to
    UTC overflows (a 500)."""
    check_supported_day(value.date())


class UtcIsoDateTimeField(django_filters.fields.IsoDateTimeField):
    """An ISO date-time; one without an offset is UTC (not the server's TIME_ZONE)."""

    def to_python(self, value):
        with timezone.override(UTC):
            return super().to_python(value)


class UtcDateTimeFilter(django_filters.IsoDateTimeFilter):
    """An ISO date-time compared in UTC (one without an offset read as UTC): PostgreSQL refuses
    offsets beyond ±15:59, which ISO 8601 allows (e.g. +21:46)."""

    field_class = UtcIsoDateTimeField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("validators", [check_supported_time])
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        return super().filter(qs, value.astimezone(UTC) if value else value)


class UtilizationSampleFilter(OrgFilterSet):
    since = UtcDateTimeFilter(field_name="at", lookup_expr="gte")
    until = UtcDateTimeFilter(field_name="at", lookup_expr="lt")
    team = IdFilter(field_name="team_id")

    class Meta:
        model = UtilizationSample
        fields = ["job", "team", "gpu_index", "source", "since", "until"]


@extend_schema_view(
    list=extend_schema(responses={200: UtilizationSampleSerializer(many=True), **LIST_ERRORS}),
)
class UtilizationViewSet(OrgScopedViewSet, mixins.ListModelMixin):
    """GPU utilisation samples per job (one row per GPU per reading), for right-sizing."""

    queryset = UtilizationSample.objects.all()
    serializer_class = UtilizationSampleSerializer
    write_roles = OPERATORS
    filterset_class = UtilizationSampleFilter
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    @extend_schema(
        request=UtilizationBulkInput,
        responses={201: UtilizationStoredSerializer, **WRITE_ERRORS},
        description=f"Store up to {MAX_BULK_SAMPLES:,} samples atomically: all or none, with "
        "field errors keyed by the index of each bad sample. A sample whose job, gpu_index and "
        "at are already stored is skipped and counted in `duplicates`.",
    )
    def create(self, request, *args, **kwargs):
        form = UtilizationBulkInput(data=request.data, context=self.get_serializer_context())
        form.is_valid(raise_exception=True)
        created, duplicates = utilization.store(
            self.org,
            form.validated_data["samples"],
            UtilizationSource.API,
            form.validated_data.get("team"),
        )
        return Response(
            {"created": created, "duplicates": duplicates}, status=status.HTTP_201_CREATED
        )

    @extend_schema(
        request={"multipart/form-data": UtilizationUploadInput},
        responses={
            201: UtilizationStoredSerializer,
            400: OpenApiResponse(
                OpenApiTypes.OBJECT,
                description='Field errors, or rejected rows: `{"file": ["…"], "rows": '
                '[{"line": 3, "errors": {"utilization.gpu": "…"}}]}`; nothing is stored.',
            ),
            **READ_ERRORS,
        },
        description="Upload an nvidia-smi (`--query-gpu=timestamp,index,utilization.gpu,"
        "memory.used,memory.total --format=csv`) or DCGM exporter CSV file. `job` (required "
        "for nvidia-smi files), `provider`, `region`, `instance_type` and `team` apply to "
        "every row. All rows or none; re-uploading adds nothing.",
    )
    @action(detail=False, methods=["post"])
    def upload(self, request, *args, **kwargs):
        form = UtilizationUploadInput(data=request.data, context=self.get_serializer_context())
        form.is_valid(raise_exception=True)
        result = utilization_upload.upload_csv(self.org, **form.validated_data)
        if not result.stored:
            # Returned, not raised: DRF's error handling would turn each line number into a string.
            rows = {"rows": result.rows} if result.rows else {}
            return Response({**result.errors, **rows}, status=status.HTTP_400_BAD_REQUEST)
        return Response(
            {"created": result.created, "duplicates": result.duplicates},
            status=status.HTTP_201_CREATED,
        )


class RightSizingQuery(serializers.Serializer):
    job = serializers.CharField(max_length=utilization.MAX_JOB_LENGTH, required=False)
    days = serializers.IntegerField(min_value=1, max_value=366, default=30)
    end = serializers.DateField(
        required=False,
        validators=[check_supported_day],
        help_text="Last day of the window (UTC), inclusive; default: now.",
    )
    purchase_option = serializers.ChoiceField(
        choices=PurchaseOption.choices,
        default=PurchaseOption.ON_DEMAND,
        help_text="How jobs are priced (spot-fleet jobs: spot).",
    )


@extend_schema(
    parameters=[RightSizingQuery],
    responses={
        200: OpenApiTypes.OBJECT,
        400: OpenApiResponse(description="Bad query parameter."),
        **READ_ERRORS,
    },
    description="Right-sizing of every job with samples in the window (or one `job`): "
    "utilisation percentiles, GPU memory peak against the card, OOMs, a classification (idle, "
    "under_provisioned, over_provisioned, right_sized) and the cheapest offer that fits, with "
    "monthly savings (price × 730 h × duty cycle) as decimal strings; every price with its "
    "source and as_of. → `{window, purchase_option, jobs, total_monthly_savings, currency}`.",
)
class RightSizingViewSet(ReadOnlyRequestsMixin, OrgContextViewSet):
    """Right-sizing recommendations from GPU utilisation samples."""

    serializer_class = RightSizingQuery

    def list(self, request, *args, **kwargs):
        query = RightSizingQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        q = query.validated_data
        return Response(
            rightsizing.report_for(
                self.org, q["days"], q.get("end"), q.get("job"), q["purchase_option"]
            )
        )
