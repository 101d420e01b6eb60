"""Training-time prediction that learns from the organization's completed runs.

Model:
- Training compute C = 6 × params × tokens FLOPs (forward + backward, Kaplan et al. 2020), or
  the FLOPs given.
- Peak per accelerator = the catalogue's dense 16-bit tensor TFLOP/s × a precision factor:
  bf16/fp16 ×1; tf32 ×½ (Ampere and later); fp8 ×2 (Hopper and Ada: H100, H200, L4, L40S).
  V100 and T4 have no bf16; TPUs train in bf16 only.
- Model FLOPs utilisation (MFU) at N GPUs: e(N) = e₁ × s^log₂N, where e₁ is the utilisation
  per GPU before scaling losses and s the scaling efficiency per doubling of GPUs.
  GPU-hours = C / (peak × e(N) × 3600), wall-hours = GPU-hours / N.
- Without history: e₁ = 0.40 for data-centre training accelerators (A100, H100, H200, TPU) and
  0.30 for the others (published large-run MFUs sit around 30–50 %), s = 0.95, and a wide
  interval (log-scale σ₀ = 0.25, a 90 % interval of about ×0.66 – ×1.5).
- Learning: each run's achieved utilisation eᵢ = Cᵢ / (GPU-hoursᵢ × 3600 × peakᵢ). With runs at
  two or more GPU counts on an accelerator, s is fitted by least squares of ln eᵢ on log₂ Nᵢ
  (kept within 0.5 – 1); each run is then normalised to one GPU (eᵢ / s^log₂Nᵢ). e₁ is the
  geometric mean over the runs on the accelerator, or — with none there — over the runs on
  every accelerator (utilisation relative to each one's peak transfers; the transfer adds 0.15
  to σ in quadrature). The spread pools the prior with the runs' own:
  σ² = (2σ₀² + Σ(ln eᵢ − mean)²) / (2 + n − 1), and the 90 % interval on e is
  exp(ln e₁ ± 1.645 σ √(1 + 1/n)): it narrows as runs accumulate and agree.
"""

import math
from dataclasses import dataclass

import numpy as np

PRECISION_FACTOR = {"bf16": 1.0, "fp16": 1.0, "tf32": 0.5, "fp8": 2.0}
FP8_FAMILIES = {"H100", "H200", "L4", "L40S"}
NO_BF16_FAMILIES = {"V100", "T4"}
NO_TF32_FAMILIES = {"V100", "T4"}
DATACENTER_FAMILIES = {"A100", "H100", "H200"}
DEFAULT_MFU_DATACENTER = 0.40
DEFAULT_MFU_OTHER = 0.30
DEFAULT_SCALING = 0.95
PRIOR_SIGMA = 0.25
TRANSFER_SIGMA = 0.15
PRIOR_WEIGHT = 2
Z90 = 1.645
MAX_MFU = 0.9
# Below this a recorded run is a typo (7 instead of 7e9), not a slow run: it is refused, and
# never taught from.
MIN_PLAUSIBLE_MFU = 1e-3


