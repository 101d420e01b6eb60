"""Validated inputs of the estimate computations, shared by the API and the pages.

Each serializer checks types and ranges, resolves catalogue names (with "did you mean" hints)
and builds the plain dataclass the domain function takes (`to_domain()`).
"""

import copy

from rest_framework import serializers

from estimates import interruptions, lookup
from estimates.ci_plans import PRESETS, TestJob
from estimates.commitments import Usage
from estimates.compare import Requirements
from estimates.estimate import Workload
from estimates.models import EgressKind, Provider, PurchaseOption

MAX_HOURS = 87_600  # ten years of wall-clock time
MAX_GB = 10_000_000
MAX_GPUS = 100_000


def _unbound_copy(field):
    """A copy of a declared field for one serializer instance to bind. DRF deep-copies every
    declared field, rebuilding it from its arguments, for each instance (half of a compare
    request's validation). A declared field is never bound or validated itself and binding only
    sets attributes on the copy, so a shallow copy is enough; a list field's child (bound to the
    declared list field when it was made) is copied as unbound and bound to the new list field.
    Nested serializers keep DRF's deep copy."""
    if isinstance(field, serializers.BaseSerializer):
        return copy.deepcopy(field)
    clone = object.__new__(type(field))  # copy.copy, for a plain __dict__ object, at 1/4 the cost
    clone.__dict__.update(field.__dict__)
    clone.source = field._kwargs.get("source")
    child = getattr(field, "child", None)
    if child is not None:
        clone.child = _unbound_copy(child)
        clone.child.bind(field_name="", parent=clone)
    return clone


def lookup_errors(func):
    """Run a catalogue lookup, turning its error into a field error."""
    try:
        return func()
    except lookup.CatalogueLookupError as exc:
        raise serializers.ValidationError({exc.field: [str(exc)]}) from exc


class CatalogueInput(serializers.Serializer):
    """Input that names catalogue rows; the snapshot comes in the context ("catalogue")."""

    def get_fields(self):
        return {name: _unbound_copy(field) for name, field in self._declared_fields.items()}

    @property
    def catalogue(self):
        root = self.root if self.root is not None else self
        return root.context["catalogue"]


class WhereFilters(serializers.Serializer):
    """Limit a search to some providers and regions (all when omitted)."""

    providers = serializers.ListField(
        child=serializers.ChoiceField(choices=Provider.choices), required=False, max_length=3
    )
    regions = serializers.ListField(
        child=serializers.CharField(max_length=40), required=False, max_length=200
    )


class SpotModelFields(CatalogueInput):
    interruption_rate = serializers.FloatField(
        required=False,
        min_value=0,
        max_value=0.99,
        help_text="Monthly interruption frequency of one instance (0.1 = 10%).",
    )
    interruption_bucket = serializers.ChoiceField(
        choices=list(interruptions.AWS_BUCKETS),
        required=False,
        help_text="AWS Spot Advisor bucket, instead of a rate.",
    )


