"""REST API: footprint of a workload, and greener regions for it."""

from datetime import date

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Sum
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import exceptions, mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from carbon import budgets as carbon_budgets
from carbon import equivalents, green_regions, records
from carbon.footprint import FootprintError, compute
from carbon.inputs import FootprintInput
from carbon.models import (
    MAX_THRESHOLD,
    MAX_THRESHOLDS,
    MIN_THRESHOLD,
    CarbonAlert,
    CarbonBudget,
    CarbonRecord,
    check_period,
    check_thresholds,
)
from costsite.orgs.api import LIST_ERRORS, READ_ERRORS, crud_schema
from costsite.orgs.filters import OrgFilterSet
from costsite.orgs.models import Team
from costsite.orgs.roles import FINANCE_WRITERS, READERS, SPEND_WRITERS
from costsite.orgs.viewsets import (
    OrgContextViewSet,
    OrgPrimaryKeyField,
    OrgScopedFieldsMixin,
    OrgScopedModelViewSet,
    OrgScopedSerializer,
    OrgScopedViewSet,
    ReadOnlyRequestsMixin,
)
from costsite.periods import Period, check_plausible_time, check_supported_day
from estimates import lookup as catalogue_lookup
from estimates.compare import Requirements
from estimates.inputs import lookup_errors
from estimates.models import Provider, PurchaseOption
from estimates.offers import offer_table

ERRORS = {400: OpenApiResponse(description="Field errors."), **READ_ERRORS}


class GreenRegionsInput(serializers.Serializer):
    accelerator = serializers.CharField(max_length=40, required=False)
    provider = serializers.ChoiceField(
        choices=Provider.choices,
        required=False,
        help_text="With instance_type, instead of accelerator.",
    )
    instance_type = serializers.CharField(max_length=60, required=False)
    gpu_count = serializers.IntegerField(min_value=1, max_value=100_000, required=False)
    hours = serializers.FloatField(min_value=0.001, max_value=87_600)
    providers = serializers.ListField(
        child=serializers.ChoiceField(choices=Provider.choices), required=False, max_length=3
    )
    regions = serializers.ListField(
        child=serializers.CharField(max_length=40), required=False, max_length=200
    )
    purchase_option = serializers.ChoiceField(
        choices=PurchaseOption.choices, default=PurchaseOption.ON_DEMAND
    )
    current_region = serializers.CharField(
        max_length=40, required=False, help_text="Where it runs now (with provider)."
    )

    def validate(self, attrs):
        catalogue = self.context["catalogue"]
        if attrs.get("instance_type"):
            if not attrs.get("provider"):
                raise serializers.ValidationError({"provider": ["Required with instance_type."]})
            instance = lookup_errors(
                lambda: catalogue_lookup.instance_type(
                    catalogue, attrs["provider"], attrs["instance_type"]
                )
            )
            attrs["accelerator_names"] = {instance.accelerator.name}
            attrs.setdefault("gpu_count", instance.accelerator_count)
        elif attrs.get("accelerator"):
            attrs["accelerator_names"] = lookup_errors(
                lambda: catalogue_lookup.accelerator_names(catalogue, attrs["accelerator"])
            )
            if not attrs.get("gpu_count"):
                raise serializers.ValidationError({"gpu_count": ["Required with accelerator."]})
        else:
            raise serializers.ValidationError(
                {"accelerator": ["Give accelerator and gpu_count, or provider and instance_type."]}
            )
        if attrs.get("current_region") and not attrs.get("provider"):
            raise serializers.ValidationError({"provider": ["Required with current_region."]})
        return attrs


class CarbonViewSet(ReadOnlyRequestsMixin, OrgContextViewSet):
    """Carbon computations; they write nothing, so every role and read tokens may call them."""

    computation_actions = frozenset({"footprint", "green_regions"})
    action_roles = dict.fromkeys(computation_actions, READERS)
    serializer_class = FootprintInput

    @extend_schema(
        request=FootprintInput,
        responses={200: OpenApiTypes.OBJECT, **ERRORS},
        description="energy_kwh, co2e_kg, intensity_g_per_kwh, pue, power_w, "
        "assumptions (source and basis of every figure), equivalents, offset cost.",
    )
    @action(detail=False, methods=["post"])
    def footprint(self, request, *args, **kwargs):
        table = offer_table(self.org)
        form = FootprintInput(data=request.data, context={"catalogue": table.catalogue})
        form.is_valid(raise_exception=True)
        try:
            result = compute(form.to_domain())
        except FootprintError as exc:
            raise exceptions.ValidationError({exc.field: [str(exc)]}) from exc
        price = form.validated_data.get("offset_price_per_tonne")
        return Response(result | equivalents.describe(result["co2e_kg"], price))

    @extend_schema(
        request=GreenRegionsInput,
        responses={200: OpenApiTypes.OBJECT, **ERRORS},
        description="Regions with an equivalent offer ranked by emissions, with cost "
        "and the change against the current region or the cheapest choice.",
    )
    @action(detail=False, methods=["post"], url_path="green-regions")
    def green_regions(self, request, *args, **kwargs):
        table = offer_table(self.org)
        form = GreenRegionsInput(data=request.data, context={"catalogue": table.catalogue})
        form.is_valid(raise_exception=True)
        d = form.validated_data
        req = Requirements(
            gpu_count=d["gpu_count"],
            hours=d["hours"],
            accelerator_names=d["accelerator_names"],
            providers=d.get("providers"),
            regions=d.get("regions"),
            purchase_options=[d["purchase_option"]],
            max_results=500,
        )
        current = (d["provider"], d["current_region"]) if d.get("current_region") else None
        try:
            return Response(green_regions.rank(table, req, current))
        except FootprintError as exc:
            raise exceptions.ValidationError({exc.field: [str(exc)]}) from exc


