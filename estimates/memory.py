"""How much accelerator memory training a transformer needs, the largest micro-batch that fits,
and the gradient accumulation that reaches a target global batch.

All sizes are decimal gigabytes (1 GB = 10⁹ bytes), as in the papers below; a card sold as
"80 GB" has at least 80·10⁹ bytes, so this errs on the safe side. Memory per GPU is

    total = weights + gradients + optimizer state      (the "states", per parameter below)
          + activations(micro_batch)                  (per layer, below)
          + overhead                                  (CUDA context, workspaces, fragmentation)

and a micro-batch fits when total ≤ gpu_memory_gb.

States, bytes per parameter (Ψ = `params`)
-----------------------------------------
Mixed precision (Micikevicius et al. 2018, "Mixed Precision Training", arXiv:1710.03740) keeps
a 16-bit working copy of the weights and 16-bit gradients, and the optimizer updates an fp32
master copy; the ZeRO paper counts the master copy as optimizer state (Rajbhandari et al. 2020,
"ZeRO: Memory Optimizations Toward Training Trillion Parameter Models", SC20, arXiv:1910.02054,
§3.1: Adam in mixed precision needs 2Ψ + 2Ψ + 12Ψ = 16Ψ bytes). fp32 training needs no master
copy.

    precision   weights  gradients  master copy (counted in "optimizer")
    bf16, fp16     2         2         4
    fp8            3         2         4     bf16 weights + a cached fp8 copy (Transformer
                                             Engine style; FP8 speeds up matrix multiplies,
                                             it does not shrink the states)
    fp32           4         4         0

    optimizer            state on top of the master copy
    adamw (= adam)       8   two fp32 moments (ZeRO's K = 12 = 4 master + 8)
    sgd                  4   one fp32 momentum buffer (plain SGD without momentum would be 0)
    adafactor            0   factored second moment, O(rows + cols) per matrix, no momentum
                             (Shazeer & Stern 2018, arXiv:1804.04235) — under 0.1 % of Ψ
    adam8bit             2   two 8-bit moments (Dettmers et al. 2022, "8-bit Optimizers via
                             Block-wise Quantization", arXiv:2110.02861); block scales ignored

So bf16 + AdamW = 2 + 2 + 12 = 16 bytes/parameter; fp32 + AdamW = 4 + 4 + 8 = 16 as well.

ZeRO (same paper, §5) across `data_parallel` GPUs: stage 1 divides the optimizer state
(master copy included) by `data_parallel`, stage 2 also the gradients, stage 3 also the weights.

Activations, per micro-batch of b sequences
-------------------------------------------
Korthikanti et al. 2022, "Reducing Activation Recomputation in Large Transformer Models"
(MLSys 2023, arXiv:2205.05198), eq. 1, with s = `seq_len`, h = `hidden`, a = `heads`,
L = `layers`, 16-bit activations, no tensor/sequence parallelism:

    recompute="none"       per layer  s·b·h·(34 + 5·a·s/h)   bytes
    recompute="selective"  per layer  s·b·h·34               (attention scores recomputed, §5;
                                                               FlashAttention also behaves so)
    recompute="full"       per layer  2·s·b·h                (only each layer's input is kept)

Of those 34 s·b·h + 5 a·s²·b bytes, 2 s·b·h + a·s²·b are 1-byte dropout masks and the rest are
2-byte values; fp32 doubles the values only: s·b·h·(66 + 9·a·s/h), 66 s·b·h and 4 s·b·h. fp8 is
counted as 16-bit (Transformer Engine keeps most saved activations in 16 bits). When `vocab` is
given, the fp32 logits kept for the cross-entropy loss add 4·s·b·vocab bytes (§4.3), whatever
the recomputation. Not counted: the embedding and final layer-norm buffers (a few s·b·h), and
the transient rematerialisation of one layer during the backward pass under full recomputation.

Architecture when not given
---------------------------
A dense decoder has about 12·L·h² parameters in its layers, plus vocab·h in a tied embedding
when `vocab` is given. Missing sizes are derived from `params` with
  * h/L = 128 and a head dimension of 128 (so heads = L), as in GPT-3 6.7B (4096/32) and 175B
    (12288/96) (Brown et al. 2020, Table 2.1) and LLaMA 7B (4096/32) and 13B (5120/40)
    (Touvron et al. 2023, Table 2): L is the integer that brings 12·L·(128·L)² + vocab·128·L
    closest to `params`;
  * only `hidden` given: L = round((params − vocab·h) / (12·h²));
  * only `layers` given: h solves 12·L·h² + vocab·h = params, rounded to a multiple of 128;
  * `heads` missing: the divisor of h giving a head dimension closest to 128.
Small models are wider for their depth than this rule says (GPT-3 125M is 768/12), so give the
architecture when you know it. Every derived value is listed in the result's `assumptions`.

Overhead
--------
Default `overhead_gb` = 1.0 (CUDA context, cuBLAS/NCCL workspaces) and `usable_fraction` = 0.9
(the other 10 % lost to allocator caching and fragmentation): an 80 GB card leaves
80·0.9 − 1 = 71 GB for states and activations.
"""

