"""The training memory model (estimates/memory.py) against hand-computed cases.

Reference setups:
- "7B": LLaMA-7B shape (L=32, h=4096, a=32), seq 4096, bf16 + AdamW, 80 GB card → usable
  80·0.9 − 1 = 71 GB. States 16 B × 7e9 = 112 GB (weights 14, gradients 14, optimizer 84).
  Activations per sequence, s·h = 4096·4096 = 16,777,216:
    none       32 · s·h·(34 + 5·32·4096/4096) = 32 · 16,777,216 · 194 = 104.152956928 GB
    selective  32 · s·h·34                                              =  18.253611008 GB
    full       32 · s·h·2                                               =   1.073741824 GB
- "125M": GPT-3 Small shape (L=12, h=768, a=12, vocab 50257), seq 1024, 16 GB card → usable
  13.4 GB; states 16 B × 125e6 = 2 GB. Per sequence: 12 · 1024·768·(34 + 5·12·1024/768)
  = 12 · 786,432 · 114 = 1,075,838,976 B, plus logits 4·1024·50257 = 205,852,672 B
  = 1.281691648 GB; (13.4 − 2) / 1.281691648 = 8.89 → micro-batch 8.
"""

import math

import pytest

from estimates.memory import (
    MemoryModelError,
    TrainingSetup,
    architecture,
    bytes_per_param,
    max_micro_batch,
    memory_breakdown,
    plan_batch,
)

SH = 4096 * 4096
PER_SEQ = {"none": 32 * SH * 194 / 1e9, "selective": 32 * SH * 34 / 1e9, "full": 32 * SH * 2 / 1e9}


def seven_b(**overrides):
    values = dict(params=7e9, seq_len=4096, gpu_memory_gb=80, layers=32, hidden=4096, heads=32)
    return TrainingSetup(**{**values, **overrides})


def small(**overrides):
    values = dict(
        params=125e6, seq_len=1024, gpu_memory_gb=16, layers=12, hidden=768, heads=12, vocab=50257
    )
    return TrainingSetup(**{**values, **overrides})


def test_7b_states_alone_do_not_fit_an_80gb_card():
    setup = seven_b()
    parts = memory_breakdown(setup, 0)
    assert parts["bytes_per_param"] == {"weights": 2, "gradients": 2, "optimizer": 12}
    assert (parts["weights_gb"], parts["gradients_gb"], parts["optimizer_gb"]) == (14, 14, 84)
    assert parts["activations_gb"] == 0
    assert parts["overhead_gb"] == pytest.approx(9)  # 1 GB + 10 % of 80 GB
    assert parts["total_gb"] == pytest.approx(121)
    assert parts["fits"] is False
    micro = max_micro_batch(setup)
    assert micro == 0
    assert "112.0 GB" in micro.reason and "71.0 GB usable" in micro.reason


def test_7b_on_one_gpu_suggests_the_fewest_gpus_that_fit():
    # ZeRO-1 across 2: 14 + 14 + 42 = 70 GB + 1.07 > 71: no. ZeRO-2 across 2: 14 + 7 + 42 =
    # 63 GB, and only full recomputation leaves room: (71 − 63) / 1.0737 = 7.45 → 7.
    # 512 / (7 × 2) → 37 steps; ceil(512 / 74) = 7 → 7 × 2 × 37 = 518.
    plan = plan_batch(seven_b(), global_batch=512, gpus=1)
    assert plan["fits"] is False
    assert plan["micro_batch"] == plan["accumulation_steps"] == 0
    fix = plan["suggestion"]
    assert (fix["gpus"], fix["zero_stage"], fix["data_parallel"], fix["recompute"]) == (
        2,
        2,
        2,
        "full",
    )
    assert (fix["micro_batch"], fix["accumulation_steps"], fix["effective_global_batch"]) == (
        7,
        37,
        518,
    )
    assert "Smallest change that fits" in plan["message"]
    assert max_micro_batch(seven_b(zero_stage=1, data_parallel=2, recompute="full")) == 0


def test_7b_on_eight_gpus_suggests_zero1_with_selective_recomputation():
    # ZeRO-1 across 8: 14 + 14 + 84/8 = 38.5 GB; + 18.25 selective = 56.75 ≤ 71 → micro 1.
    # Without recomputation one sequence alone (104 GB) never fits, whatever the ZeRO stage.
    plan = plan_batch(seven_b(), global_batch=512, gpus=8)
    fix = plan["suggestion"]
    assert (fix["gpus"], fix["zero_stage"], fix["data_parallel"], fix["recompute"]) == (
        8,
        1,
        8,
        "selective",
    )
    assert (fix["micro_batch"], fix["accumulation_steps"], fix["effective_global_batch"]) == (
        1,
        64,
        512,
    )
    assert math.floor((71 - 38.5) / PER_SEQ["selective"]) == 1