# --- Job records -------------------------------------------------------------------------------


class SampleSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    power_w = serializers.FloatField(min_value=0, max_value=10_000_000)


class RecordSerializer(serializers.ModelSerializer):
    class Meta:
        model = CarbonRecord
        fields = [
            "id",
            "name",
            "external_id",
            "team",
            "provider",
            "region",
            "instance_type",
            "accelerator",
            "gpu_count",
            "started_at",
            "ended_at",
            "energy_kwh",
            "co2e_kg",
            "intensity_g_per_kwh",
            "pue",
            "source",
            "assumptions",
            "updated_at",
        ]
        read_only_fields = fields


class RecordInput(OrgScopedFieldsMixin, serializers.Serializer):
    name = serializers.CharField(max_length=200)
    external_id = serializers.CharField(
        max_length=200,
        required=False,
        allow_blank=True,
        help_text="Send the same id with each report of a job.",
    )
    team = OrgPrimaryKeyField(queryset=Team.objects.all(), required=False)
    started_at = serializers.DateTimeField(validators=[check_plausible_time])
    ended_at = serializers.DateTimeField(required=False, validators=[check_plausible_time])
    samples = SampleSerializer(
        many=True,
        required=False,
        max_length=100_000,
        help_text="Power of the whole job (W) over time; integrated.",
    )

    def validate(self, attrs):
        if attrs.get("ended_at") and attrs["ended_at"] < attrs["started_at"]:
            raise serializers.ValidationError({"ended_at": ["Before started_at."]})
        samples = attrs.get("samples")
        if samples is not None and len(samples) < 2:
            raise serializers.ValidationError({"samples": ["At least two samples."]})
        return attrs


def summary_day(params, name: str) -> date | None:
    """A day of the summary's query (`start`, `end`), or None when not given."""
    if not params.get(name):
        return None
    try:
        day = date.fromisoformat(params[name])
        check_supported_day(day)
    except ValueError as exc:
        raise exceptions.ValidationError({name: ["Use YYYY-MM-DD."]}) from exc
    except DjangoValidationError as exc:
        raise exceptions.ValidationError({name: exc.messages}) from exc
    return day


class CarbonRecordFilter(OrgFilterSet):
    """`?team=&provider=&region=&source=`: the records list's filters here and on the records
    page; a team is chosen among the organization's own, a bad value is a field error."""

    class Meta:
        model = CarbonRecord
        fields = ["team", "provider", "region", "source"]


