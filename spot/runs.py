"""A completed fleet on a real provider becomes a training run (estimates), so its measured
speed teaches the organization's efficiency. Simulated fleets never do (their speed is made
up), nor fleets without a known workload, whose instances had different accelerators, or whose
useful GPU-hours are implausible for the workload (the rule every recorded run passes)."""

from django.utils import timezone

from estimates import runs, training
from estimates.models import InstanceType
from estimates.planning import resolve_precision
from spot import accounting
from spot.models import CATALOGUE_PROVIDER


def workload_flops(fleet) -> float | None:
    try:
        return training.training_flops(
            fleet.model_params, fleet.training_tokens, fleet.training_flops
        )
    except training.TrainingError:  # the workload is not known
        return None


def record(fleet):
    """The run, or None with nothing recorded."""
    flops = workload_flops(fleet)
    if fleet.is_simulated or flops is None:
        return None
    attempts = list(fleet.attempts.all())
    types = {a.instance_type for a in attempts}
    instances = list(
        InstanceType.objects.filter(provider=CATALOGUE_PROVIDER, name__in=types).select_related(
            "accelerator"
        )
    )
    if len(instances) != len(types) or len({i.accelerator_id for i in instances}) != 1:
        return None
    accelerator = instances[0].accelerator
    per_instance = instances[0].accelerator_count
    totals = accounting.totals(fleet, attempts, timezone.now())
    gpu_hours = (totals.instance_hours - totals.rework_instance_hours) * per_instance
    gpus = fleet.target_count * per_instance
    precision = fleet.precision or resolve_precision(accelerator, None)
    try:
        peak = training.peak_flops(accelerator, precision)
        training.check_plausible_run(flops, gpu_hours, peak)
    except training.TrainingError:
        return None
    run, _ = runs.record(
        fleet.organization,
        f"spot-fleet-{fleet.pk}",
        {
            "team": fleet.team,
            "name": fleet.name,
            "params": fleet.model_params,
            "tokens": fleet.training_tokens,
            "flops": flops,
            "accelerator": accelerator,
            "gpu_count": gpus,
            "precision": precision,
            "gpu_hours": gpu_hours,
            "wall_hours": gpu_hours / gpus,
            "cost": totals.cost.quantize(accounting.CENT),
            "currency": accounting.CURRENCY,
            "notes": f"Spot fleet {fleet.pk}: useful GPU-hours, rework excluded.",
            "source": "spot",
        },
    )
    return run
