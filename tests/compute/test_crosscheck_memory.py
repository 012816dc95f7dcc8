"""Live cross-check of compute/memory.py against PyTorch.

For thousands of random small models, one real optimizer step materializes the optimizer
states, and the bytes of every tensor kept across steps are summed from ``element_size()``:
FP32 training keeps the parameters, their ``.grad`` and the optimizer's per-parameter state;
mixed precision keeps an FP16 model (parameters and gradients) and an FP32 master copy that the
optimizer updates. Adam's scalar ``step`` counters are excluded, as compute/memory.py documents.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from compute import memory
from compute.templates import generate

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.crosscheck

_MAKERS = {
    "sgd": lambda ps: torch.optim.SGD(ps, lr=0.1),
    "sgd_momentum": lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9),
    "adam": lambda ps: torch.optim.Adam(ps, lr=1e-3),
}


@pytest.fixture(autouse=True, scope="module")
def _single_threaded_torch() -> Iterator[None]:
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _nbytes(t: Any) -> int:
    return int(t.numel() * t.element_size())


def _state_bytes(opt: Any, params: list[Any]) -> int:
    """Bytes of per-parameter optimizer state tensors (scalar step counters left out)."""
    total = 0
    for p in params:
        for value in opt.state[p].values():
            if torch.is_tensor(value) and value.shape == p.shape:
                total += _nbytes(value)
    return total


def torch_model_state_bytes(shapes: list[tuple[int, ...]], optimizer: str, precision: str) -> int:
    """Build parameters of these shapes, take one optimizer step and count the kept bytes."""
    if precision == "fp32":
        params = [torch.nn.Parameter(torch.randn(s)) for s in shapes]
        loss = sum((p * p).sum() for p in params)
        loss.backward()
        opt = _MAKERS[optimizer](params)
        opt.step()
        return sum(_nbytes(p) + _nbytes(p.grad) for p in params) + _state_bytes(opt, params)
    # Mixed precision: FP16 working weights and gradients, FP32 master weights in the optimizer.
    half = [torch.nn.Parameter(torch.randn(s).half()) for s in shapes]
    loss = sum((p.float() * p.float()).sum() for p in half)
    loss.backward()
    master = [torch.nn.Parameter(p.detach().float()) for p in half]
    for m, h in zip(master, half, strict=True):
        m.grad = h.grad.float()
    opt = _MAKERS[optimizer](master)
    opt.step()
    for m in master:
        m.grad = None  # the FP32 gradient is transient: the kept gradient is the FP16 one
    kept = sum(_nbytes(h) + _nbytes(h.grad) + _nbytes(m) for h, m in zip(half, master, strict=True))
    return kept + _state_bytes(opt, master)


def test_model_state_bytes_match_torch_on_random_models() -> None:
    rng = np.random.default_rng(2024)
    for _ in range(2000):
        n = int(rng.integers(1, 4))
        shapes = [
            tuple(int(d) for d in rng.integers(1, 9, size=int(rng.integers(1, 3))))
            for _ in range(n)
        ]
        count = sum(int(np.prod(s)) for s in shapes)
        optimizer = str(rng.choice(memory.OPTIMIZERS))
        precision = str(rng.choice(memory.PRECISIONS))
        expected = torch_model_state_bytes(shapes, optimizer, precision)
        assert memory.model_state_bytes(params=count, optimizer=optimizer, precision=precision) == (
            expected
        ), (shapes, optimizer, precision)


def test_template_variants_match_torch_bytes_per_parameter() -> None:
    for seed in range(300):
        v = generate("deploy.training_memory", seed)
        p = v.params
        per_param = torch_model_state_bytes([(5, 3)], p["optimizer"], p["precision"]) / 15
        assert v.answer == pytest.approx(p["_params"] * per_param / 1e9, rel=1e-12)
