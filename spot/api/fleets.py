"""REST API for spot fleets and the job-side endpoints (checkpoints, progress, directive,
notices), EventBridge events and pre-launch advice."""

from django.db.models import Prefetch
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import exceptions, mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from budgets.models import Budget
from costsite.orgs.api import LIST_ERRORS, READ_ERRORS, WRITE_ERRORS
from costsite.orgs.exceptions import Conflict
from costsite.orgs.models import Team
from costsite.orgs.roles import OPERATORS, READERS
from costsite.orgs.viewsets import OrgPrimaryKeyField, OrgScopedFieldsMixin, OrgScopedViewSet
from estimates import lookup, utilization
from estimates.models import Precision
from estimates.offers import offer_table
from estimates.planning_inputs import MAX_FLOPS, MAX_PARAMS, MAX_TOKENS
from spot import accounting, detail, events, fleets, orchestrator
from spot.models import (
    CATALOGUE_PROVIDER,
    Attempt,
    EventSource,
    Fleet,
    FleetProvider,
    Strategy,
)

CONFLICT = {409: OpenApiResponse(description="Not possible in the fleet's current state.")}
USER_DATA_LIMIT = 16 * 1024  # EC2 user data, before base64


class FleetInput(OrgScopedFieldsMixin, serializers.Serializer):
    name = serializers.CharField(max_length=120)
    team = OrgPrimaryKeyField(queryset=Team.objects.all(), required=False, allow_null=True)
    provider = serializers.ChoiceField(FleetProvider.choices)
    region = serializers.CharField(max_length=40)
    availability_zones = serializers.ListField(
        child=serializers.CharField(max_length=40), required=False, max_length=20
    )
    instance_types = serializers.ListField(
        child=serializers.CharField(max_length=60),
        required=False,
        max_length=20,
        help_text="Ordered preference; or give `accelerator` to pick them from the catalogue.",
    )
    accelerator = serializers.CharField(max_length=40, required=False, allow_blank=True)
    gpus_per_instance = serializers.IntegerField(min_value=1, max_value=64, required=False)
    target_count = serializers.IntegerField(min_value=1, max_value=1000, default=1)
    strategy = serializers.ChoiceField(Strategy.choices, default=Strategy.BALANCED)
    max_price = serializers.DecimalField(
        max_digits=12, decimal_places=6, min_value=0, required=False, allow_null=True
    )
    fallback_on_demand_after = serializers.IntegerField(
        min_value=0, max_value=1000, required=False, allow_null=True
    )
    fallback_unavailable_minutes = serializers.IntegerField(
        min_value=0, max_value=10080, required=False, allow_null=True, default=30
    )
    fallback_on_deadline = serializers.BooleanField(default=True)
    deadline = serializers.DateTimeField(required=False, allow_null=True)
    checkpoint_interval_minutes = serializers.FloatField(
        min_value=0.1, max_value=100_000, required=False, allow_null=True
    )
    checkpoint_write_minutes = serializers.FloatField(min_value=0.01, max_value=1440, default=5)
    restart_minutes = serializers.FloatField(min_value=0, max_value=1440, default=10)
    image_id = serializers.CharField(max_length=100, required=False, allow_blank=True)
    instance_profile = serializers.CharField(max_length=300, required=False, allow_blank=True)
    subnet_ids = serializers.ListField(
        child=serializers.CharField(max_length=60), required=False, max_length=20
    )
    security_group_ids = serializers.ListField(
        child=serializers.CharField(max_length=60), required=False, max_length=20
    )
    startup_script = serializers.CharField(
        max_length=USER_DATA_LIMIT,
        required=False,
        allow_blank=True,
        trim_whitespace=False,
        help_text="EC2 user data; {{resume_from}}, {{resume_step}}, {{fleet_id}} and {{slot}} "
        "are replaced at each launch.",
    )
    total_steps = serializers.IntegerField(min_value=1, max_value=10**15)
    model_params = serializers.FloatField(min_value=1, max_value=MAX_PARAMS, required=False)
    training_tokens = serializers.FloatField(min_value=1, max_value=MAX_TOKENS, required=False)
    training_flops = serializers.FloatField(
        min_value=1,
        max_value=MAX_FLOPS,
        required=False,
        help_text="The job's compute (or model_params and training_tokens): a completed fleet "
        "then records a training run that teaches your efficiency.",
    )
    precision = serializers.ChoiceField(Precision.choices, required=False)
    budget = OrgPrimaryKeyField(queryset=Budget.objects.all(), required=False, allow_null=True)
    simulated_interruptions_per_hour = serializers.FloatField(min_value=0, max_value=100, default=0)
    simulated_seed = serializers.IntegerField(min_value=0, max_value=2**31 - 1, default=0)
    simulated_steps_per_hour = serializers.FloatField(min_value=0, max_value=1e12, default=0)

    def validate(self, attrs):
        catalogue = offer_table(self.context["org"]).catalogue
        try:
            attrs["region"] = lookup.region(catalogue, CATALOGUE_PROVIDER, attrs["region"]).code
            attrs["instance_types"] = [
                lookup.instance_type(catalogue, CATALOGUE_PROVIDER, name).name
                for name in attrs.get("instance_types", [])
            ]
            if attrs.get("accelerator"):
                lookup.accelerator_names(catalogue, attrs["accelerator"])
        except lookup.CatalogueLookupError as exc:
            field = "instance_types" if exc.field == "instance_type" else exc.field
            raise serializers.ValidationError({field: [str(exc)]}) from exc
        errors = {}
        if not attrs["instance_types"] and not attrs.get("accelerator"):
            errors["instance_types"] = ["Give instance_types or an accelerator."]
        if len(set(attrs["instance_types"])) != len(attrs["instance_types"]):
            errors["instance_types"] = ["Each instance type once."]
        wrong_zones = [
            z for z in attrs.get("availability_zones", []) if not z.startswith(attrs["region"])
        ]
        if wrong_zones:
            errors["availability_zones"] = [f"Not in {attrs['region']}: {', '.join(wrong_zones)}."]
        if attrs["provider"] == FleetProvider.AWS and not attrs.get("image_id"):
            errors["image_id"] = ["Required for AWS fleets (the AMI to launch)."]
        if attrs.get("deadline") and attrs["deadline"] <= timezone.now():
            errors["deadline"] = ["In the past."]
        errors.update(half_a_workload(attrs))
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


