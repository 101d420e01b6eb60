"""REST API: the catalogue as an organization sees it, the four computations, saved estimates,
and the organization's own price list."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import exceptions, mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from costsite.orgs.api import LIST_ERRORS, READ_ERRORS, WRITE_ERRORS, crud_schema
from costsite.orgs.roles import FINANCE_WRITERS, OPERATORS, READERS
from costsite.orgs.viewsets import (
    OrgContextViewSet,
    OrgScopedModelViewSet,
    OrgScopedSerializer,
    OrgScopedViewSet,
    ReadOnlyRequestsMixin,
)
from estimates import computations, org_prices
from estimates.inputs import CiPlanInput, CommitmentInput, CompareInput, EstimateInput
from estimates.models import (
    Accelerator,
    EgressRate,
    InstanceType,
    Price,
    ProviderDiscount,
    Region,
    SavedEstimate,
    StorageRate,
)
from estimates.offers import offer_table

COMPUTE_ERRORS = {400: OpenApiResponse(description="Field errors."), **READ_ERRORS}


def compute(kind, org, data):
    try:
        return computations.run(kind, org, data)
    except computations.InvalidInput as exc:
        raise exceptions.ValidationError(exc.errors) from exc


class EstimatesViewSet(ReadOnlyRequestsMixin, OrgContextViewSet):
    """Computations: they write nothing, so every role and read tokens may call them."""

    computation_actions = frozenset({"estimate", "compare", "commitments", "ci_plan"})
    action_roles = dict.fromkeys(computation_actions, READERS)
    serializer_class = EstimateInput

    @extend_schema(
        request=EstimateInput,
        responses={200: OpenApiTypes.OBJECT, **COMPUTE_ERRORS},
        description="Cost of a workload on one offer: total_cost, breakdown (compute, storage, "
        "egress, interruption_overhead) and every assumption with its source and date.",
    )
    @action(detail=False, methods=["post"])
    def estimate(self, request, *args, **kwargs):
        return Response(compute("estimate", self.org, request.data)[1])

    @extend_schema(
        request=CompareInput,
        responses={200: OpenApiTypes.OBJECT, **COMPUTE_ERRORS},
        description="Every matching offer across providers, regions and purchase options, "
        "sorted by total cost.",
    )
    @action(detail=False, methods=["post"])
    def compare(self, request, *args, **kwargs):
        return Response(compute("compare", self.org, request.data)[1])

    @extend_schema(
        request=CommitmentInput,
        responses={200: OpenApiTypes.OBJECT, **COMPUTE_ERRORS},
        description="Break-even utilisation of 1- and 3-year commitments against on-demand "
        "and spot for a recurring workload, and a recommendation.",
    )
    @action(detail=False, methods=["post"])
    def commitments(self, request, *args, **kwargs):
        return Response(compute("commitment", self.org, request.data)[1])

    @extend_schema(
        request=CiPlanInput,
        responses={200: OpenApiTypes.OBJECT, **COMPUTE_ERRORS},
        description="Cheapest right-sized instance per CI test type; cost per run and month.",
    )
    @action(detail=False, methods=["post"], url_path="ci-plan")
    def ci_plan(self, request, *args, **kwargs):
        return Response(compute("ci_plan", self.org, request.data)[1])


# --- Saved estimates ---------------------------------------------------------------------------


class SavedEstimateSerializer(OrgScopedSerializer):
    result = serializers.JSONField(read_only=True)
    created_by = serializers.EmailField(
        source="created_by.email", read_only=True, default=None, allow_null=True
    )

    class Meta:
        model = SavedEstimate
        fields = ["id", "name", "kind", "team", "inputs", "result", "created_by", "created_at"]
        read_only_fields = ["id", "result", "created_by", "created_at"]

    def validate(self, attrs):
        try:
            attrs["inputs"], attrs["result"] = computations.run(
                attrs["kind"], self.context["org"], attrs["inputs"]
            )
        except computations.InvalidInput as exc:
            raise serializers.ValidationError({"inputs": exc.errors}) from exc
        return attrs


@extend_schema_view(
    list=extend_schema(responses={200: SavedEstimateSerializer(many=True), **LIST_ERRORS}),
    retrieve=extend_schema(responses={200: SavedEstimateSerializer, **READ_ERRORS}),
    create=extend_schema(
        description="Compute and save: `kind` (estimate, compare, commitment, ci_plan) and "
        "`inputs` as for that computation. The result is kept as computed now.",
        responses={201: SavedEstimateSerializer, **WRITE_ERRORS},
    ),
    destroy=extend_schema(responses={204: None, **READ_ERRORS}),
)
class SavedEstimateViewSet(
    OrgScopedViewSet,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
):
    serializer_class = SavedEstimateSerializer
    write_roles = OPERATORS
    filterset_fields = ["kind", "team"]

    queryset = SavedEstimate.objects.select_related("created_by")

    def perform_create(self, serializer):
        serializer.save(organization=self.org, created_by=self.request.user)


# --- The catalogue -----------------------------------------------------------------------------


class RegionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Region
        fields = ["provider", "code", "name", "location", "country_code"]


class AcceleratorSerializer(serializers.ModelSerializer):
    class Meta:
        model = Accelerator
        fields = ["name", "family", "memory_gb", "peak_tflops", "tdp_w", "source", "as_of"]


class InstanceTypeSerializer(serializers.ModelSerializer):
    accelerator = serializers.CharField(source="accelerator.name")

    class Meta:
        model = InstanceType
        fields = [
            "provider",
            "name",
            "vcpus",
            "memory_gib",
            "accelerator",
            "accelerator_count",
            "source",
            "as_of",
        ]


class StorageRateSerializer(serializers.ModelSerializer):
    provider = serializers.CharField(source="region.provider")
    region = serializers.CharField(source="region.code")

    class Meta:
        model = StorageRate
        fields = [
            "provider",
            "region",
            "storage_class",
            "price_per_gb_month",
            "currency",
            "source",
            "as_of",
        ]


class EgressRateSerializer(serializers.ModelSerializer):
    provider = serializers.CharField(source="region.provider")
    region = serializers.CharField(source="region.code")

    class Meta:
        model = EgressRate
        fields = ["provider", "region", "kind", "price_per_gb", "currency", "source", "as_of"]


class OfferSerializer(serializers.Serializer):
    provider = serializers.CharField()
    region = serializers.CharField()
    instance_type = serializers.CharField()
    accelerator = serializers.CharField()
    gpus_per_node = serializers.IntegerField()
    purchase_option = serializers.CharField()
    price_per_hour = serializers.DecimalField(max_digits=14, decimal_places=6)
    currency = serializers.CharField()
    origin = serializers.CharField()
    source = serializers.CharField()
    as_of = serializers.DateField()


PROVIDER_FILTER = OpenApiParameter("provider", str, description="aws, gcp or azure")
REGION_FILTER = OpenApiParameter("region", str, description="Region code")


class CatalogViewSet(ReadOnlyRequestsMixin, OrgContextViewSet):
    """The public catalogue, and the prices this organization pays (its own prices and
    discounts applied)."""

    serializer_class = OfferSerializer
    filter_backends = []  # filters are the query parameters documented per action

    def _list(self, rows, serializer_class):
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(serializer_class(page, many=True).data)

    def _by_provider(self, queryset, field="provider"):
        provider = self.request.query_params.get("provider")
        return queryset.filter(**{field: provider}) if provider else queryset

    @extend_schema(
        parameters=[PROVIDER_FILTER], responses={200: RegionSerializer(many=True), **READ_ERRORS}
    )
    @action(detail=False, methods=["get"])
    def regions(self, request, *args, **kwargs):
        return self._list(self._by_provider(Region.objects.all()), RegionSerializer)

    @extend_schema(responses={200: AcceleratorSerializer(many=True), **READ_ERRORS})
    @action(detail=False, methods=["get"])
    def accelerators(self, request, *args, **kwargs):
        return self._list(Accelerator.objects.all(), AcceleratorSerializer)

    @extend_schema(
        parameters=[PROVIDER_FILTER],
        responses={200: InstanceTypeSerializer(many=True), **READ_ERRORS},
    )
    @action(detail=False, methods=["get"], url_path="instance-types")
    def instance_types(self, request, *args, **kwargs):
        rows = self._by_provider(InstanceType.objects.select_related("accelerator"))
        return self._list(rows, InstanceTypeSerializer)

    @extend_schema(
        parameters=[PROVIDER_FILTER],
        responses={200: StorageRateSerializer(many=True), **READ_ERRORS},
    )
    @action(detail=False, methods=["get"], url_path="storage-rates")
    def storage_rates(self, request, *args, **kwargs):
        rows = self._by_provider(StorageRate.objects.select_related("region"), "region__provider")
        return self._list(rows, StorageRateSerializer)

    @extend_schema(
        parameters=[PROVIDER_FILTER],
        responses={200: EgressRateSerializer(many=True), **READ_ERRORS},
    )
    @action(detail=False, methods=["get"], url_path="egress-rates")
    def egress_rates(self, request, *args, **kwargs):
        rows = self._by_provider(EgressRate.objects.select_related("region"), "region__provider")
        return self._list(rows, EgressRateSerializer)

    @extend_schema(
        parameters=[
            PROVIDER_FILTER,
            REGION_FILTER,
            OpenApiParameter("accelerator", str, description="Name or family, e.g. A100"),
            OpenApiParameter("purchase_option", str),
            OpenApiParameter("instance_type", str),
        ],
        responses={200: OfferSerializer(many=True), **READ_ERRORS},
        description="Prices this organization pays per instance-hour, with source and as_of.",
    )
    @action(detail=False, methods=["get"])
    def prices(self, request, *args, **kwargs):
        params = request.query_params
        accelerator = (params.get("accelerator") or "").lower()
        rows = [
            o
            for o in offer_table(self.org).offers
            if (not params.get("provider") or o.provider == params["provider"])
            and (not params.get("region") or o.region == params["region"])
            and (
                not params.get("purchase_option") or o.purchase_option == params["purchase_option"]
            )
            and (not params.get("instance_type") or o.instance_type == params["instance_type"])
            and (not accelerator or accelerator in (o.accelerator.lower(), o.family.lower()))
        ]
        return self._list(rows, OfferSerializer)


# --- The organization's price list -------------------------------------------------------------


class OrgPriceSerializer(serializers.ModelSerializer):
    provider = serializers.CharField(source="instance_type.provider", read_only=True)
    instance_type = serializers.CharField(source="instance_type.name", read_only=True)
    region = serializers.CharField(source="region.code", read_only=True)

    class Meta:
        model = Price
        fields = [
            "id",
            "provider",
            "region",
            "instance_type",
            "purchase_option",
            "price_per_hour",
            "currency",
            "source",
            "as_of",
        ]
        read_only_fields = fields


class UploadSerializer(serializers.Serializer):
    file = serializers.FileField(required=False, help_text="CSV or JSON price list.")
    prices = serializers.ListField(child=serializers.DictField(), required=False)
    discounts = serializers.ListField(child=serializers.DictField(), required=False)
    replace = serializers.BooleanField(
        default=False, help_text="Delete your previous prices and discounts first."
    )


MAX_UPLOAD_BYTES = 5 * 1024 * 1024


@extend_schema_view(
    list=extend_schema(responses={200: OrgPriceSerializer(many=True), **LIST_ERRORS}),
    destroy=extend_schema(responses={204: None, **READ_ERRORS}),
)
class OrgPriceViewSet(
    OrgScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin
):
    """Your negotiated prices; they replace the public ones for your organization only."""

    queryset = Price.objects.select_related("instance_type", "region")
    serializer_class = OrgPriceSerializer
    write_roles = FINANCE_WRITERS
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    @extend_schema(
        request=UploadSerializer,
        responses={
            200: OpenApiTypes.OBJECT,
            400: OpenApiResponse(description="Row errors; nothing applied."),
            **READ_ERRORS,
        },
        description="Upload a price list (CSV/JSON file, or `prices`/`discounts` in JSON). "
        "All rows are checked first: any error and nothing is applied; `errors` lists each "
        "row's problems.",
    )
    @action(detail=False, methods=["post"])
    def upload(self, request, *args, **kwargs):
        form = UploadSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        try:
            if data.get("file"):
                upload = data["file"]
                if upload.size > MAX_UPLOAD_BYTES:
                    raise org_prices.PriceListError("The file is larger than 5 MB.")
                prices, discounts = org_prices.read_upload(upload.read(), upload.name)
            else:
                prices, discounts = data.get("prices", []), data.get("discounts", [])
                if not prices and not discounts:
                    raise org_prices.PriceListError("Send a file, or prices and/or discounts.")
            parsed = org_prices.validate(prices, discounts)
        except org_prices.PriceListError as exc:
            raise exceptions.ValidationError({"file": [str(exc)]}) from exc
        if parsed.errors:
            return Response({"errors": parsed.errors}, status=status.HTTP_400_BAD_REQUEST)
        applied = org_prices.apply(self.org, parsed, data["replace"], request.user.email)
        return Response(applied)


class DiscountSerializer(OrgScopedSerializer):
    class Meta:
        model = ProviderDiscount
        fields = ["id", "provider", "percent", "note", "updated_at"]
        read_only_fields = ["id", "updated_at"]

    def validate_provider(self, value):
        self.check_unique("This provider already has a discount; edit it.", provider=value)
        return value


@crud_schema(DiscountSerializer)
class DiscountViewSet(OrgScopedModelViewSet):
    """Across-the-board discounts per provider (e.g. an enterprise agreement)."""

    queryset = ProviderDiscount.objects.all()
    serializer_class = DiscountSerializer
    write_roles = FINANCE_WRITERS
