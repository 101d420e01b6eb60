"""Demo training runs for `manage.py seed_demo` (registered in EstimatesConfig.ready), so the
planner has something to learn from. Named and noted as demo data."""

from estimates.models import Accelerator, TrainingRun

# (name, params, tokens, accelerator, GPUs, GPU-hours): made-up runs at 36–42 % MFU on A100s.
DEMO_RUNS = [
    ("Demo: 1.3B pretrain", 1.3e9, 26e9, "A100-40GB", 8, 451.0),
    ("Demo: 350M pretrain", 3.5e8, 7e9, "A100-40GB", 4, 30.9),
    ("Demo: 1.3B pretrain, 32 GPUs", 1.3e9, 26e9, "A100-40GB", 32, 497.0),
]


def seed_runs(org) -> None:
    accelerators = {a.name: a for a in Accelerator.objects.filter(name="A100-40GB")}
    if not accelerators:
        return  # the catalogue is not loaded
    for name, params, tokens, accelerator, gpus, gpu_hours in DEMO_RUNS:
        TrainingRun.objects.get_or_create(
            organization=org,
            external_id=f"demo:{name}",
            defaults={
                "name": name,
                "params": params,
                "tokens": tokens,
                "flops": 6 * params * tokens,
                "accelerator": accelerators[accelerator],
                "gpu_count": gpus,
                "gpu_hours": gpu_hours,
                "wall_hours": gpu_hours / gpus,
                "notes": "demo data",
                "source": "portal",
            },
        )
