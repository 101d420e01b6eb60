"""REST API: footprint of a workload, and greener regions for it."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from carbon import equivalents, green_regions
from carbon.footprint import FootprintError, compute
from carbon.inputs import FootprintInput
from costsite.orgs.api import READ_ERRORS
from costsite.orgs.roles import READERS
from costsite.orgs.viewsets import OrgContextViewSet, ReadOnlyRequestsMixin
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
        return Response(result | equivalents.describe(result["co2e_kg"]))

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
