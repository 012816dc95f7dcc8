"""compute/memory.py: model-state bytes per parameter and in total, and its errors."""

from __future__ import annotations

import pytest

from compute import memory
from compute.templates import generate


@pytest.mark.parametrize(
    ("optimizer", "precision", "expected"),
    [
        ("sgd", "fp32", 8),
        ("sgd_momentum", "fp32", 12),
        ("adam", "fp32", 16),
        ("sgd", "mixed", 8),
        ("sgd_momentum", "mixed", 12),
        ("adam", "mixed", 16),
    ],
)
def test_bytes_per_parameter(optimizer: str, precision: str, expected: int) -> None:
    assert memory.bytes_per_parameter(optimizer=optimizer, precision=precision) == expected


def test_zero_paper_example_7_5b_mixed_adam_is_120_gb() -> None:
    assert memory.model_state_gb(params=7_500_000_000, optimizer="adam", precision="mixed") == (
        pytest.approx(120.0)
    )


@pytest.mark.parametrize(
    "kwargs",
    [
        {"params": 10, "optimizer": "rmsprop", "precision": "fp32"},
        {"params": 10, "optimizer": "adam", "precision": "bf16"},
        {"params": 0, "optimizer": "adam", "precision": "fp32"},
        {"params": 1.5, "optimizer": "adam", "precision": "fp32"},
        {"params": True, "optimizer": "adam", "precision": "fp32"},
    ],
)
def test_bad_input_raises_value_error(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        memory.model_state_bytes(**kwargs)  # type: ignore[arg-type]


def test_template_answers_and_misconceptions_differ() -> None:
    seen: set[str] = set()
    for seed in range(300):
        v = generate("deploy.training_memory", seed)
        p = v.params
        per_param = memory.bytes_per_parameter(
            optimizer=str(p["optimizer"]), precision=str(p["precision"])
        )
        assert v.answer == pytest.approx(int(p["_params"]) * per_param / 1e9)
        answer = float(v.answer)  # type: ignore[arg-type]
        values = [float(m.value) for m in v.misconceptions]  # type: ignore[arg-type]
        assert len(values) >= 2
        assert all(abs(x - answer) > 0.01 * answer for x in values)
        seen.update(m.id for m in v.misconceptions)
    assert seen == {
        "weights_only",
        "binary_gib",
        "no_master_copy",
        "no_optimizer_states",
        "one_adam_moment",
    }
