"""Validated footprint input: catalogue names resolved, explicit figures taking precedence."""

from rest_framework import serializers

from carbon import lookups
from carbon.footprint import Figure, FootprintError, Workload
from estimates import lookup as catalogue_lookup
from estimates.inputs import lookup_errors
from estimates.models import Accelerator, Provider


class FootprintInput(serializers.Serializer):
    provider = serializers.ChoiceField(choices=Provider.choices, required=False)
    region = serializers.CharField(max_length=40, required=False)
    instance_type = serializers.CharField(max_length=60, required=False)
    accelerator = serializers.CharField(max_length=40, required=False)
    gpu_count = serializers.IntegerField(min_value=1, max_value=100_000, required=False)
    hours = serializers.FloatField(min_value=0.0001, max_value=87_600, required=False)
    gpu_hours = serializers.FloatField(min_value=0.0001, max_value=1e9, required=False)
    utilization = serializers.FloatField(min_value=0, max_value=1, required=False)
    power_w = serializers.FloatField(
        min_value=1,
        max_value=5000,
        required=False,
        help_text="Average watts per accelerator, host share included.",
    )
    pue = serializers.FloatField(min_value=1, max_value=3, required=False)
    intensity_g_per_kwh = serializers.FloatField(min_value=0, max_value=2000, required=False)
    offset_price_per_tonne = serializers.FloatField(
        min_value=0,
        max_value=10_000,
        required=False,
        help_text="USD per tonne CO2e for the offset cost (default: the catalogue's, sourced).",
    )
    energy_kwh = serializers.FloatField(
        min_value=0,
        max_value=1e9,
        required=False,
        help_text="Measured IT energy; replaces the estimate.",
    )

    @property
    def catalogue(self):
        return self.context["catalogue"]

    def validate(self, attrs):
        region = instance = None
        if attrs.get("provider"):
            if not attrs.get("region"):
                raise serializers.ValidationError({"region": ["Required with provider."]})
            provider = attrs["provider"]
            region = lookup_errors(
                lambda: catalogue_lookup.region(self.catalogue, provider, attrs["region"])
            )
            if attrs.get("instance_type"):
                instance = lookup_errors(
                    lambda: catalogue_lookup.instance_type(
                        self.catalogue, provider, attrs["instance_type"]
                    )
                )
        elif attrs.get("instance_type") or attrs.get("region"):
            raise serializers.ValidationError({"provider": ["Required with region/instance_type."]})
        accelerator = instance.accelerator if instance else None
        if attrs.get("accelerator") and not instance:
            names = lookup_errors(
                lambda: catalogue_lookup.accelerator_names(self.catalogue, attrs["accelerator"])
            )
            if len(names) > 1:
                raise serializers.ValidationError(
                    {"accelerator": [f"Which one: {', '.join(sorted(names))}?"]}
                )
            accelerator = Accelerator.objects.get(name=next(iter(names)))
        no_power = "power_w" not in attrs and "energy_kwh" not in attrs
        if no_power and accelerator is None:
            raise serializers.ValidationError(
                {"power_w": ["Give power_w, energy_kwh, an accelerator or an instance type."]}
            )
        if "energy_kwh" not in attrs and not attrs.get("gpu_hours"):
            if not attrs.get("hours"):
                raise serializers.ValidationError({"hours": ["Give hours or gpu_hours."]})
            if not attrs.get("gpu_count") and not instance:
                raise serializers.ValidationError({"gpu_count": ["Required with hours."]})
        if "pue" not in attrs and region is None:
            raise serializers.ValidationError({"pue": ["Give pue, or provider and region."]})
        if "intensity_g_per_kwh" not in attrs and region is None:
            raise serializers.ValidationError(
                {"intensity_g_per_kwh": ["Give intensity_g_per_kwh, or provider and region."]}
            )
        attrs["_region"], attrs["_instance"], attrs["_accelerator"] = region, instance, accelerator
        return attrs

    def to_domain(self) -> Workload:
        d = self.validated_data
        region, instance, accelerator = d["_region"], d["_instance"], d["_accelerator"]
        utilization = d.get("utilization", 1.0)
        try:
            workload = Workload(
                hours=d.get("hours"),
                gpu_count=d.get("gpu_count") or (instance.accelerator_count if instance else None),
                gpu_hours=d.get("gpu_hours"),
                utilization=utilization,
                gpus_per_node=instance.accelerator_count if instance else None,
                vcpus=instance.vcpus if instance else None,
                memory_gib=float(instance.memory_gib) if instance and instance.memory_gib else None,
                accelerator_power=lookups.accelerator_power(accelerator, utilization)
                if accelerator is not None and "power_w" not in d
                else None,
                power_w=d.get("power_w"),
                energy_kwh=d.get("energy_kwh"),
                pue=Figure(d["pue"], "", "given", "given")
                if "pue" in d
                else lookups.pue(d["provider"], region),
                intensity=Figure(d["intensity_g_per_kwh"], "g CO2e/kWh", "given", "given")
                if "intensity_g_per_kwh" in d
                else lookups.intensity(region),
                host_model=lookups.host_model(d["provider"])
                if instance and "power_w" not in d
                else {},
            )
        except FootprintError as exc:
            raise serializers.ValidationError({exc.field: [str(exc)]}) from exc
        return workload