@pytest.mark.parametrize(
    ("recompute", "expected"),
    [
        ("none", 0),  # 104.15 GB for one sequence > 71 − 14
        ("selective", 3),  # 57 / 18.2536 = 3.12
        ("full", 53),  # 57 / 1.0737 = 53.09
    ],
)
def test_7b_zero3_across_8_gpus(recompute, expected):
    setup = seven_b(zero_stage=3, data_parallel=8, recompute=recompute)
    parts = memory_breakdown(setup, 1)
    assert (parts["weights_gb"], parts["gradients_gb"], parts["optimizer_gb"]) == (
        1.75,
        1.75,
        10.5,
    )
    assert parts["activations_gb"] == pytest.approx(PER_SEQ[recompute])
    assert max_micro_batch(setup) == expected == math.floor((71 - 14) / PER_SEQ[recompute])
    if expected:
        assert memory_breakdown(setup, expected)["fits"]
        assert not memory_breakdown(setup, expected + 1)["fits"]


def test_125m_on_a_16gb_card():
    setup = small()
    micro = max_micro_batch(setup)
    assert micro == 8
    assert "Micro-batch 9" in micro.reason
    parts = memory_breakdown(setup, 8)
    assert parts["weights_gb"] + parts["gradients_gb"] + parts["optimizer_gb"] == pytest.approx(2)
    assert parts["activations_gb"] == pytest.approx(8 * 1.281691648)
    assert parts["total_gb"] == pytest.approx(2 + 8 * 1.281691648 + 2.6)
    assert parts["fits"] is True
    assert memory_breakdown(setup, 9)["fits"] is False


def test_more_memory_never_lowers_the_micro_batch():
    for make in (seven_b, small):
        for recompute in ("none", "selective", "full"):
            sizes = [
                max_micro_batch(make(gpu_memory_gb=gb, recompute=recompute, zero_stage=3))
                for gb in range(8, 401, 4)
            ]
            assert sizes == sorted(sizes)
    fractions = [max_micro_batch(small(usable_fraction=f / 100)) for f in range(20, 101)]
    assert fractions == sorted(fractions)


@pytest.mark.parametrize(
    ("precision", "none", "selective", "full"),
    [("bf16", 34 + 5 * 32, 34, 2), ("fp8", 34 + 5 * 32, 34, 2), ("fp32", 66 + 9 * 32, 66, 4)],
)
def test_recomputation_lowers_activations_by_the_documented_factor(
    precision, none, selective, full
):
    # s = h = 4096 and a = 32, so a·s/h = 32: per layer s·b·h·(34 + 160) without recomputation.
    acts = {
        mode: memory_breakdown(seven_b(recompute=mode, precision=precision), 2)["activations_gb"]
        for mode in ("none", "selective", "full")
    }
    assert acts["none"] == pytest.approx(2 * 32 * SH * none / 1e9)
    assert acts["none"] / acts["selective"] == pytest.approx(none / selective)
    assert acts["none"] / acts["full"] == pytest.approx(none / full)


def test_logits_buffer_is_not_recomputed():
    logits = 4 * 1024 * 50257 / 1e9
    full = memory_breakdown(small(recompute="full"), 1)["activations_gb"]
    assert full == pytest.approx(12 * 1024 * 768 * 2 / 1e9 + logits)
    without_vocab = memory_breakdown(small(recompute="full", vocab=None), 1)
    assert without_vocab["activations_gb"] == pytest.approx(full - logits)
    assert any("logits" in note for note in without_vocab["assumptions"])


@pytest.mark.parametrize(
    ("precision", "optimizer", "expected"),
    [
        ("bf16", "adamw", (2, 2, 12)),
        ("fp16", "adam", (2, 2, 12)),
        ("bf16", "sgd", (2, 2, 8)),
        ("bf16", "adafactor", (2, 2, 4)),
        ("bf16", "adam8bit", (2, 2, 6)),
        ("fp8", "adamw", (3, 2, 12)),
        ("fp32", "adamw", (4, 4, 8)),
        ("fp32", "sgd", (4, 4, 4)),
        ("fp32", "adafactor", (4, 4, 0)),
    ],
)
def test_bytes_per_parameter_table(precision, optimizer, expected):
    table = bytes_per_param(seven_b(precision=precision, optimizer=optimizer))
    assert (table["weights"], table["gradients"], table["optimizer"]) == expected


@pytest.mark.parametrize(
    ("stage", "expected"),
    [(0, (14, 14, 84)), (1, (14, 14, 21)), (2, (14, 3.5, 21)), (3, (3.5, 3.5, 21))],
)
def test_zero_stages_shard_optimizer_then_gradients_then_weights(stage, expected):
    parts = memory_breakdown(seven_b(zero_stage=stage, data_parallel=4), 0)
    assert (parts["weights_gb"], parts["gradients_gb"], parts["optimizer_gb"]) == expected


