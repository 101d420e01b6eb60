"""Validated inputs of the planning computations and of recorded training runs (API and pages)."""

from rest_framework import serializers

from costsite.orgs.models import Team
from costsite.orgs.viewsets import OrgPrimaryKeyField, OrgScopedSerializer
from estimates import lookup, memory, planning, training
from estimates.inputs import MAX_GPUS, MAX_HOURS, CatalogueInput, WhereFilters, lookup_errors
from estimates.models import Accelerator, Precision, PurchaseOption, TrainingRun

MAX_PARAMS = 1e14
MAX_TOKENS = 1e16
MAX_FLOPS = 1e29


def find_accelerator(catalogue, value: str) -> Accelerator:
    """One accelerator by name or family ("A100": both A100s have the same peak)."""
    names = lookup_errors(lambda: lookup.accelerator_names(catalogue, value))
    rows = list(Accelerator.objects.filter(name__in=names).order_by("memory_gb"))
    if len({a.peak_tflops for a in rows}) > 1:
        raise serializers.ValidationError(
            {"accelerator": [f"{value!r} is ambiguous; one of {', '.join(sorted(names))}."]}
        )
    return rows[0]


class WorkloadFields(CatalogueInput):
    params = serializers.FloatField(
        min_value=1, max_value=MAX_PARAMS, required=False, allow_null=True
    )
    tokens = serializers.FloatField(
        min_value=1, max_value=MAX_TOKENS, required=False, allow_null=True
    )
    flops = serializers.FloatField(
        min_value=1, max_value=MAX_FLOPS, required=False, help_text="Instead of params/tokens."
    )
    precision = serializers.ChoiceField(
        Precision.choices, required=False, help_text="Default bf16 (fp16 where unsupported)."
    )
    efficiency = serializers.FloatField(
        min_value=0.01,
        max_value=training.MAX_MFU,
        required=False,
        help_text="Model FLOPs utilisation to assume; default: learned from your runs.",
    )

    def validate(self, attrs):
        try:
            attrs["_flops"] = training.training_flops(
                attrs.get("params"), attrs.get("tokens"), attrs.get("flops")
            )
        except training.TrainingError as exc:
            raise serializers.ValidationError({exc.field: [str(exc)]}) from exc
        if attrs["_flops"] > MAX_FLOPS:
            raise serializers.ValidationError({"flops": [f"At most {MAX_FLOPS:.0e} FLOPs."]})
        return attrs


class TrainingTimeInput(WorkloadFields):
    accelerator = serializers.CharField(max_length=40)
    gpu_count = serializers.IntegerField(min_value=1, max_value=MAX_GPUS)
    provider = serializers.CharField(max_length=10, required=False)
    region = serializers.CharField(max_length=40, required=False)
    instance_type = serializers.CharField(max_length=60, required=False)
    purchase_option = serializers.ChoiceField(PurchaseOption.choices, default="on_demand")

    def validate(self, attrs):
        attrs = super().validate(attrs)
        attrs["_accelerator"] = find_accelerator(self.catalogue, attrs["accelerator"])
        named = [k for k in ("provider", "region", "instance_type") if attrs.get(k)]
        attrs["_offer"] = None
        if named and len(named) < 3:
            raise serializers.ValidationError(
                {"instance_type": ["Give provider, region and instance_type to cost it."]}
            )
        if named:
            provider = lookup_errors(lambda: lookup.provider(attrs["provider"]))
            region = lookup_errors(lambda: lookup.region(self.catalogue, provider, attrs["region"]))
            instance = lookup_errors(
                lambda: lookup.instance_type(self.catalogue, provider, attrs["instance_type"])
            )
            offer = self.context["table"].get(
                provider, region.code, instance.name, attrs["purchase_option"]
            )
            if offer is None:
                raise serializers.ValidationError(
                    {
                        "purchase_option": [
                            f"No {attrs['purchase_option']} price for "
                            f"{instance.name} in {region.code}."
                        ]
                    }
                )
            family = lookup_errors(
                lambda: lookup.accelerator_names(self.catalogue, attrs["accelerator"])
            )
            if offer.accelerator in family:  # "A100" on an A100-80GB instance: that one
                attrs["_accelerator"] = find_accelerator(self.catalogue, offer.accelerator)
            attrs["_offer"] = offer
        return attrs

    def plan(self) -> planning.Plan:
        d = self.validated_data
        return planning.Plan(
            d["_flops"], d["_accelerator"], d["gpu_count"], d.get("precision"), d.get("efficiency")
        )


class ConfigurationInput(serializers.Serializer):
    accelerator = serializers.CharField(max_length=40)
    gpu_count = serializers.IntegerField(min_value=1, max_value=MAX_GPUS)