def half_a_workload(attrs) -> dict:
    """The error of a workload given by only one of model_params and training_tokens (without
    training_flops): it would silently never record the fleet's run."""
    if attrs.get("training_flops"):
        return {}
    params, tokens = attrs.get("model_params"), attrs.get("training_tokens")
    if params and not tokens:
        return {"training_tokens": ["Give it with model_params (or give training_flops)."]}
    if tokens and not params:
        return {"model_params": ["Give it with training_tokens (or give training_flops)."]}
    return {}


LIST_OF_OBJECTS = {"type": "array", "items": {"type": "object"}}


class FleetSerializer(serializers.ModelSerializer):
    simulated = serializers.BooleanField(source="is_simulated", read_only=True)
    progress = serializers.SerializerMethodField()
    instances = serializers.SerializerMethodField()
    interruptions = serializers.SerializerMethodField()
    latest_checkpoint = serializers.SerializerMethodField()
    accounting = serializers.SerializerMethodField()

    class Meta:
        model = Fleet
        fields = [
            "id",
            "name",
            "team",
            "provider",
            "simulated",
            "region",
            "availability_zones",
            "instance_types",
            "accelerator",
            "target_count",
            "strategy",
            "max_price",
            "fallback_on_demand_after",
            "fallback_unavailable_minutes",
            "fallback_on_deadline",
            "deadline",
            "checkpoint_interval_minutes",
            "checkpoint_write_minutes",
            "restart_minutes",
            "image_id",
            "instance_profile",
            "subnet_ids",
            "security_group_ids",
            "startup_script",
            "total_steps",
            "model_params",
            "training_tokens",
            "training_flops",
            "precision",
            "budget",
            "simulated_interruptions_per_hour",
            "simulated_seed",
            "simulated_steps_per_hour",
            "status",
            "status_reason",
            "on_demand_fallback",
            "progress",
            "instances",
            "interruptions",
            "latest_checkpoint",
            "accounting",
            "created_at",
            "started_at",
            "ended_at",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_progress(self, fleet):
        return detail.progress(fleet)

    @extend_schema_field(LIST_OF_OBJECTS)
    def get_instances(self, fleet):
        return detail.instances(fleet)

    @extend_schema_field(LIST_OF_OBJECTS)
    def get_interruptions(self, fleet):
        return detail.interruptions(fleet)

    @extend_schema_field({"type": "object", "nullable": True})
    def get_latest_checkpoint(self, fleet):
        return detail.latest_checkpoint(fleet)

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_accounting(self, fleet):
        """cost (actual), on_demand_equivalent_cost, savings (net of rework), co2e_kg."""
        if "footprints" not in self.context:  # one lookup of carbon figures for a whole list
            self.context["footprints"] = accounting.Footprints(fleet.organization)
        return detail.money(fleet, self.context["footprints"])

    def to_representation(self, fleet):
        data = super().to_representation(fleet)
        # The figures the issue names at the top level too.
        for key in ("cost", "on_demand_equivalent_cost", "savings", "currency", "co2e_kg"):
            data[key] = data["accounting"][key]
        return data


class CheckpointInput(serializers.Serializer):
    step = serializers.IntegerField(min_value=0, max_value=10**15)
    uri = serializers.CharField(max_length=1000)
    instance_id = serializers.CharField(max_length=100, required=False, allow_blank=True)


class SampleInput(serializers.Serializer):
    at = serializers.DateTimeField(
        required=False,
        help_text="ISO 8601; default the report's time. From 2000 to a day ahead of the server.",
    )
    gpu_utilization = serializers.FloatField(
        min_value=0,
        max_value=100,
        required=False,
        help_text="Percent; a sample without it is accepted but not kept for right-sizing.",
    )
    gpu_memory_used_gb = serializers.FloatField(min_value=0, max_value=10_000, required=False)
    cpu_utilization = serializers.FloatField(min_value=0, max_value=100, required=False)
    memory_used_gb = serializers.FloatField(min_value=0, max_value=1_000_000, required=False)

    def validate_at(self, at):
        try:
            return utilization.check_at(at)
        except utilization.RowError as exc:
            raise serializers.ValidationError(str(exc)) from exc


class ProgressInput(serializers.Serializer):
    step = serializers.IntegerField(min_value=0, max_value=10**15)
    instance_id = serializers.CharField(max_length=100, required=False, allow_blank=True)
    samples = SampleInput(many=True, required=False, max_length=10_000)


class NoticeInput(serializers.Serializer):
    instance_id = serializers.CharField(max_length=100)
    kind = serializers.ChoiceField(["interruption_warning", "rebalance"])
    action = serializers.CharField(max_length=20, required=False, allow_blank=True)
    action_time = serializers.DateTimeField(required=False, allow_null=True)


class DirectiveInput(serializers.Serializer):
    instance_id = serializers.CharField(max_length=100, required=False, allow_blank=True)


class InterruptInput(serializers.Serializer):
    slot = serializers.IntegerField(min_value=0, required=False)


def with_details(fleets):
    return fleets.select_related("team", "budget", "organization").prefetch_related(
        Prefetch("attempts", queryset=Attempt.objects.order_by("launched_at", "pk")),
        "checkpoints",
    )


DIRECTIVE = OpenApiParameter(
    "instance_id", str, description="The instance asking (its provider instance id)."
)


@extend_schema_view(
    list=extend_schema(responses={200: FleetSerializer(many=True), **LIST_ERRORS}),
    retrieve=extend_schema(responses={200: FleetSerializer, **READ_ERRORS}),
)
class FleetViewSet(OrgScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """Spot fleets: one training job on spot capacity each, with interruption handling,
    checkpoints, on-demand fallback and savings accounting."""

    queryset = Fleet.objects.all()
    serializer_class = FleetSerializer
    write_roles = OPERATORS
    action_roles = {"directive": READERS}
    filterset_fields = ["status", "provider", "team"]

    def refine_queryset(self, queryset):
        # What the fleet representation reads; the job-side actions need only the row.
        return with_details(queryset) if self.action in ("list", "retrieve") else queryset

    def fleet_response(self, fleet, code=status.HTTP_200_OK):
        fleet = with_details(Fleet.objects.for_org(self.org)).get(pk=fleet.pk)
        return Response(FleetSerializer(fleet).data, status=code)

    @extend_schema(
        request=FleetInput,
        responses={201: FleetSerializer, **WRITE_ERRORS},
        description="Create a fleet; it launches in the background (status pending → "
        "provisioning → running).",
    )
    def create(self, request, *args, **kwargs):
        data = FleetInput(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        try:
            fleet = fleets.create(self.org, dict(data.validated_data), request.user)
        except fleets.FleetError as exc:
            raise exceptions.ValidationError({exc.field: [str(exc)]}) from exc
        return self.fleet_response(fleet, status.HTTP_201_CREATED)

    @extend_schema(
        request=None,
        responses={200: FleetSerializer, **CONFLICT, **READ_ERRORS},
        description="Cancel: terminate its instances and charge them.",
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, *args, **kwargs):
        fleet = self.get_object()
        if not orchestrator.cancel(fleet, request.user if request.user.is_authenticated else None):
            raise Conflict(f"The fleet is already {fleet.status}.")
        return self.fleet_response(fleet)

    @extend_schema(
        request=CheckpointInput,
        responses={201: OpenApiTypes.OBJECT, **WRITE_ERRORS},
        description="The job wrote a checkpoint (idempotent per step).",
    )
    @action(detail=True, methods=["post"])
    def checkpoints(self, request, *args, **kwargs):
        fleet = self.get_object()
        data = CheckpointInput(data=request.data)
        data.is_valid(raise_exception=True)
        d = data.validated_data
        checkpoint = orchestrator.record_checkpoint(fleet, d["step"], d["uri"], timezone.now())
        return Response(
            {"step": checkpoint.step, "uri": checkpoint.uri, "created_at": checkpoint.created_at},
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(
        request=ProgressInput,
        responses={200: OpenApiTypes.OBJECT, **WRITE_ERRORS},
        description="The job's current step, with optional utilisation samples; the fleet "
        "completes when the step reaches total_steps. One bad sample rejects the whole report "
        "(field errors keyed by the sample's index) and nothing is stored.",
    )
    @action(detail=True, methods=["post"])
    def progress(self, request, *args, **kwargs):
        fleet = self.get_object()
        data = ProgressInput(data=request.data)
        data.is_valid(raise_exception=True)
        d = data.validated_data
        orchestrator.record_progress(
            fleet, d["step"], timezone.now(), d.get("instance_id", ""), d.get("samples", [])
        )
        return Response({"status": fleet.status, **detail.progress(fleet)})

    @extend_schema(
        parameters=[DIRECTIVE],
        responses={200: OpenApiTypes.OBJECT, **LIST_ERRORS},
        description="What the job on an instance should do now: `action` (continue, "
        "checkpoint, stop), `resume_from` (latest checkpoint uri), `resume_step`.",
    )
    @action(detail=True, methods=["get"])
    def directive(self, request, *args, **kwargs):
        fleet = self.get_object()
        data = DirectiveInput(data=request.query_params)
        data.is_valid(raise_exception=True)
        return Response(orchestrator.directive(fleet, data.validated_data.get("instance_id", "")))

    @extend_schema(
        request=NoticeInput,
        responses={202: OpenApiTypes.OBJECT, **WRITE_ERRORS},
        description="The job's agent saw an interruption notice (or rebalance recommendation) "
        "in the instance metadata; handled once per instance.",
    )
    @action(detail=True, methods=["post"])
    def notices(self, request, *args, **kwargs):
        fleet = self.get_object()
        data = NoticeInput(data=request.data)
        data.is_valid(raise_exception=True)
        d = data.validated_data
        parsed = events.Parsed(
            event_key=f"agent:{d['instance_id']}:{d['kind']}",
            kind=d["kind"],
            instance_id=d["instance_id"],
            occurred_at=timezone.now(),
            detail={k: str(v) for k, v in d.items()},
        )
        event, created = events.record(self.org, EventSource.AGENT, parsed, fleet=fleet)
        return Response(
            {"event": event.pk, "duplicate": not created}, status=status.HTTP_202_ACCEPTED
        )

    @extend_schema(
        request=InterruptInput,
        responses={202: OpenApiTypes.OBJECT, **CONFLICT, **WRITE_ERRORS},
        description="Simulated fleets only: interrupt the running instance of a slot (default "
        "the first), as the simulated provider would.",
    )
    @action(detail=True, methods=["post"])
    def interrupt(self, request, *args, **kwargs):
        fleet = self.get_object()
        data = InterruptInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            event = events.simulate_interruption(fleet, data.validated_data.get("slot"))
        except events.NotInterruptible as exc:
            raise Conflict(str(exc)) from exc
        return Response({"event": event.pk}, status=status.HTTP_202_ACCEPTED)