@pytest.mark.parametrize(
    ("global_batch", "gpus", "micro", "steps", "effective"),
    [
        (512, 8, 8, 8, 512),  # 512 / (8 × 8) = 8
        (1000, 8, 8, 16, 1024),  # ceil(1000 / 64) = 16; ceil(1000 / 128) = 8
        (100, 8, 7, 2, 112),  # ceil(100 / 64) = 2; micro lowered to ceil(100 / 16) = 7
        (4, 8, 1, 1, 8),  # more GPUs than sequences: one each
        (24, 3, 8, 1, 24),  # ceil(24 / 3) = 8 = max micro-batch
    ],
)
def test_accumulation_steps(global_batch, gpus, micro, steps, effective):
    plan = plan_batch(small(), global_batch, gpus)
    assert plan["fits"] is True and plan["suggestion"] is None
    assert (plan["micro_batch"], plan["accumulation_steps"]) == (micro, steps)
    assert plan["effective_global_batch"] == effective == micro * gpus * steps
    assert plan["breakdown"]["micro_batch"] == micro and plan["breakdown"]["fits"]
    assert f"= {effective} sequences" in plan["message"]


def test_accumulation_formula_holds_across_a_grid():
    setup = small()
    limit = max_micro_batch(setup)
    for global_batch in (1, 7, 64, 333, 4096):
        for gpus in (1, 2, 3, 8, 64):
            plan = plan_batch(setup, global_batch, gpus)
            micro = plan["micro_batch"]
            assert 1 <= micro <= limit
            assert plan["accumulation_steps"] == math.ceil(global_batch / (micro * gpus))
            assert plan["effective_global_batch"] >= global_batch


def test_derived_architecture_is_stated():
    # h = 128·L: 12·33·4224² = 7.07e9 is closer to 7e9 than 12·32·4096² = 6.44e9.
    shape = architecture(TrainingSetup(params=7e9, seq_len=4096, gpu_memory_gb=80))
    assert (shape.layers, shape.hidden, shape.heads) == (33, 4224, 33)
    assert any("hidden/layers = 128" in note for note in shape.assumptions)
    # With a tied embedding: L=7 → 12·7·896² + 50257·896 = 112.5e6 (L=8 gives 152e6).
    with_vocab = architecture(
        TrainingSetup(params=125e6, seq_len=1024, gpu_memory_gb=16, vocab=50257)
    )
    assert (with_vocab.layers, with_vocab.hidden, with_vocab.heads) == (7, 896, 7)
    # hidden given: L = round(125e6 / (12·768²)) = round(17.7) = 18; heads 6 (head dim 128).
    given = architecture(TrainingSetup(params=125e6, seq_len=1024, gpu_memory_gb=16, hidden=768))
    assert (given.layers, given.hidden, given.heads) == (18, 768, 6)
    assert architecture(small()).assumptions == ()


def test_sequence_too_long_for_any_number_of_gpus():
    plan = plan_batch(
        seven_b(seq_len=10_000_000, recompute="full", zero_stage=3, data_parallel=8), 8, 8
    )
    assert plan["fits"] is False and plan["suggestion"] is None
    assert "tensor/sequence parallelism" in plan["message"]
    # Full recomputation keeps 2·s·h bytes per layer: 2 · 10⁷ · 4096 · 32 = 2621.4 GB.
    assert "2621.4 GB" in plan["message"]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"params": 0}, "params"),
        ({"params": -5}, "params"),
        ({"params": 2e14}, "params"),
        ({"params": float("nan")}, "params"),
        ({"seq_len": 20_000_000}, "seq_len"),
        ({"seq_len": 0}, "seq_len"),
        ({"seq_len": 10.5}, "seq_len"),
        ({"seq_len": float("inf")}, "seq_len"),
        ({"hidden": 4096.0, "heads": 30}, "heads"),
        ({"precision": "int4"}, "precision"),
        ({"optimizer": "lion"}, "optimizer"),
        ({"recompute": "some"}, "recompute"),
        ({"zero_stage": 4}, "zero_stage"),
        ({"data_parallel": 0}, "data_parallel"),
        ({"gpu_memory_gb": 0}, "gpu_memory_gb"),
        ({"gpu_memory_gb": "80"}, "gpu_memory_gb"),
        ({"heads": 30}, "heads"),
        ({"hidden": None, "heads": 32}, "heads"),
        ({"layers": 0}, "layers"),
        ({"layers": True}, "layers"),
        ({"vocab": -1}, "vocab"),
        ({"usable_fraction": 1.5}, "usable_fraction"),
        ({"overhead_gb": 72}, "overhead_gb"),
    ],
)
def test_invalid_inputs_name_the_field(overrides, field):
    with pytest.raises(MemoryModelError) as error:
        seven_b(**overrides)
    assert error.value.field == field
    assert isinstance(error.value, ValueError)


def test_invalid_plan_and_breakdown_inputs():
    with pytest.raises(MemoryModelError) as error:
        plan_batch(small(), 0, 8)
    assert error.value.field == "global_batch"
    with pytest.raises(MemoryModelError) as error:
        plan_batch(small(), 512, 0)
    assert error.value.field == "gpus"
    with pytest.raises(MemoryModelError) as error:
        plan_batch(small(zero_stage=3, data_parallel=8), 512, 12)
    assert error.value.field == "gpus"
    with pytest.raises(MemoryModelError) as error:
        memory_breakdown(small(), -1)
    assert error.value.field == "micro_batch"


def test_names_are_normalised():
    setup = seven_b(precision=" BF16 ", optimizer="AdamW", recompute="Full")
    assert (setup.precision, setup.optimizer, setup.recompute) == ("bf16", "adamw", "full")