import math
from dataclasses import dataclass, replace

PRECISIONS = ("bf16", "fp16", "fp8", "fp32")
OPTIMIZERS = ("adamw", "adam", "sgd", "adafactor", "adam8bit")
RECOMPUTE = ("none", "selective", "full")

GB = 1e9
HEAD_DIM = 128
ASPECT_RATIO = 128  # hidden / layers
DEFAULT_OVERHEAD_GB = 1.0
DEFAULT_USABLE_FRACTION = 0.9

# precision → (weights, gradients, fp32 master copy) bytes per parameter
STATE_BYTES = {
    "bf16": (2, 2, 4),
    "fp16": (2, 2, 4),
    "fp8": (3, 2, 4),
    "fp32": (4, 4, 0),
}
# optimizer → bytes per parameter of optimizer state besides the master copy
OPTIMIZER_BYTES = {"adamw": 8, "adam": 8, "sgd": 4, "adafactor": 0, "adam8bit": 2}
# What a suggested recomputation costs, for the message (Korthikanti et al. 2022, §5-6).
RECOMPUTE_NOTE = {
    "selective": "recompute attention scores, a few % more compute",
    "full": "recompute every layer, about a third more compute",
}


class MemoryModelError(ValueError):
    """An input out of range; `field` says which input, the message what would be valid."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


class MicroBatch(int):
    """An int micro-batch size that also says why it is not larger (`reason`)."""

    reason: str

    def __new__(cls, value: int, reason: str = ""):
        obj = super().__new__(cls, value)
        obj.reason = reason
        return obj


def _number(field, value, low, high, *, integer=False, low_open=False):
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise MemoryModelError(field, f"{field} must be a number, not {value!r}.")
    if not math.isfinite(value) or value > high or value < low or (low_open and value == low):
        bound = f"greater than {low}" if low_open else f"at least {low}"
        raise MemoryModelError(field, f"{field} must be {bound} and at most {high:g}.")
    if integer and value != int(value):
        raise MemoryModelError(field, f"{field} must be a whole number, not {value!r}.")
    return int(value) if integer else value


def _choice(field, value, choices):
    value = str(value or "").strip().lower()
    if value not in choices:
        raise MemoryModelError(field, f"Unknown {field} {value!r}. Valid: {', '.join(choices)}.")
    return value


@dataclass(frozen=True)
class TrainingSetup:
    """One training configuration on one kind of card; validated on construction."""

    params: float
    seq_len: int
    gpu_memory_gb: float
    precision: str = "bf16"
    optimizer: str = "adamw"
    layers: int | None = None
    hidden: int | None = None
    heads: int | None = None
    vocab: int | None = None
    recompute: str = "none"
    zero_stage: int = 0
    data_parallel: int = 1
    overhead_gb: float = DEFAULT_OVERHEAD_GB
    usable_fraction: float = DEFAULT_USABLE_FRACTION

    def __post_init__(self):
        checked = {
            "params": _number("params", self.params, 0, 1e14, low_open=True),
            "seq_len": _number("seq_len", self.seq_len, 1, 10_000_000, integer=True),
            "gpu_memory_gb": _number("gpu_memory_gb", self.gpu_memory_gb, 0, 10_000, low_open=True),
            "precision": _choice("precision", self.precision, PRECISIONS),
            "optimizer": _choice("optimizer", self.optimizer, OPTIMIZERS),
            "recompute": _choice("recompute", self.recompute, RECOMPUTE),
            "zero_stage": _number("zero_stage", self.zero_stage, 0, 3, integer=True),
            "data_parallel": _number("data_parallel", self.data_parallel, 1, 1e6, integer=True),
            "overhead_gb": _number("overhead_gb", self.overhead_gb, 0, 10_000),
            "usable_fraction": _number(
                "usable_fraction", self.usable_fraction, 0, 1, low_open=True
            ),
        }
        limits = {"layers": 10_000, "hidden": 1_000_000, "heads": 1_000_000, "vocab": 10_000_000}
        for field, high in limits.items():
            if getattr(self, field) is not None:
                checked[field] = _number(field, getattr(self, field), 1, high, integer=True)
        hidden, heads = checked.get("hidden"), checked.get("heads")
        if heads is not None and hidden is None:
            raise MemoryModelError("heads", "Give hidden along with heads.")
        if heads is not None and hidden % heads:
            raise MemoryModelError("heads", f"heads ({heads}) must divide hidden ({hidden}).")
        if checked["gpu_memory_gb"] * checked["usable_fraction"] <= checked["overhead_gb"]:
            raise MemoryModelError(
                "overhead_gb", "overhead_gb leaves no usable memory on this card."
            )
        for field, value in checked.items():
            object.__setattr__(self, field, value)


@dataclass(frozen=True)
class Shape:
    layers: int
    hidden: int
    heads: int
    vocab: int | None
    assumptions: tuple[str, ...]


def _heads_for(hidden: int) -> int:
    divisors = {
        d for i in range(1, math.isqrt(hidden) + 1) if hidden % i == 0 for d in (i, hidden // i)
    }
    return min(divisors, key=lambda d: (abs(hidden / d - HEAD_DIM), -d))


def architecture(setup: TrainingSetup) -> Shape:
    """Layers, hidden size, heads and vocabulary, derived from `params` where not given."""
    notes = []
    vocab = setup.vocab or 0
    layers, hidden = setup.layers, setup.hidden
    if layers is None and hidden is None:

        def count(n):
            return 12 * n * (ASPECT_RATIO * n) ** 2 + vocab * ASPECT_RATIO * n

        layers = 1
        while count(layers + 1) <= setup.params:
            layers += 1
        if abs(count(layers + 1) - setup.params) < abs(count(layers) - setup.params):
            layers += 1
        hidden = ASPECT_RATIO * layers
        notes.append(
            f"layers={layers}, hidden={hidden}: hidden/layers = {ASPECT_RATIO} and "
            f"12·L·h²{' + vocab·h' if vocab else ''} ≈ params (GPT-3 6.7B/175B, LLaMA 7B/13B)"
        )
    elif layers is None:
        layers = max(1, round((setup.params - vocab * hidden) / (12 * hidden**2)))
        notes.append(f"layers={layers}: 12·L·h²{' + vocab·h' if vocab else ''} ≈ params")
    elif hidden is None:
        exact = (-vocab + math.sqrt(vocab**2 + 48 * layers * setup.params)) / (24 * layers)
        hidden = max(HEAD_DIM, HEAD_DIM * round(exact / HEAD_DIM))
        notes.append(
            f"hidden={hidden}: 12·L·h²{' + vocab·h' if vocab else ''} ≈ params, "
            f"rounded to a multiple of {HEAD_DIM}"
        )
    heads = setup.heads
    if heads is None:
        heads = _heads_for(hidden)
        notes.append(f"heads={heads}: head dimension closest to {HEAD_DIM}")
    layer_params = 12 * layers * hidden**2
    if layer_params > 1.5 * setup.params:
        notes.append(
            f"12·L·h² = {layer_params:.3g} is well above params = {setup.params:.3g}; "
            "check the architecture"
        )
    if not setup.vocab:
        notes.append("vocab not given: the logits buffer (4·s·b·vocab bytes) is not counted")
    return Shape(layers, hidden, heads, setup.vocab, tuple(notes))


def bytes_per_param(setup: TrainingSetup) -> dict:
    """Unsharded bytes per parameter of weights, gradients and optimizer state."""
    weights, gradients, master = STATE_BYTES[setup.precision]
    return {
        "weights": weights,
        "gradients": gradients,
        "optimizer": master + OPTIMIZER_BYTES[setup.optimizer],
    }


def _states_bytes(setup: TrainingSetup) -> dict:
    shards = {
        "weights": setup.zero_stage >= 3,
        "gradients": setup.zero_stage >= 2,
        "optimizer": setup.zero_stage >= 1,
    }
    return {
        part: setup.params * per / (setup.data_parallel if shards[part] else 1)
        for part, per in bytes_per_param(setup).items()
    }


def activation_bytes(setup: TrainingSetup, micro_batch: int, shape: Shape | None = None) -> float:
    """Activation bytes for `micro_batch` sequences (Korthikanti et al. 2022, see above)."""
    shape = shape or architecture(setup)
    s, b, h, a = setup.seq_len, micro_batch, shape.hidden, shape.heads
    value = 4 if setup.precision == "fp32" else 2
    sbh = s * b * h
    if setup.recompute == "full":
        per_layer = value * sbh
    else:
        per_layer = (16 * value + 2) * sbh
        if setup.recompute == "none":
            per_layer += (2 * value + 1) * a * s * s * b
    logits = 4 * s * b * shape.vocab if shape.vocab else 0
    return shape.layers * per_layer + logits


def _usable_gb(setup: TrainingSetup) -> float:
    return setup.gpu_memory_gb * setup.usable_fraction - setup.overhead_gb


def memory_breakdown(setup: TrainingSetup, micro_batch: int) -> dict:
    """Memory per GPU, in GB, for one micro-batch of `micro_batch` sequences."""
    micro_batch = _number("micro_batch", micro_batch, 0, 1e9, integer=True)
    shape = architecture(setup)
    states = {part: size / GB for part, size in _states_bytes(setup).items()}
    activations = activation_bytes(setup, micro_batch, shape) / GB
    used = sum(states.values()) + activations
    usable = _usable_gb(setup)
    overhead = setup.gpu_memory_gb - usable
    fits = used <= usable
    return {
        "micro_batch": micro_batch,
        "weights_gb": states["weights"],
        "gradients_gb": states["gradients"],
        "optimizer_gb": states["optimizer"],
        "activations_gb": activations,
        "overhead_gb": overhead,
        "total_gb": used + overhead,
        "gpu_memory_gb": setup.gpu_memory_gb,
        "fits": fits,
        "reason": "" if fits else f"needs {used + overhead:.1f} GB of {setup.gpu_memory_gb:g} GB",
        "bytes_per_param": bytes_per_param(setup),
        "architecture": {
            "layers": shape.layers,
            "hidden": shape.hidden,
            "heads": shape.heads,
            "vocab": shape.vocab,
        },
        "assumptions": list(shape.assumptions),
    }


def max_micro_batch(setup: TrainingSetup) -> MicroBatch:
    """The largest micro-batch that fits (0 if none does); `.reason` says what limits it."""
    usable = _usable_gb(setup) * GB
    states = sum(_states_bytes(setup).values())
    per_sequence = activation_bytes(setup, 1)
    card = (
        f"{usable / GB:.1f} GB usable ({setup.usable_fraction:.0%} of {setup.gpu_memory_gb:g} GB "
        f"less {setup.overhead_gb:g} GB overhead)"
    )
    if states > usable:
        return MicroBatch(
            0,
            f"Weights, gradients and optimizer state alone need {states / GB:.1f} GB per GPU; "
            f"{card}.",
        )
    b = math.floor((usable - states) / per_sequence)
    # The division is in bytes, `fits` in GB: settle any rounding difference at the boundary.
    while b > 0 and not memory_breakdown(setup, b)["fits"]:
        b -= 1
    while memory_breakdown(setup, b + 1)["fits"]:
        b += 1
    if b == 0:
        return MicroBatch(
            0,
            f"States need {states / GB:.1f} GB and one sequence's activations "
            f"{per_sequence / GB:.1f} GB more; {card}.",
        )
    return MicroBatch(
        b,
        f"Micro-batch {b + 1} would need {(states + (b + 1) * per_sequence) / GB:.1f} GB; {card}.",
    )


def _plan(setup: TrainingSetup, global_batch: int, gpus: int) -> dict:
    micro = max_micro_batch(setup)
    if micro == 0:
        return {"micro_batch": 0, "accumulation_steps": 0, "effective_global_batch": 0}
    micro = min(micro, math.ceil(global_batch / gpus))
    steps = math.ceil(global_batch / (micro * gpus))
    # The smallest micro-batch that needs no more steps: overshoots the target the least.
    micro = math.ceil(global_batch / (gpus * steps))
    return {
        "micro_batch": micro,
        "accumulation_steps": steps,
        "effective_global_batch": micro * gpus * steps,
    }


def _min_gpus(setup: TrainingSetup, above: int) -> int | None:
    """Fewest GPUs (> `above`, states sharded across all of them) that fit one sequence."""
    room = _usable_gb(setup) * GB - activation_bytes(setup, 1)
    sizes = _states_bytes(replace(setup, data_parallel=1))
    sharded = {"weights": 3, "gradients": 2, "optimizer": 1}
    split = sum(v for k, v in sizes.items() if setup.zero_stage >= sharded[k])
    kept = sum(sizes.values()) - split
    if room <= kept:
        return None
    start = max(above + 1, math.ceil(split / (room - kept)))
    for n in range(start, min(start + 3, 1_000_001)):  # the formula is exact up to rounding
        if max_micro_batch(replace(setup, data_parallel=n)) >= 1:
            return n
    return None


def _smallest_fix(setup: TrainingSetup, gpus: int) -> tuple[TrainingSetup, int] | None:
    """The cheapest change that fits one sequence: fewest GPUs first, then the least
    recomputation (it adds arithmetic), then the lowest ZeRO stage (stage 3 adds half again
    the communication; stages 1-2 add none), then keeping data_parallel as it was."""
    found = []
    for recompute in RECOMPUTE[RECOMPUTE.index(setup.recompute) :]:
        for stage in range(setup.zero_stage, 4):
            shard_counts = {setup.data_parallel, gpus} if stage else {setup.data_parallel}
            for dp in shard_counts:
                candidate = replace(setup, recompute=recompute, zero_stage=stage, data_parallel=dp)
                if max_micro_batch(candidate) >= 1:
                    found.append((gpus, candidate, dp))
            if stage:
                candidate = replace(setup, recompute=recompute, zero_stage=stage)
                n = _min_gpus(candidate, gpus)
                if n is not None:
                    found.append((n, replace(candidate, data_parallel=n), n))
    if not found:
        return None
    n, best, _ = min(
        found,
        key=lambda f: (
            f[0],
            RECOMPUTE.index(f[1].recompute),
            f[1].zero_stage,
            f[2] != setup.data_parallel,
        ),
    )
    return best, n


def _describe(old: TrainingSetup, new: TrainingSetup, old_gpus: int, new_gpus: int) -> list:
    changes = []
    if new_gpus != old_gpus:
        changes.append(f"{new_gpus} GPUs instead of {old_gpus}")
    if (new.zero_stage, new.data_parallel) != (old.zero_stage, old.data_parallel):
        changes.append(
            f"ZeRO stage {new.zero_stage} across {new.data_parallel} GPUs "
            f"(was stage {old.zero_stage} across {old.data_parallel})"
        )
    if new.recompute != old.recompute:
        changes.append(
            f"{new.recompute} activation recomputation ({RECOMPUTE_NOTE[new.recompute]})"
        )
    return changes


def _steps(n: int) -> str:
    return f"{n} accumulation step{'' if n == 1 else 's'}"


def plan_batch(setup: TrainingSetup, global_batch: int, gpus: int) -> dict:
    """Micro-batch per GPU and gradient accumulation steps for a target global batch (in
    sequences) on `gpus` data-parallel GPUs; when nothing fits, the smallest change that does.

    accumulation_steps = ceil(global_batch / (micro_batch × gpus)); the micro-batch is then
    lowered to the smallest that needs no more steps, so the effective global batch
    (micro_batch × gpus × accumulation_steps) overshoots the target as little as possible.

    When no micro-batch fits, every combination of a higher ZeRO stage (sharded across `gpus`,
    or across the fewest extra GPUs that fit), more recomputation and more GPUs is computed,
    and the suggestion is the one with the fewest GPUs, then the least recomputation (it adds
    arithmetic), then the lowest ZeRO stage (stage 3 adds half again the communication of plain
    data parallelism, stages 1-2 none; ZeRO paper §7), then an unchanged `data_parallel`.
    """
    global_batch = _number("global_batch", global_batch, 1, 1e9, integer=True)
    gpus = _number("gpus", gpus, 1, 1e6, integer=True)
    if gpus % setup.data_parallel:
        raise MemoryModelError(
            "gpus",
            f"gpus ({gpus}) must be a multiple of data_parallel ({setup.data_parallel}), "
            "the GPUs the states are sharded across.",
        )
    plan = _plan(setup, global_batch, gpus)
    result = {
        **plan,
        "global_batch": global_batch,
        "gpus": gpus,
        "fits": plan["micro_batch"] > 0,
        "limit": max_micro_batch(setup).reason,
        "suggestion": None,
        "breakdown": memory_breakdown(setup, plan["micro_batch"]),
    }
    if result["fits"]:
        result["message"] = (
            f"Micro-batch {plan['micro_batch']} × {gpus} GPUs × "
            f"{_steps(plan['accumulation_steps'])} = "
            f"{plan['effective_global_batch']} sequences per optimizer step"
            + (
                f" (target {global_batch})."
                if plan["effective_global_batch"] != global_batch
                else "."
            )
        )
        return result
    fix = _smallest_fix(setup, gpus)
    if fix is None:
        one = activation_bytes(replace(setup, recompute="full"), 1) / GB
        result["message"] = (
            f"Nothing fits: {result['limit']} No ZeRO stage, recomputation or number of GPUs "
            f"(up to 1,000,000) fits: even with full recomputation one sequence's activations "
            f"need {one:.1f} GB. Shorten the sequence or use tensor/sequence parallelism "
            "(not modelled here)."
        )
        return result
    new, new_gpus = fix
    changes = _describe(setup, new, gpus, new_gpus)
    new_plan = _plan(new, global_batch, new_gpus)
    result["suggestion"] = {
        "changes": changes,
        "gpus": new_gpus,
        "zero_stage": new.zero_stage,
        "data_parallel": new.data_parallel,
        "recompute": new.recompute,
        **new_plan,
    }
    result["message"] = (
        f"Nothing fits: {result['limit']} Smallest change that fits: {'; '.join(changes)} — "
        f"micro-batch {new_plan['micro_batch']} × {new_gpus} GPUs × "
        f"{_steps(new_plan['accumulation_steps'])}."
    )
    return result
