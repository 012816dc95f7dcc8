"""compute/training.py and compute/compression.py: worked examples and argument errors.

The live PyTorch comparisons are in test_crosscheck_training_compression.py.
"""

from __future__ import annotations

import math

import pytest

from compute import compression, training


def test_step_and_multistep_worked_examples() -> None:
    # ResNet's ImageNet recipe: 0.1, divided by 10 at epochs 30 and 60.
    assert training.multistep_lr(base_lr=0.1, t=29, milestones=[30, 60], gamma=0.1) == 0.1
    assert training.multistep_lr(
        base_lr=0.1, t=30, milestones=[60, 30], gamma=0.1
    ) == pytest.approx(0.01)
    assert training.step_lr(base_lr=0.1, t=65, step_size=30, gamma=0.1) == pytest.approx(1e-3)


def test_cosine_and_warmup_worked_examples() -> None:
    assert training.cosine_annealing_lr(base_lr=0.1, t=50, t_max=100) == pytest.approx(0.05)
    assert training.cosine_annealing_lr(
        base_lr=0.1, t=100, t_max=100, eta_min=1e-3
    ) == pytest.approx(1e-3)
    assert (
        training.warmup_cosine_lr(base_lr=1.0, t=0, warmup=10, total=110, start_factor=0.1) == 0.1
    )
    assert training.warmup_cosine_lr(
        base_lr=1.0, t=5, warmup=10, total=110, start_factor=0.1
    ) == pytest.approx(0.55)
    assert training.warmup_cosine_lr(
        base_lr=1.0, t=60, warmup=10, total=110, start_factor=0.1
    ) == pytest.approx(0.5)


def test_one_cycle_ends() -> None:
    assert training.one_cycle_lr(max_lr=1.0, t=0, total_steps=100) == pytest.approx(0.04)
    assert training.one_cycle_lr(max_lr=1.0, t=99, total_steps=100) == pytest.approx(0.04 / 1e4)


def test_steps_per_epoch_worked_example() -> None:
    # ImageNet-1k train set, 8 GPUs x 32 images, accumulation 4: effective batch 1024.
    assert training.effective_batch_size(batch_size=32, accumulation=4, replicas=8) == 1024
    for flush, steps in ((False, 1251), (True, 1252)):  # 160146 samples per GPU, 5005 batches
        got = training.optimizer_steps_per_epoch(
            dataset_size=1281167,
            batch_size=32,
            accumulation=4,
            drop_last=False,
            replicas=8,
            step_on_remainder=flush,
        )
        assert got == steps
    assert training.linear_scaled_lr(base_lr=0.1, base_batch=256, batch=8192) == pytest.approx(3.2)


def test_distillation_worked_example() -> None:
    p = compression.soft_targets([2.0, 1.0, 0.0], 1.0)
    assert p.sum() == pytest.approx(1.0) and p[0] == pytest.approx(
        math.e**2 / (math.e**2 + math.e + 1)
    )
    assert compression.distillation_soft_loss([1.0, 2.0], [1.0, 2.0], 4.0) == pytest.approx(
        0.0, abs=1e-15
    )


def test_qparams_worked_examples() -> None:
    scale, zp = compression.minmax_qparams(-1.0, 3.0, "quint8", "affine")
    assert scale == pytest.approx(4 / 255) and zp == 64  # 1 / (4/255) = 63.75 -> 64
    scale, zp = compression.minmax_qparams(0.5, 6.0, "quint8", "affine")  # widened to [0, 6]
    assert scale == pytest.approx(6 / 255) and zp == 0
    scale, zp = compression.minmax_qparams(-2.0, 1.0, "qint8", "symmetric")
    assert scale == pytest.approx(2 / 127.5) and zp == 0
    assert compression.minmax_qparams(-2.0, 1.0, "quint8", "symmetric")[1] == 128
    assert compression.quantize(100.0, 4 / 255, 64, "quint8") == 255  # clamped
    assert compression.quantize_roundtrip(0.0, -1.0, 3.0) == 0.0  # zero is exact


def test_prune_count_rounds_half_to_even() -> None:
    assert compression.prune_count(10, 0.25) == 2  # round(2.5) == 2
    assert compression.prune_count(10, 0.35) == 4  # round(3.5) == 4
    assert compression.prune_count(10, 3) == 3


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: training.step_lr(base_lr=0.0, t=1, step_size=1, gamma=0.1), "base_lr"),
        (lambda: training.step_lr(base_lr=0.1, t=-1, step_size=1, gamma=0.1), "t"),
        (lambda: training.multistep_lr(base_lr=0.1, t=1, milestones=[0], gamma=0.1), "milestones"),
        (lambda: training.cosine_annealing_lr(base_lr=0.1, t=1, t_max=0), "t_max"),
        (
            lambda: training.warmup_cosine_lr(
                base_lr=0.1, t=1, warmup=5, total=5, start_factor=0.1
            ),
            "total",
        ),
        (
            lambda: training.warmup_cosine_lr(
                base_lr=0.1, t=1, warmup=5, total=9, start_factor=2.0
            ),
            "start_factor",
        ),
        (lambda: training.one_cycle_lr(max_lr=0.1, t=10, total_steps=10), "t"),
        (lambda: training.one_cycle_lr(max_lr=0.1, t=1, total_steps=10, anneal="exp"), "anneal"),
        (
            lambda: training.dataloader_batches(samples=10, batch_size=0, drop_last=False),
            "batch_size",
        ),
        (
            lambda: training.optimizer_steps_per_epoch(
                dataset_size=10, batch_size=2, accumulation=True, drop_last=False
            ),
            "accumulation",
        ),
        (lambda: compression.soft_targets([1.0, 2.0], 0.0), "temperature"),
        (lambda: compression.soft_targets([1.0], 1.0), "logits"),
        (
            lambda: compression.distillation_soft_loss([1.0, 2.0], [1.0, 2.0, 3.0], 2.0),
            "student_logits",
        ),
        (lambda: compression.minmax_qparams(2.0, 1.0), "x_min"),
        (lambda: compression.minmax_qparams(-1.0, 1.0, "int4"), "dtype"),  # type: ignore[arg-type]
        (lambda: compression.minmax_qparams(-1.0, 1.0, "qint8", "log"), "qscheme"),  # type: ignore[arg-type]
        (lambda: compression.quantize(1.0, 0.1, 300, "quint8"), "zero_point"),
        (lambda: compression.quantize(math.nan, 0.1, 0, "quint8"), "x"),
        (lambda: compression.prune_count(10, 1.5), "amount"),
        (lambda: compression.prune_count(10, 11), "amount"),
        (lambda: compression.prune_count(10, True), "amount"),
    ],
)
def test_bad_arguments_raise_value_error_naming_them(call: object, name: str) -> None:
    with pytest.raises(ValueError, match=f"^{name}"):
        call()  # type: ignore[operator]