class EstimateInput(SpotModelFields):
    provider = serializers.ChoiceField(choices=Provider.choices)
    region = serializers.CharField(max_length=40)
    instance_type = serializers.CharField(max_length=60, required=False)
    accelerator = serializers.CharField(
        max_length=40, required=False, help_text="With gpu_count, instead of instance_type."
    )
    gpu_count = serializers.IntegerField(min_value=1, max_value=MAX_GPUS, required=False)
    hours = serializers.FloatField(min_value=0.001, max_value=MAX_HOURS)
    nodes = serializers.IntegerField(min_value=1, max_value=10_000, default=1)
    purchase_option = serializers.ChoiceField(
        choices=PurchaseOption.choices, default=PurchaseOption.ON_DEMAND
    )
    storage_gb = serializers.FloatField(min_value=0, max_value=MAX_GB, default=0)
    storage_class = serializers.CharField(max_length=40, default="object-standard")
    egress_gb = serializers.FloatField(min_value=0, max_value=MAX_GB, default=0)
    egress_kind = serializers.ChoiceField(choices=EgressKind.choices, default=EgressKind.INTERNET)
    checkpoint_interval_hours = serializers.FloatField(
        required=False, min_value=0.01, max_value=MAX_HOURS
    )
    checkpoint_write_minutes = serializers.FloatField(required=False, min_value=0, max_value=1440)
    restart_minutes = serializers.FloatField(required=False, min_value=0, max_value=1440)

    def validate(self, attrs):
        provider = attrs["provider"]
        attrs["region"] = lookup_errors(
            lambda: lookup.region(self.catalogue, provider, attrs["region"])
        ).code
        if attrs.get("instance_type"):
            if attrs.get("accelerator"):
                raise serializers.ValidationError(
                    {
                        "accelerator": [
                            "Give instance_type, or accelerator with gpu_count; not both."
                        ]
                    }
                )
            instance = lookup_errors(
                lambda: lookup.instance_type(self.catalogue, provider, attrs["instance_type"])
            )
            attrs["instance_type"] = instance.name
        elif attrs.get("accelerator"):
            if not attrs.get("gpu_count"):
                raise serializers.ValidationError({"gpu_count": ["Required with accelerator."]})
            attrs["accelerator_names"] = lookup_errors(
                lambda: lookup.accelerator_names(self.catalogue, attrs["accelerator"])
            )
        else:
            raise serializers.ValidationError(
                {"instance_type": ["Give instance_type, or accelerator with gpu_count."]}
            )
        return attrs

    def to_domain(self) -> Workload:
        data = self.validated_data
        return Workload(
            provider=data["provider"],
            region=data["region"],
            hours=data["hours"],
            instance_type=data.get("instance_type"),
            accelerator_names=data.get("accelerator_names"),
            gpu_count=data.get("gpu_count"),
            nodes=data["nodes"],
            purchase_option=data["purchase_option"],
            storage_gb=data["storage_gb"],
            storage_class=data["storage_class"],
            egress_gb=data["egress_gb"],
            egress_kind=data["egress_kind"],
            interruption_rate=data.get("interruption_rate"),
            interruption_bucket=data.get("interruption_bucket"),
            checkpoint_interval_hours=data.get("checkpoint_interval_hours"),
            checkpoint_write_minutes=data.get("checkpoint_write_minutes"),
            restart_minutes=data.get("restart_minutes"),
        )


class CompareInput(WhereFilters, SpotModelFields):
    accelerator = serializers.CharField(
        max_length=40, required=False, help_text='A name or a family: "A100" matches 40 and 80 GB.'
    )
    min_gpu_memory_gb = serializers.FloatField(required=False, min_value=1, max_value=10_000)
    gpu_count = serializers.IntegerField(min_value=1, max_value=MAX_GPUS)
    hours = serializers.FloatField(min_value=0.001, max_value=MAX_HOURS)
    purchase_options = serializers.ListField(
        child=serializers.ChoiceField(choices=PurchaseOption.choices), required=False, max_length=4
    )
    max_results = serializers.IntegerField(min_value=1, max_value=500, default=20)

    def validate(self, attrs):
        if not attrs.get("accelerator") and not attrs.get("min_gpu_memory_gb"):
            raise serializers.ValidationError(
                {"accelerator": ["Give accelerator or min_gpu_memory_gb."]}
            )
        if attrs.get("accelerator"):
            attrs["accelerator_names"] = lookup_errors(
                lambda: lookup.accelerator_names(self.catalogue, attrs["accelerator"])
            )
        if attrs.get("regions"):
            known = lookup.region_codes(self.catalogue)
            unknown = [r for r in attrs["regions"] if r not in known]
            if unknown:
                raise serializers.ValidationError(
                    {"regions": [f"Unknown region(s): {', '.join(unknown)}."]}
                )
        return attrs

    def to_domain(self) -> Requirements:
        data = self.validated_data
        return Requirements(
            gpu_count=data["gpu_count"],
            hours=data["hours"],
            accelerator_names=data.get("accelerator_names"),
            min_gpu_memory_gb=data.get("min_gpu_memory_gb"),
            providers=data.get("providers"),
            regions=data.get("regions"),
            purchase_options=data.get("purchase_options"),
            max_results=data["max_results"],
            interruption_rate=data.get("interruption_rate")
            if "interruption_rate" in data
            else interruptions.AWS_BUCKETS.get(data.get("interruption_bucket")),
        )


