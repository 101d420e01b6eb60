"""`spot/advice`: before launch, the expected cost of a checkpointed job on spot against
on-demand, the checkpoint interval to use, and a recommendation."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from costsite.orgs.api import READ_ERRORS
from costsite.orgs.roles import READERS
from costsite.orgs.viewsets import OrgContextViewSet, ReadOnlyRequestsMixin
from estimates import lookup
from estimates.offers import offer_table
from spot import advice


class AdviceInput(serializers.Serializer):
    provider = serializers.CharField(max_length=10)
    region = serializers.CharField(max_length=40)
    instance_type = serializers.CharField(max_length=60)
    count = serializers.IntegerField(min_value=1, max_value=1000, default=1)
    hours = serializers.FloatField(min_value=0.01, max_value=100_000)
    interruption_rate_per_hour = serializers.FloatField(
        min_value=0, max_value=100, required=False, help_text="Per instance."
    )
    mtbf_hours = serializers.FloatField(min_value=0.01, max_value=10_000_000, required=False)
    checkpoint_minutes = serializers.FloatField(
        min_value=0.01, max_value=1440, default=5, help_text="Time to write one checkpoint."
    )
    checkpoint_interval_minutes = serializers.FloatField(
        min_value=0.1, max_value=1_000_000, required=False, help_text="Default: the optimum."
    )
    restart_minutes = serializers.FloatField(min_value=0, max_value=1440, default=10)
    deadline_hours = serializers.FloatField(min_value=0.01, max_value=1_000_000, required=False)

    def validate(self, attrs):
        if "interruption_rate_per_hour" in attrs and "mtbf_hours" in attrs:
            raise serializers.ValidationError(
                {"mtbf_hours": ["Give interruption_rate_per_hour or mtbf_hours, not both."]}
            )
        table = offer_table(self.context["org"])
        try:
            provider = lookup.provider(attrs["provider"])
            region = lookup.region(table.catalogue, provider, attrs["region"]).code
            instance = lookup.instance_type(table.catalogue, provider, attrs["instance_type"]).name
        except lookup.CatalogueLookupError as exc:
            raise serializers.ValidationError({exc.field: [str(exc)]}) from exc
        spot = table.get(provider, region, instance, "spot")
        on_demand = table.get(provider, region, instance, "on_demand")
        missing = [name for name, offer in (("spot", spot), ("on-demand", on_demand)) if not offer]
        if missing:
            raise serializers.ValidationError(
                {"instance_type": [f"No {' or '.join(missing)} price for {instance} in {region}."]}
            )
        attrs.update(provider=provider, region=region, instance_type=instance)
        attrs["_spot"], attrs["_on_demand"] = spot, on_demand
        return attrs


def compute(org, data: dict) -> dict:
    form = AdviceInput(data=data, context={"org": org})
    form.is_valid(raise_exception=True)
    d = form.validated_data
    rate = advice.resolve_rate(
        org,
        d["provider"],
        d["region"],
        d["instance_type"],
        d.get("interruption_rate_per_hour"),
        d.get("mtbf_hours"),
    )
    spot, on_demand = d["_spot"], d["_on_demand"]
    try:
        result = advice.advise(
            rate,
            hours=d["hours"],
            nodes=d["count"],
            checkpoint_minutes=d["checkpoint_minutes"],
            restart_minutes=d["restart_minutes"],
            spot_price=spot.price_per_hour,
            on_demand_price=on_demand.price_per_hour,
            deadline_hours=d.get("deadline_hours"),
            interval_minutes=d.get("checkpoint_interval_minutes"),
        )
    except advice.AdviceError as exc:
        field = "mtbf_hours" if "mtbf_hours" in d else "interruption_rate_per_hour"
        raise serializers.ValidationError({field: [str(exc)]}) from exc
    prices = {
        name: {
            "price_per_hour": str(offer.price_per_hour),
            "source": offer.source,
            "as_of": offer.as_of.isoformat(),
        }
        for name, offer in (("spot", spot), ("on_demand", on_demand))
    }
    return {
        **{k: d[k] for k in ("provider", "region", "instance_type", "count", "hours")},
        "currency": spot.currency,
        "prices": prices,
        **result,
    }


class SpotViewSet(ReadOnlyRequestsMixin, OrgContextViewSet):
    """Spot computations: they write nothing, so every role and read tokens may call them."""

    computation_actions = frozenset({"advice"})
    action_roles = {"advice": READERS}
    serializer_class = AdviceInput

    @extend_schema(
        request=AdviceInput,
        responses={
            200: OpenApiTypes.OBJECT,
            400: OpenApiResponse(description="Field errors."),
            **READ_ERRORS,
        },
        description="Expected cost on spot (checkpoints, restarts and rework included; Daly's "
        "model) against on-demand, the optimum checkpoint interval, and spot or on-demand "
        "given a deadline. The interruption rate is given, learned from your fleets, or the "
        "default.",
    )
    @action(detail=False, methods=["post"])
    def advice(self, request, *args, **kwargs):
        return Response(compute(self.org, request.data))