class ConfigurationsInput(WorkloadFields):
    configurations = ConfigurationInput(many=True, min_length=1, max_length=20)

    def validate(self, attrs):
        attrs = super().validate(attrs)
        attrs["_configs"] = [
            (find_accelerator(self.catalogue, c["accelerator"]), c["gpu_count"])
            for c in attrs["configurations"]
        ]
        return attrs


GPU_COUNTS = serializers.ListField(
    child=serializers.IntegerField(min_value=1, max_value=MAX_GPUS),
    required=False,
    min_length=1,
    max_length=20,
    help_text="GPU counts to consider; default 1, 2, 4, 8, 16, 32, 64.",
)


class ScalingInput(WorkloadFields):
    accelerator = serializers.CharField(max_length=40)
    gpu_counts = GPU_COUNTS

    def validate(self, attrs):
        attrs = super().validate(attrs)
        attrs["_accelerator"] = find_accelerator(self.catalogue, attrs["accelerator"])
        return attrs


class TradeoffsInput(WorkloadFields, WhereFilters):
    accelerators = serializers.ListField(
        child=serializers.CharField(max_length=40),
        required=False,
        max_length=20,
        help_text="Names or families; default every accelerator with a peak figure.",
    )
    gpu_counts = GPU_COUNTS
    purchase_options = serializers.ListField(
        child=serializers.ChoiceField(PurchaseOption.choices), required=False, max_length=4
    )
    deadline_hours = serializers.FloatField(min_value=0.01, max_value=MAX_HOURS, required=False)
    budget = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0, required=False)
    hour_value = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        min_value=0,
        required=False,
        help_text="What an hour of the team's waiting is worth, for the ROI of faster options.",
    )

    def validate(self, attrs):
        attrs = super().validate(attrs)
        names = set()
        for value in attrs.get("accelerators", []):
            names |= lookup_errors(lambda v=value: lookup.accelerator_names(self.catalogue, v))
        attrs["_accelerator_names"] = names or None
        known = lookup.region_codes(self.catalogue)
        unknown = [r for r in attrs.get("regions", []) if r not in known]
        if unknown:
            raise serializers.ValidationError({"regions": [f"Unknown: {', '.join(unknown)}."]})
        return attrs


class NameField(serializers.SlugRelatedField):
    """A catalogue row by name; a name no row can have (a NUL byte, which PostgreSQL cannot
    even compare) is refused before the lookup."""

    def to_internal_value(self, data):
        if isinstance(data, str) and "\x00" in data:
            self.fail("does_not_exist", slug_name=self.slug_field, value=data)
        return super().to_internal_value(data)


class AcceleratorNameField(NameField):
    """The accelerator a run used, by its exact name. A family ("A100") names no one
    accelerator, so the error lists the family's; any other unknown name gets the closest."""

    def to_internal_value(self, data):
        try:
            return super().to_internal_value(data)
        except serializers.ValidationError:
            if not isinstance(data, str) or "\x00" in data:
                raise
        rows = list(self.get_queryset().values_list("name", "family"))
        family = sorted(name for name, family in rows if family.lower() == data.strip().lower())
        if family:
            raise serializers.ValidationError(
                f"{data!r} is a family: name the accelerator, one of {', '.join(family)}."
            )
        names = [name for name, _ in rows]
        raise serializers.ValidationError(str(lookup.suggest(data, names, "accelerator", "")))