@extend_schema_view(
    list=extend_schema(responses={200: RecordSerializer(many=True), **LIST_ERRORS}),
    retrieve=extend_schema(responses={200: RecordSerializer, **READ_ERRORS}),
    destroy=extend_schema(responses={204: None, **READ_ERRORS}),
)
class CarbonRecordViewSet(
    OrgScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin
):
    """Energy and emissions per job. Jobs report measured energy (`energy_kwh`), power
    `samples`, or the footprint inputs (power or catalogue workload and hours)."""

    queryset = CarbonRecord.objects.select_related("team")
    serializer_class = RecordSerializer
    write_roles = SPEND_WRITERS
    filterset_class = CarbonRecordFilter

    @extend_schema(
        request=RecordInput,
        responses={201: RecordSerializer, 200: RecordSerializer, **ERRORS},
        description="Report a job: `name`, `started_at`, optional `external_id` (later reports "
        "with the same id replace the figures: send cumulative totals), `team`, and either "
        "`energy_kwh`, `samples` [{at, power_w}] or footprint inputs (`provider`, `region`, "
        "`instance_type`/`accelerator`, `gpu_count`, `hours`, `power_w`, `pue`, "
        "`intensity_g_per_kwh`).",
    )
    def create(self, request, *args, **kwargs):
        context = self.get_serializer_context()
        head = RecordInput(data=request.data, context=context)
        head.is_valid(raise_exception=True)
        meta = head.validated_data
        figures = {
            k: v for k, v in request.data.items() if k in FootprintInput().fields and k != "samples"
        }
        if meta.get("samples"):
            figures["energy_kwh"] = records.energy_from_samples(
                [(s["at"], s["power_w"]) for s in meta["samples"]]
            )
        table = offer_table(self.org)
        form = FootprintInput(data=figures, context={"catalogue": table.catalogue})
        form.is_valid(raise_exception=True)
        try:
            result = compute(form.to_domain())
        except FootprintError as exc:
            raise exceptions.ValidationError({exc.field: [str(exc)]}) from exc
        d = form.validated_data
        instance = d["_instance"]
        record, created = records.save(
            self.org,
            {
                "name": meta["name"],
                "external_id": meta.get("external_id", ""),
                "team": meta.get("team"),
                "started_at": meta["started_at"],
                "ended_at": meta.get("ended_at"),
                "provider": d.get("provider", ""),
                "region": d["_region"].code if d["_region"] else "",
                "instance_type": instance.name if instance else "",
                "accelerator": d["_accelerator"].name if d["_accelerator"] else "",
                "gpu_count": d.get("gpu_count"),
                "energy_kwh": result["energy_kwh"],
                "co2e_kg": result["co2e_kg"],
                "intensity_g_per_kwh": result["intensity_g_per_kwh"],
                "pue": result["pue"],
                "assumptions": result["assumptions"],
            },
        )
        return Response(
            RecordSerializer(record).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    @extend_schema(
        parameters=[
            OpenApiParameter("group_by", str, enum=list(records.GROUPS)),
            OpenApiParameter("start", OpenApiTypes.DATE),
            OpenApiParameter("end", OpenApiTypes.DATE),
        ],
        responses={200: OpenApiTypes.OBJECT, **ERRORS},
        description="Total kg CO2e and kWh, grouped by month, team, provider or region.",
    )
    @action(detail=False, methods=["get"])
    def summary(self, request, *args, **kwargs):
        group_by = request.query_params.get("group_by", "month")
        if group_by not in records.GROUPS:
            raise exceptions.ValidationError({"group_by": [f"One of {', '.join(records.GROUPS)}."]})
        days = {name: summary_day(request.query_params, name) for name in ("start", "end")}
        rows = records.started_between(self.get_queryset(), self.org.time_zone, **days)
        total = rows.aggregate(co2e_kg=Sum("co2e_kg"), energy_kwh=Sum("energy_kwh"))
        return Response(
            {
                "co2e_kg": round(total["co2e_kg"] or 0, 6),
                "energy_kwh": round(total["energy_kwh"] or 0, 6),
                "group_by": group_by,
                "groups": records.totals(rows, group_by, self.org.time_zone),
            }
        )


# --- Carbon budgets ----------------------------------------------------------------------------


class CarbonBudgetSerializer(OrgScopedSerializer):
    thresholds = serializers.ListField(
        child=serializers.IntegerField(min_value=MIN_THRESHOLD, max_value=MAX_THRESHOLD),
        max_length=MAX_THRESHOLDS,
        validators=[check_thresholds],
        required=False,
    )
    figures = serializers.SerializerMethodField(
        help_text="emitted_kg and percent_used in the current period, with its dates."
    )

    class Meta:
        model = CarbonBudget
        fields = [
            "id",
            "name",
            "team",
            "limit_kg",
            "period",
            "start",
            "end",
            "thresholds",
            "channels",
            "figures",
            "created_at",
        ]
        read_only_fields = ["id", "figures", "created_at"]

    def get_figures(self, budget) -> dict:
        figures = carbon_budgets.emitted(budget)
        return figures | {
            "period_start": figures["period_start"].isoformat(),
            "period_end": figures["period_end"].isoformat(),
        }

    def validate(self, attrs):
        period = attrs.get("period", getattr(self.instance, "period", Period.MONTHLY))
        start = attrs.get("start", getattr(self.instance, "start", None))
        end = attrs.get("end", getattr(self.instance, "end", None))
        try:
            check_period(period, start, end)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from exc
        return attrs


class CarbonAlertSerializer(serializers.ModelSerializer):
    class Meta:
        model = CarbonAlert
        fields = ["id", "budget", "percent", "period_start", "emitted_kg", "fired_at"]
        read_only_fields = fields


@crud_schema(CarbonBudgetSerializer)
class CarbonBudgetViewSet(OrgScopedModelViewSet):
    """Emissions limits per period with threshold alerts (once per threshold per period)."""

    queryset = CarbonBudget.objects.select_related("organization").prefetch_related("channels")
    serializer_class = CarbonBudgetSerializer
    write_roles = FINANCE_WRITERS

    def perform_create(self, serializer):
        super().perform_create(serializer)
        carbon_budgets.queue_evaluation(self.org.pk)

    def perform_update(self, serializer):
        serializer.save()
        carbon_budgets.queue_evaluation(self.org.pk)


@extend_schema_view(
    list=extend_schema(responses={200: CarbonAlertSerializer(many=True), **LIST_ERRORS}),
    retrieve=extend_schema(responses={200: CarbonAlertSerializer, **READ_ERRORS}),
)
class CarbonAlertViewSet(OrgScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    queryset = CarbonAlert.objects.all()
    serializer_class = CarbonAlertSerializer
    filterset_fields = ["budget"]
