"""REST API of planning: training-time prediction, configurations side by side, the scaling
curve, cost/time/carbon trade-offs, and the organization's completed training runs."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions
from rest_framework.decorators import action
from rest_framework.response import Response

from costsite.orgs.api import READ_ERRORS, crud_schema
from costsite.orgs.roles import OPERATORS, READERS
from costsite.orgs.viewsets import OrgContextViewSet, OrgScopedModelViewSet, ReadOnlyRequestsMixin
from estimates import memory, planning, tradeoffs, training
from estimates.api import COMPUTE_ERRORS
from estimates.models import Accelerator, TrainingRun
from estimates.offers import offer_table
from estimates.planning_inputs import (
    BatchSizeInput,
    ConfigurationsInput,
    ScalingInput,
    TradeoffsInput,
    TrainingRunSerializer,
    TrainingTimeInput,
)


def validated(serializer_class, org, data):
    table = offer_table(org)
    form = serializer_class(data=data, context={"catalogue": table.catalogue, "table": table})
    form.is_valid(raise_exception=True)
    return form, table


def domain_errors(function, *args):
    try:
        return function(*args)
    except training.TrainingError as exc:
        raise exceptions.ValidationError({exc.field: [str(exc)]}) from exc


def _runs(org, runs):
    """What the organization's runs teach (planning.run_figures): `runs` when the caller read
    them already (a page running several computations reads them once)."""
    return planning.run_figures(org) if runs is None else runs


def training_time(org, data, runs=None) -> dict:
    form, table = validated(TrainingTimeInput, org, data)
    return domain_errors(
        planning.training_time,
        _runs(org, runs),
        table,
        form.plan(),
        form.validated_data["_offer"],
    )


def configurations(org, data, runs=None) -> dict:
    form, _ = validated(ConfigurationsInput, org, data)
    d = form.validated_data
    rows = domain_errors(
        planning.configurations,
        _runs(org, runs),
        d["_flops"],
        d["_configs"],
        d.get("precision"),
        d.get("efficiency"),
    )
    return {"flops": d["_flops"], "configurations": rows}


def scaling(org, data, runs=None) -> dict:
    form, _ = validated(ScalingInput, org, data)
    d = form.validated_data
    plan = planning.Plan(d["_flops"], d["_accelerator"], 1, d.get("precision"), d.get("efficiency"))
    counts = sorted(set(d.get("gpu_counts") or planning.DEFAULT_COUNTS))
    return {
        "accelerator": d["_accelerator"].name,
        "curve": domain_errors(planning.curve, _runs(org, runs), plan, counts),
    }


def trade_offs(org, data, runs=None) -> dict:
    form, table = validated(TradeoffsInput, org, data)
    d = form.validated_data
    question = tradeoffs.Question(
        flops=d["_flops"],
        precision=d.get("precision"),
        efficiency=d.get("efficiency"),
        gpu_counts=tuple(sorted(set(d.get("gpu_counts") or planning.DEFAULT_COUNTS))),
        accelerator_names=d["_accelerator_names"],
        providers=d.get("providers"),
        regions=d.get("regions"),
        purchase_options=d.get("purchase_options"),
        deadline_hours=d.get("deadline_hours"),
        budget=d.get("budget"),
        hour_value=d.get("hour_value"),
    )
    runs = _runs(org, runs)
    return {"flops": d["_flops"], **tradeoffs.evaluate(runs, table, question)}


def batch_size(org, data) -> dict:
    form, _ = validated(BatchSizeInput, org, data)
    d = form.validated_data
    try:
        return memory.plan_batch(d["_setup"], d["global_batch"], d["gpus"])
    except memory.MemoryModelError as exc:
        raise exceptions.ValidationError({exc.field: [str(exc)]}) from exc


PLANNING = {
    "training_time": training_time,
    "configurations": configurations,
    "scaling": scaling,
    "tradeoffs": trade_offs,
    "batch_size": batch_size,
}


class PlanningViewSet(ReadOnlyRequestsMixin, OrgContextViewSet):
    """Planning computations: they write nothing, so every role and read tokens may call them."""

    computation_actions = frozenset(PLANNING)
    action_roles = dict.fromkeys(PLANNING, READERS)
    serializer_class = TrainingTimeInput

    @extend_schema(
        request=TrainingTimeInput,
        responses={200: OpenApiTypes.OBJECT, **COMPUTE_ERRORS},
        description="GPU-hours and wall-hours for `params` × `tokens` (or `flops`) on "
        "`gpu_count` accelerators, with an interval, the efficiency used and how many of your "
        "runs taught it; with `provider`, `region`, `instance_type` also cost and co2e.",
    )
    @action(detail=False, methods=["post"], url_path="training-time")
    def training_time(self, request, *args, **kwargs):
        return Response(training_time(self.org, request.data))

    @extend_schema(
        request=ConfigurationsInput,
        responses={200: OpenApiTypes.OBJECT, **COMPUTE_ERRORS},
        description="The same workload on several accelerator × GPU-count configurations.",
    )
    @action(detail=False, methods=["post"])
    def configurations(self, request, *args, **kwargs):
        return Response(configurations(self.org, request.data))

    @extend_schema(
        request=ScalingInput,
        responses={200: OpenApiTypes.OBJECT, **COMPUTE_ERRORS},
        description="Wall time, GPU-hours and speed-up against GPU count.",
    )
    @action(detail=False, methods=["post"])
    def scaling(self, request, *args, **kwargs):
        return Response(scaling(self.org, request.data))

    @extend_schema(
        request=TradeoffsInput,
        responses={200: OpenApiTypes.OBJECT, **COMPUTE_ERRORS},
        description="Every instance × region × purchase option × GPU count: the Pareto "
        "frontier of cost, time and co2e, recommendations, the ROI of faster options and the "
        "scaling curve of the cheapest.",
    )
    @action(detail=False, methods=["post"])
    def tradeoffs(self, request, *args, **kwargs):
        return Response(trade_offs(self.org, request.data))

    @extend_schema(
        request=BatchSizeInput,
        responses={200: OpenApiTypes.OBJECT, **COMPUTE_ERRORS},
        description="The largest micro-batch that fits in the accelerator's memory (weights, "
        "gradients, optimizer state, activations; README) and the gradient accumulation for "
        "a target global batch; when nothing fits, the smallest change that does.",
    )
    @action(detail=False, methods=["post"], url_path="batch-size")
    def batch_size(self, request, *args, **kwargs):
        return Response(batch_size(self.org, request.data))


def learned_efficiencies(org) -> list[dict]:
    """What the organization's runs teach, per accelerator with a peak figure."""
    runs = planning.run_figures(org)
    rows = []
    for accelerator in Accelerator.objects.exclude(peak_tflops=None):
        efficiency = training.learn(accelerator, runs)
        low, high = efficiency.interval(1)
        rows.append(
            {
                "accelerator": accelerator.name,
                "efficiency_one_gpu": round(efficiency.mfu_one_gpu, 6),
                "interval": [round(low, 6), round(high, 6)],
                "basis": efficiency.basis,
                "runs": efficiency.runs,
                "scaling_per_doubling": round(efficiency.scaling, 6),
                "scaling_basis": efficiency.scaling_basis,
            }
        )
    return rows


@crud_schema(TrainingRunSerializer)
class TrainingRunViewSet(OrgScopedModelViewSet):
    """Completed training runs: `name`, `params` and `tokens` (or `flops`), `accelerator`,
    `gpu_count`, `gpu_hours` or `wall_hours`, optional `precision`, `cost`, `team`, `notes`.
    Your efficiency is learned from them."""

    queryset = TrainingRun.objects.select_related("accelerator", "team")
    serializer_class = TrainingRunSerializer
    write_roles = OPERATORS
    filterset_fields = ["team", "accelerator__name", "source"]

    def perform_create(self, serializer):
        serializer.save(organization=self.org, created_by=self.request.user)

    @extend_schema(
        responses={200: OpenApiTypes.OBJECT, **READ_ERRORS},
        description="The efficiency your runs teach, per accelerator.",
    )
    @action(detail=False, methods=["get"])
    def efficiency(self, request, *args, **kwargs):
        return Response({"accelerators": learned_efficiencies(self.org)})