class CommitmentInput(CatalogueInput):
    provider = serializers.ChoiceField(choices=Provider.choices)
    region = serializers.CharField(max_length=40)
    instance_type = serializers.CharField(max_length=60)
    instance_hours_per_week = serializers.FloatField(
        required=False,
        min_value=0.1,
        max_value=168 * 10_000,
        help_text="Instance-hours used per week (168 = one instance all week).",
    )
    gpu_hours_per_week = serializers.FloatField(
        required=False,
        min_value=0.1,
        max_value=168 * MAX_GPUS,
        help_text="GPU-hours per week, instead of instance-hours.",
    )
    interruption_rate = serializers.FloatField(required=False, min_value=0, max_value=0.99)

    def validate(self, attrs):
        provider = attrs["provider"]
        attrs["region"] = lookup_errors(
            lambda: lookup.region(self.catalogue, provider, attrs["region"])
        ).code
        instance = lookup_errors(
            lambda: lookup.instance_type(self.catalogue, provider, attrs["instance_type"])
        )
        attrs["instance_type"] = instance.name
        if "instance_hours_per_week" not in attrs:
            if "gpu_hours_per_week" not in attrs:
                raise serializers.ValidationError(
                    {
                        "instance_hours_per_week": [
                            "Give instance_hours_per_week or gpu_hours_per_week."
                        ]
                    }
                )
            attrs["instance_hours_per_week"] = (
                attrs["gpu_hours_per_week"] / instance.accelerator_count
            )
        return attrs

    def to_domain(self) -> Usage:
        data = self.validated_data
        return Usage(
            provider=data["provider"],
            region=data["region"],
            instance_type=data["instance_type"],
            instance_hours_per_week=data["instance_hours_per_week"],
            interruption_rate=data.get("interruption_rate"),
        )


class TestJobInput(CatalogueInput):
    name = serializers.CharField(max_length=80)
    test_type = serializers.ChoiceField(choices=list(PRESETS))
    runs_per_week = serializers.FloatField(min_value=0.1, max_value=100_000)
    minutes_per_run = serializers.FloatField(min_value=0.1, max_value=7 * 24 * 60)
    shards = serializers.IntegerField(min_value=1, max_value=1000, default=1)
    gpu_count = serializers.IntegerField(min_value=1, max_value=64, required=False)
    min_gpu_memory_gb = serializers.FloatField(min_value=1, max_value=10_000, required=False)
    accelerator = serializers.CharField(max_length=40, required=False)
    current_instance_type = serializers.CharField(max_length=60, required=False)

    def validate(self, attrs):
        if attrs.get("accelerator"):
            attrs["accelerator_names"] = lookup_errors(
                lambda: lookup.accelerator_names(self.catalogue, attrs["accelerator"])
            )
        if attrs["test_type"] == "benchmark" and not attrs.get("accelerator"):
            raise serializers.ValidationError(
                {"accelerator": ["Benchmarks run on the accelerator you ship on; name it."]}
            )
        if attrs["test_type"] == "custom" and not attrs.get("gpu_count"):
            raise serializers.ValidationError({"gpu_count": ["Required for a custom test."]})
        return attrs


class CiPlanInput(WhereFilters, CatalogueInput):
    tests = TestJobInput(many=True, allow_empty=False, max_length=50)
    provider = serializers.ChoiceField(
        choices=Provider.choices,
        required=False,
        help_text="Where current_instance_type values are priced.",
    )
    region = serializers.CharField(max_length=40, required=False)

    def validate(self, attrs):
        if any(t.get("current_instance_type") for t in attrs["tests"]):
            if not attrs.get("provider") or not attrs.get("region"):
                raise serializers.ValidationError(
                    {"region": ["Give provider and region to price current_instance_type."]}
                )
            provider = attrs["provider"]
            attrs["region"] = lookup_errors(
                lambda: lookup.region(self.catalogue, provider, attrs["region"])
            ).code
            for test in attrs["tests"]:
                if test.get("current_instance_type"):
                    name = test["current_instance_type"]
                    test["current_instance_type"] = lookup_errors(
                        lambda name=name: lookup.instance_type(self.catalogue, provider, name)
                    ).name
        return attrs

    def to_domain(self):
        data = self.validated_data
        jobs = [
            TestJob(
                name=t["name"],
                test_type=t["test_type"],
                runs_per_week=t["runs_per_week"],
                minutes_per_run=t["minutes_per_run"],
                shards=t["shards"],
                gpu_count=t.get("gpu_count"),
                min_gpu_memory_gb=t.get("min_gpu_memory_gb"),
                accelerator_names=t.get("accelerator_names"),
                current_instance_type=t.get("current_instance_type"),
            )
            for t in data["tests"]
        ]
        # Where current instances are priced: given (and checked) when some test names one.
        current_at = (
            (data["provider"], data["region"])
            if any(job.current_instance_type for job in jobs)
            else None
        )
        return jobs, data.get("providers"), data.get("regions"), current_at


INPUTS = {
    "estimate": EstimateInput,
    "compare": CompareInput,
    "commitment": CommitmentInput,
    "ci_plan": CiPlanInput,
}