class TrainingRunSerializer(OrgScopedSerializer):
    accelerator = AcceleratorNameField(slug_field="name", queryset=Accelerator.objects.all())
    team = OrgPrimaryKeyField(queryset=Team.objects.all(), required=False, allow_null=True)
    params = serializers.FloatField(
        min_value=1, max_value=MAX_PARAMS, required=False, allow_null=True
    )
    tokens = serializers.FloatField(
        min_value=1, max_value=MAX_TOKENS, required=False, allow_null=True
    )
    flops = serializers.FloatField(min_value=1, max_value=MAX_FLOPS, required=False)
    gpu_count = serializers.IntegerField(min_value=1, max_value=MAX_GPUS)
    gpu_hours = serializers.FloatField(min_value=0.001, max_value=1e9, required=False)
    wall_hours = serializers.FloatField(min_value=0.001, max_value=MAX_HOURS, required=False)
    cost = serializers.DecimalField(
        max_digits=14, decimal_places=4, min_value=0, required=False, allow_null=True
    )
    achieved_efficiency = serializers.SerializerMethodField()

    class Meta:
        model = TrainingRun
        fields = [
            "id",
            "name",
            "team",
            "params",
            "tokens",
            "flops",
            "accelerator",
            "gpu_count",
            "precision",
            "gpu_hours",
            "wall_hours",
            "achieved_efficiency",
            "cost",
            "currency",
            "notes",
            "source",
            "external_id",
            "created_at",
        ]
        read_only_fields = ["id", "achieved_efficiency", "source", "created_at"]

    def get_achieved_efficiency(self, run) -> float | None:
        try:
            peak = training.peak_flops(run.accelerator, run.precision)
        except training.TrainingError:
            return None
        return round(training.achieved_mfu(run.flops, run.gpu_hours, peak), 6)

    def validate_accelerator(self, accelerator):
        if accelerator.peak_tflops is None:
            raise serializers.ValidationError(
                f"The catalogue has no peak throughput for {accelerator.name}; its runs "
                "cannot teach an efficiency."
            )
        return accelerator

    def validate(self, attrs):
        merged = {**self.initial_values(), **attrs}
        try:
            flops = self.compute_flops(attrs, merged)
        except training.TrainingError as exc:
            raise serializers.ValidationError({exc.field: [str(exc)]}) from exc
        count = merged["gpu_count"]
        if attrs.get("gpu_hours"):
            gpu_hours = attrs["gpu_hours"]
        elif attrs.get("wall_hours"):
            gpu_hours = attrs["wall_hours"] * count
        elif self.instance is not None:
            gpu_hours = self.instance.wall_hours * count
        else:
            raise serializers.ValidationError({"gpu_hours": ["Give gpu_hours or wall_hours."]})
        precision = planning.resolve_precision(merged["accelerator"], merged.get("precision"))
        try:
            peak = training.peak_flops(merged["accelerator"], precision)
            training.check_plausible_run(flops, gpu_hours, peak)
        except training.TrainingError as exc:
            raise serializers.ValidationError({exc.field: [str(exc)]}) from exc
        attrs.update(
            flops=flops, gpu_hours=gpu_hours, wall_hours=gpu_hours / count, precision=precision
        )
        if attrs.get("external_id"):
            self.check_unique(
                {"external_id": ["A run with this external id exists."]},
                external_id=attrs["external_id"],
            )
        return attrs

    def compute_flops(self, attrs, merged) -> float:
        if attrs.get("flops"):
            return attrs["flops"]
        if self.instance is not None and not ({"params", "tokens"} & set(attrs)):
            return self.instance.flops
        return training.training_flops(merged.get("params"), merged.get("tokens"), None)

    def initial_values(self) -> dict:
        if self.instance is None:
            return {}
        names = ("params", "tokens", "flops", "accelerator", "gpu_count", "precision")
        return {name: getattr(self.instance, name) for name in names}


class BatchSizeInput(CatalogueInput):
    params = serializers.FloatField(min_value=1, max_value=MAX_PARAMS)
    seq_len = serializers.IntegerField(min_value=1, max_value=10_000_000)
    accelerator = serializers.CharField(
        max_length=40, required=False, help_text="Its memory from the catalogue."
    )
    gpu_memory_gb = serializers.FloatField(min_value=1, max_value=10_000, required=False)
    precision = serializers.ChoiceField(memory.PRECISIONS, default="bf16")
    optimizer = serializers.ChoiceField(memory.OPTIMIZERS, default="adamw")
    recompute = serializers.ChoiceField(memory.RECOMPUTE, default="none")
    zero_stage = serializers.IntegerField(min_value=0, max_value=3, default=0)
    layers = serializers.IntegerField(min_value=1, max_value=10_000, required=False)
    hidden = serializers.IntegerField(min_value=1, max_value=1_000_000, required=False)
    heads = serializers.IntegerField(min_value=1, max_value=10_000, required=False)
    vocab = serializers.IntegerField(min_value=1, max_value=10_000_000, required=False)
    gpus = serializers.IntegerField(
        min_value=1, max_value=MAX_GPUS, default=1, help_text="Data-parallel GPUs (ZeRO shards)."
    )
    global_batch = serializers.IntegerField(
        min_value=1, max_value=100_000_000, help_text="Target global batch, in sequences."
    )

    def validate(self, attrs):
        if "gpu_memory_gb" not in attrs:
            if "accelerator" not in attrs:
                raise serializers.ValidationError(
                    {"accelerator": ["Give an accelerator or gpu_memory_gb."]}
                )
            attrs["gpu_memory_gb"] = float(
                find_accelerator(self.catalogue, attrs["accelerator"]).memory_gb
            )
        keys = ("layers", "hidden", "heads", "vocab", "precision", "optimizer", "recompute")
        try:
            attrs["_setup"] = memory.TrainingSetup(
                params=attrs["params"],
                seq_len=attrs["seq_len"],
                gpu_memory_gb=attrs["gpu_memory_gb"],
                zero_stage=attrs["zero_stage"],
                data_parallel=attrs["gpus"],
                **{k: attrs[k] for k in keys if k in attrs},
            )
        except memory.MemoryModelError as exc:
            raise serializers.ValidationError({exc.field: [str(exc)]}) from exc
        return attrs