class TrainingError(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def peak_flops(accelerator, precision: str) -> float:
    """Peak FLOP/s of one accelerator at `precision`."""
    if accelerator.peak_tflops is None:
        raise TrainingError(
            "accelerator", f"The catalogue has no peak throughput for {accelerator.name}."
        )
    family = accelerator.family
    tpu = family.upper().startswith("TPU")
    unsupported = (
        (precision == "fp8" and family not in FP8_FAMILIES)
        or (precision == "bf16" and family in NO_BF16_FAMILIES)
        or (precision == "tf32" and (family in NO_TF32_FAMILIES or tpu))
        or (precision == "fp16" and tpu)
    )
    if unsupported:
        raise TrainingError("precision", f"{accelerator.name} does not train in {precision}.")
    return accelerator.peak_tflops * 1e12 * PRECISION_FACTOR[precision]


def training_flops(params: float | None, tokens: float | None, flops: float | None) -> float:
    if flops:
        return flops
    if not params or not tokens:
        raise TrainingError("flops", "Give flops, or params and tokens.")
    return 6.0 * params * tokens


def default_mfu(accelerator) -> float:
    tpu = accelerator.family.upper().startswith("TPU")
    datacenter = accelerator.family in DATACENTER_FAMILIES or tpu
    return DEFAULT_MFU_DATACENTER if datacenter else DEFAULT_MFU_OTHER


@dataclass(frozen=True)
class RunFigure:
    accelerator_id: int
    gpu_count: int
    mfu: float  # achieved at its GPU count


def achieved_mfu(flops: float, gpu_hours: float, peak: float) -> float:
    return flops / (gpu_hours * 3600 * peak)


def check_plausible_run(flops: float, gpu_hours: float, peak: float) -> None:
    """Raise TrainingError (on gpu_hours) unless `flops` done in `gpu_hours` at `peak` FLOP/s per
    GPU is a utilisation a real run reaches: above 1 beats the hardware, below
    MIN_PLAUSIBLE_MFU is a typo. Every recorded run, however it arrives, passes this one rule."""
    if gpu_hours <= 0:
        raise TrainingError("gpu_hours", "Must be more than 0.")
    mfu = achieved_mfu(flops, gpu_hours, peak)
    if mfu < MIN_PLAUSIBLE_MFU:
        raise TrainingError(
            "gpu_hours",
            f"Too many for this compute: {mfu:.1e} of the accelerator's peak. "
            "Check params and tokens (counts, e.g. 7e9, not 7) and hours.",
        )
    if mfu > 1:
        raise TrainingError(
            "gpu_hours",
            f"Too few for this compute: {mfu:.0%} of the accelerator's peak. "
            "Check params, tokens, flops, precision and hours.",
        )


@dataclass(frozen=True)
class Efficiency:
    mfu_one_gpu: float
    scaling: float  # per doubling
    sigma: float  # log-scale
    runs: int  # runs that informed it
    basis: str  # "default" | "learned" | "transferred" | "given"
    scaling_basis: str

    def at(self, gpus) -> np.ndarray | float:
        return self.mfu_one_gpu * self.scaling ** np.log2(gpus)

    def interval(self, gpus) -> tuple[float, float]:
        n = max(self.runs, 1)
        half = Z90 * self.sigma * math.sqrt(1 + 1 / n)
        mid = float(self.at(gpus))
        return mid * math.exp(-half), min(MAX_MFU, mid * math.exp(half))


def fit_scaling(runs: list[RunFigure]) -> float | None:
    counts = {r.gpu_count for r in runs}
    if len(counts) < 2:
        return None
    x = np.log2([r.gpu_count for r in runs])
    y = np.log([r.mfu for r in runs])
    slope = np.polyfit(x, y, 1)[0]
    return float(min(1.0, max(0.5, math.exp(slope))))


def learn(accelerator, runs: list[RunFigure], given_mfu: float | None = None) -> Efficiency:
    """The organization's efficiency on `accelerator` from its runs (on any accelerator)."""
    here = [r for r in runs if r.accelerator_id == accelerator.pk]
    learned_scaling = fit_scaling(here)
    scaling = learned_scaling or DEFAULT_SCALING
    scaling_basis = (
        f"learned from runs at {len({r.gpu_count for r in here})} GPU counts"
        if (learned_scaling)
        else "default 0.95 per doubling"
    )
    if given_mfu is not None:
        return Efficiency(given_mfu, scaling, 0.0, 0, "given", scaling_basis)
    used = here or runs
    if not used:
        return Efficiency(
            default_mfu(accelerator), scaling, PRIOR_SIGMA, 0, "default", scaling_basis
        )
    logs = np.log([r.mfu / scaling ** math.log2(r.gpu_count) for r in used])
    n = len(logs)
    sigma = math.sqrt(
        (PRIOR_WEIGHT * PRIOR_SIGMA**2 + float(((logs - logs.mean()) ** 2).sum()))
        / (PRIOR_WEIGHT + n - 1)
    )
    basis = "learned"
    if not here:
        sigma = math.sqrt(sigma**2 + TRANSFER_SIGMA**2)
        basis = "transferred"
    return Efficiency(
        min(MAX_MFU, float(math.exp(logs.mean()))), scaling, sigma, n, basis, scaling_basis
    )


def predict(flops: float, peak: float, gpus: int, efficiency: Efficiency) -> dict:
    mfu = float(efficiency.at(gpus))
    low_mfu, high_mfu = efficiency.interval(gpus)
    gpu_hours = flops / (peak * mfu * 3600)
    return {
        "flops": flops,
        "gpu_hours": gpu_hours,
        "wall_hours": gpu_hours / gpus,
        "low_gpu_hours": flops / (peak * high_mfu * 3600),
        "high_gpu_hours": flops / (peak * low_mfu * 3600),
        "efficiency": mfu,
        "efficiency_interval": [low_mfu, high_mfu],
    }


def scaling_curve(flops: float, peak: float, counts, efficiency: Efficiency) -> list[dict]:
    counts = np.asarray(counts, dtype=np.float64)
    mfu = efficiency.at(counts)
    gpu_hours = flops / (peak * mfu * 3600)
    base = gpu_hours[0] / counts[0]
    return [
        {
            "gpu_count": int(n),
            "efficiency": float(e),
            "gpu_hours": float(g),
            "wall_hours": float(g / n),
            "speedup": float(base / (g / n)),
            "scaling_efficiency": float(base / (g / n) / (n / counts[0])),
        }
        for n, e, g in zip(counts, mfu, gpu_hours, strict=True)
    ]
