"""Live cross-check of compute/training.py and compute/compression.py against PyTorch.

Schedules run the real ``torch.optim.lr_scheduler`` classes step by step; batch counts come from
``DataLoader``/``DistributedSampler`` lengths; distillation from ``F.softmax``/``F.kl_div``;
quantization from ``torch.ao.quantization.MinMaxObserver`` and ``torch.quantize_per_tensor``;
pruning from ``torch.nn.utils.prune.l1_unstructured``. Thousands of seeded random cases each,
then every variant of the sched.* and comp.* templates recomputed the same way.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

import numpy as np
import pytest

from compute import compression, training
from compute.templates import generate

torch = pytest.importorskip("torch")
F = torch.nn.functional
L = torch.optim.lr_scheduler

pytestmark = pytest.mark.crosscheck

SEEDS = range(200)


@pytest.fixture(autouse=True, scope="module")
def _single_threaded_torch() -> Iterator[None]:
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def torch_lrs(make: Callable[[Any], Any], steps: int, base_lr: float = 0.1) -> list[float]:
    """The rate of steps 0..steps-1 of a real scheduler (one ``step()`` after each)."""
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=base_lr)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "scheduler.step() before optimizer.step()"
        sched = make(opt)
        out = []
        for _ in range(steps):
            out.append(opt.param_groups[0]["lr"])
            sched.step()
    return out


# --------------------------------------------------------------------------------------------
# Schedules
# --------------------------------------------------------------------------------------------


def test_step_and_multistep_match_torch() -> None:
    rng = np.random.default_rng(11)
    cases = 0
    for _ in range(400):
        lr = float(rng.choice([0.1, 0.05, 1.0, 3e-4]))
        gamma = float(rng.choice([0.1, 0.5, 0.2, 0.9]))
        steps = int(rng.integers(1, 60))
        size = int(rng.integers(1, 15))
        got = torch_lrs(partial(L.StepLR, step_size=size, gamma=gamma), steps, lr)
        ours = [
            training.step_lr(base_lr=lr, t=t, step_size=size, gamma=gamma) for t in range(steps)
        ]
        np.testing.assert_allclose(ours, got, rtol=1e-12)
        marks = sorted(rng.integers(1, 50, size=int(rng.integers(1, 5))).tolist())
        got = torch_lrs(partial(L.MultiStepLR, milestones=marks, gamma=gamma), steps, lr)
        ours = [
            training.multistep_lr(base_lr=lr, t=t, milestones=marks, gamma=gamma)
            for t in range(steps)
        ]
        np.testing.assert_allclose(ours, got, rtol=1e-12)
        cases += 2 * steps
    assert cases > 2000


def test_cosine_annealing_matches_torch_including_past_t_max() -> None:
    rng = np.random.default_rng(12)
    cases = 0
    for _ in range(300):
        lr = float(rng.choice([0.1, 0.05, 1.0, 3e-4]))
        eta_min = float(rng.choice([0.0, lr / 100, lr / 10]))
        t_max = int(rng.integers(1, 40))
        steps = int(rng.integers(1, 2 * t_max + 10))
        got = torch_lrs(partial(L.CosineAnnealingLR, T_max=t_max, eta_min=eta_min), steps, lr)
        ours = [
            training.cosine_annealing_lr(base_lr=lr, t=t, t_max=t_max, eta_min=eta_min)
            for t in range(steps)
        ]
        # torch updates recursively, so rounding accumulates over the steps.
        np.testing.assert_allclose(ours, got, rtol=1e-9, atol=1e-12 * lr)
        cases += steps
    assert cases > 2000


def test_warmup_then_cosine_matches_sequential_lr() -> None:
    rng = np.random.default_rng(13)
    cases = 0
    for _ in range(250):
        lr = float(rng.choice([0.1, 0.4, 1e-3]))
        warmup = int(rng.integers(1, 20))
        total = warmup + int(rng.integers(1, 40))
        sf = float(rng.choice([0.1, 0.01, 0.001, 0.25, 1.0]))
        eta_min = float(rng.choice([0.0, lr / 50]))

        def make(o: Any, w: int = warmup, n: int = total, s: float = sf, e: float = eta_min) -> Any:
            return L.SequentialLR(
                o,
                [
                    L.LinearLR(o, start_factor=s, end_factor=1.0, total_iters=w),
                    L.CosineAnnealingLR(o, T_max=n - w, eta_min=e),
                ],
                milestones=[w],
            )

        got = torch_lrs(make, total + 1, lr)
        ours = [
            training.warmup_cosine_lr(
                base_lr=lr, t=t, warmup=warmup, total=total, start_factor=sf, eta_min=eta_min
            )
            for t in range(total + 1)
        ]
        np.testing.assert_allclose(ours, got, rtol=1e-9, atol=1e-12 * lr)
        cases += total + 1
    assert cases > 2000


@pytest.mark.parametrize("anneal", ["cos", "linear"])
def test_one_cycle_matches_torch(anneal: str) -> None:
    rng = np.random.default_rng(14 if anneal == "cos" else 15)
    cases = 0
    for _ in range(150):
        total = int(rng.integers(10, 80))
        pct = float(rng.choice([0.3, 0.25, 0.1, 0.5]))
        top = float(rng.choice([0.1, 1.0, 3e-3]))
        div, final = float(rng.choice([25.0, 10.0])), float(rng.choice([1e4, 100.0]))
        if pct * total - 1 <= 0:  # torch divides by zero there; we refuse the configuration
            with pytest.raises(ValueError, match="pct_start"):
                training.one_cycle_lr(max_lr=top, t=0, total_steps=total, pct_start=pct)
            continue

        def make(
            o: Any, n: int = total, p: float = pct, m: float = top, d: float = div, f: float = final
        ) -> Any:
            return L.OneCycleLR(
                o,
                max_lr=m,
                total_steps=n,
                pct_start=p,
                div_factor=d,
                final_div_factor=f,
                anneal_strategy=anneal,
                cycle_momentum=False,
            )

        got = torch_lrs(make, total)
        ours = [
            training.one_cycle_lr(
                max_lr=top,
                t=t,
                total_steps=total,
                pct_start=pct,
                div_factor=div,
                final_div_factor=final,
                anneal=anneal,
            )
            for t in range(total)
        ]
        np.testing.assert_allclose(ours, got, rtol=1e-12, atol=1e-15)
        cases += total
    assert cases > 2000


# --------------------------------------------------------------------------------------------
# Batches and steps per epoch
# --------------------------------------------------------------------------------------------


def test_batches_and_accumulation_steps_match_torch_data_loading() -> None:
    from torch.utils.data import DataLoader, DistributedSampler, TensorDataset

    rng = np.random.default_rng(16)
    for _ in range(2000):
        n = int(rng.integers(1, 3000))
        g = int(rng.integers(1, 9))
        b = int(rng.integers(1, 70))
        k = int(rng.integers(1, 9))
        drop_last = bool(rng.integers(0, 2))
        ds = TensorDataset(torch.zeros(n))
        sampler: DistributedSampler[Any] = DistributedSampler(
            ds, num_replicas=g, rank=int(rng.integers(0, g)), shuffle=False
        )
        per = len(sampler)
        assert training.distributed_samples_per_replica(dataset_size=n, replicas=g) == per
        batches = len(DataLoader(ds, batch_size=b, sampler=sampler, drop_last=drop_last))
        assert (
            training.dataloader_batches(samples=per, batch_size=b, drop_last=drop_last) == batches
        )
        # The loop itself: step when (i + 1) % k == 0, optionally once more for a leftover window.
        steps = sum((i + 1) % k == 0 for i in range(batches))
        for flush in (False, True):
            want = steps + (flush and batches % k != 0)
            got = training.optimizer_steps_per_epoch(
                dataset_size=n,
                batch_size=b,
                accumulation=k,
                drop_last=drop_last,
                replicas=g,
                step_on_remainder=flush,
            )
            assert got == want, (n, g, b, k, drop_last, flush)


def test_accumulated_gradient_equals_the_large_batch_gradient_without_batchnorm() -> None:
    """What accumulation is equivalent to: the mean-loss gradient of the whole effective batch."""
    gen = torch.Generator().manual_seed(0)
    x, y = torch.randn(32, 5, generator=gen), torch.randn(32, 1, generator=gen)
    model = torch.nn.Linear(5, 1)
    model.zero_grad()
    F.mse_loss(model(x), y).backward()
    full = model.weight.grad.clone()
    model.zero_grad()
    for chunk_x, chunk_y in zip(x.split(8), y.split(8), strict=True):
        (F.mse_loss(model(chunk_x), chunk_y) / 4).backward()  # divide by the accumulation steps
    torch.testing.assert_close(model.weight.grad, full)
    # ... and not with BatchNorm: each micro-batch normalizes with its own statistics.
    bn = torch.nn.Sequential(torch.nn.Linear(5, 3), torch.nn.BatchNorm1d(3), torch.nn.Linear(3, 1))
    bn.zero_grad()
    F.mse_loss(bn(x), y).backward()
    full = bn[0].weight.grad.clone()
    bn.zero_grad()
    for chunk_x, chunk_y in zip(x.split(8), y.split(8), strict=True):
        (F.mse_loss(bn(chunk_x), chunk_y) / 4).backward()
    assert not torch.allclose(bn[0].weight.grad, full, atol=1e-4)


# --------------------------------------------------------------------------------------------
# Distillation
# --------------------------------------------------------------------------------------------


def test_soft_targets_and_distillation_loss_match_torch() -> None:
    rng = np.random.default_rng(17)
    for _ in range(2000):
        n, c = int(rng.integers(1, 6)), int(rng.integers(2, 12))
        s, t = rng.normal(size=(n, c)) * 4, rng.normal(size=(n, c)) * 4
        temp = float(rng.choice([0.5, 1.0, 2.0, 4.0, 10.0, 20.0]))
        ts, tt = torch.tensor(s), torch.tensor(t)
        np.testing.assert_allclose(
            compression.soft_targets(t, temp),
            F.softmax(tt / temp, dim=-1).numpy(),
            rtol=1e-12,
            atol=1e-15,
        )
        want = (
            F.kl_div(
                F.log_softmax(ts / temp, dim=-1),
                F.softmax(tt / temp, dim=-1),
                reduction="batchmean",
            )
            * temp**2
        )
        assert compression.distillation_soft_loss(s, t, temp) == pytest.approx(
            float(want), rel=1e-9, abs=1e-13
        )


def test_t_squared_keeps_the_soft_gradient_scale() -> None:
    """Hinton et al.'s reason for T^2: without it the soft gradient shrinks about as 1/T^2."""
    gen = torch.Generator().manual_seed(1)
    teacher = torch.randn(64, 10, generator=gen, dtype=torch.float64)
    base = torch.randn(64, 10, generator=gen, dtype=torch.float64)
    norms = {}
    for temp in (4.0, 8.0):
        s = base.clone().requires_grad_(True)
        loss = F.kl_div(
            F.log_softmax(s / temp, -1), F.softmax(teacher / temp, -1), reduction="batchmean"
        )
        loss.backward()
        norms[temp] = float(s.grad.norm())
    assert 3.0 < norms[4.0] / norms[8.0] < 5.0  # ~ (8/4)^2 = 4


# --------------------------------------------------------------------------------------------
# Quantization
# --------------------------------------------------------------------------------------------

_QSCHEMES = {"affine": torch.per_tensor_affine, "symmetric": torch.per_tensor_symmetric}


def observer_qparams(x: np.ndarray, dtype: str, scheme: str) -> tuple[float, int]:
    from torch.ao.quantization import MinMaxObserver

    obs = MinMaxObserver(dtype=getattr(torch, dtype), qscheme=_QSCHEMES[scheme])
    obs(torch.tensor(x, dtype=torch.float32))
    scale, zp = obs.calculate_qparams()
    return float(scale), int(zp)


def near_half(v: float) -> bool:
    return abs(abs(v - math.floor(v)) - 0.5) < 1e-4


def test_minmax_qparams_match_the_observer() -> None:
    rng = np.random.default_rng(18)
    ties = 0
    for _ in range(3000):
        x = (
            rng.normal(size=int(rng.integers(1, 50))) * rng.choice([0.01, 1.0, 10.0]) + rng.normal()
        ).astype(np.float32)
        dtype = str(rng.choice(["quint8", "qint8"]))
        scheme = str(rng.choice(["affine", "symmetric"]))
        lo, hi = float(x.min()), float(x.max())
        scale, zp = compression.minmax_qparams(lo, hi, dtype, scheme)  # type: ignore[arg-type]
        want_scale, want_zp = observer_qparams(x, dtype, scheme)
        assert scale == pytest.approx(want_scale, rel=1e-6)  # torch computes in float32
        if zp != want_zp:
            ties += 1  # only where min/scale sits on .5 within float32 rounding
            assert scheme == "affine" and near_half(min(lo, 0.0) / scale)
    assert ties < 5


def test_quantize_and_dequantize_match_quantize_per_tensor() -> None:
    rng = np.random.default_rng(19)
    checked = 0
    for _ in range(600):
        dtype = str(rng.choice(["quint8", "qint8"]))
        scheme = str(rng.choice(["affine", "symmetric"]))
        lo, hi = float(-rng.uniform(0.1, 5)), float(rng.uniform(0.1, 5))
        scale, zp = compression.minmax_qparams(lo, hi, dtype, scheme)  # type: ignore[arg-type]
        xs = rng.uniform(lo - 1, hi + 1, size=10)
        q = torch.quantize_per_tensor(
            torch.tensor(xs, dtype=torch.float32), scale, zp, getattr(torch, dtype)
        )
        for x, qi, back in zip(
            xs.astype(np.float32).tolist(),
            q.int_repr().tolist(),
            q.dequantize().tolist(),
            strict=True,
        ):
            if near_half(x / scale):
                continue  # torch multiplies by a float32 reciprocal: ties may break differently
            ours = compression.quantize(x, scale, zp, dtype)  # type: ignore[arg-type]
            assert ours == qi
            assert compression.dequantize(ours, scale, zp) == pytest.approx(
                back, rel=1e-6, abs=1e-7
            )
            rt = compression.quantize_roundtrip(x, lo, hi, dtype, scheme)  # type: ignore[arg-type]
            assert rt == pytest.approx(back, rel=1e-6, abs=1e-7)
            if lo <= x <= hi:
                assert abs(rt - x) <= scale / 2 + 1e-7
            checked += 1
    assert checked > 5000


# --------------------------------------------------------------------------------------------
# Pruning
# --------------------------------------------------------------------------------------------


def test_prune_counts_and_masks_match_l1_unstructured() -> None:
    from torch.nn.utils import prune

    rng = np.random.default_rng(20)
    for _ in range(2000):
        shape = tuple(int(v) for v in rng.integers(1, 9, size=int(rng.integers(1, 4))))
        size = int(np.prod(shape))
        amount: float | int
        if rng.random() < 0.8:
            amount = float(
                rng.choice([0.05, 0.15, 0.25, 0.3, 0.35, 0.5, 0.55, 0.65, 0.75, 0.9, 0.95])
            )
        else:
            amount = int(rng.integers(0, size + 1))
        w = rng.permutation(size).astype(np.float64) + 1.0  # distinct magnitudes
        w *= rng.choice([-1.0, 1.0], size=size)
        module = torch.nn.Module()
        module.weight = torch.nn.Parameter(torch.tensor(w.reshape(shape)))
        prune.l1_unstructured(module, name="weight", amount=amount)  # type: ignore[no-untyped-call]
        mask = module.weight_mask.numpy().astype(bool)
        assert compression.prune_count(size, amount) == size - int(mask.sum())
        np.testing.assert_array_equal(
            compression.magnitude_prune_mask(w.reshape(shape), amount), mask
        )


# --------------------------------------------------------------------------------------------
# Every template variant against torch
# --------------------------------------------------------------------------------------------


def test_schedule_templates_match_torch_schedulers() -> None:
    for seed in SEEDS:
        p = generate("sched.step_decay", seed).params
        if p["kind"] == "step":
            make: Callable[[Any], Any] = partial(
                L.StepLR, step_size=p["step_size"], gamma=p["gamma"]
            )
        else:
            make = partial(L.MultiStepLR, milestones=p["milestones"], gamma=p["gamma"])
        v = generate("sched.step_decay", seed)
        assert v.answer == pytest.approx(torch_lrs(make, p["t"] + 1, p["lr"])[-1], rel=1e-12)

        v = generate("sched.cosine", seed)
        p = v.params
        got = torch_lrs(
            partial(L.CosineAnnealingLR, T_max=p["t_max"], eta_min=p["eta_min"]),
            p["t"] + 1,
            p["lr"],
        )
        assert v.answer == pytest.approx(got[-1], rel=1e-9)

        v = generate("sched.warmup_cosine", seed)
        p = v.params
        w, n = p["warmup"], p["total"]

        def make_seq(o: Any, p: Any = p, w: int = w, n: int = n) -> Any:
            return L.SequentialLR(
                o,
                [
                    L.LinearLR(o, start_factor=p["sf"], total_iters=w),
                    L.CosineAnnealingLR(o, T_max=n - w),
                ],
                milestones=[w],
            )

        got = torch_lrs(make_seq, p["t"] + 1, p["lr"])
        assert v.answer == pytest.approx(got[-1], rel=1e-9), seed


def test_batching_templates_match_torch_data_loading() -> None:
    from torch.utils.data import DataLoader, DistributedSampler, TensorDataset

    for seed in SEEDS:
        v = generate("sched.steps_per_epoch", seed)
        p = v.params
        ds = TensorDataset(torch.zeros(p["n"], 1))
        sampler: DistributedSampler[Any] = DistributedSampler(
            ds, num_replicas=p["g"], rank=0, shuffle=False
        )
        batches = len(DataLoader(ds, batch_size=p["b"], sampler=sampler, drop_last=p["drop_last"]))
        assert v.answer == sum((i + 1) % p["k"] == 0 for i in range(batches)), seed
        v = generate("sched.linear_scaling", seed)
        p = v.params
        assert v.answer == pytest.approx(p["lr"] * p["b"] * p["g"] * p["k"] / p["b0"], rel=1e-12)


def test_compression_templates_match_torch() -> None:
    from torch.nn.utils import prune

    for seed in SEEDS:
        v = generate("comp.soft_target", seed)
        p = v.params
        want = F.softmax(torch.tensor(p["z"], dtype=torch.float64) / p["T"], dim=-1)[p["i"]]
        assert v.answer == pytest.approx(float(want), rel=1e-12)

        v = generate("comp.distill_loss", seed)
        p = v.params
        s, t = (
            torch.tensor([p["s"]], dtype=torch.float64),
            torch.tensor([p["t"]], dtype=torch.float64),
        )
        want = F.kl_div(
            F.log_softmax(s / p["T"], -1), F.softmax(t / p["T"], -1), reduction="batchmean"
        )
        assert v.answer == pytest.approx(float(want) * p["T"] ** 2, rel=1e-9)

        v = generate("comp.int8_zero_point", seed)
        p = v.params
        _, zp = observer_qparams(np.array([p["x_min"], p["x_max"]]), p["dtype"], "affine")
        assert v.answer == zp, seed

        v = generate("comp.int8_roundtrip", seed)
        p = v.params
        scale, zp = observer_qparams(np.array([p["x_min"], p["x_max"]]), p["dtype"], p["scheme"])
        q = torch.quantize_per_tensor(torch.tensor([p["x"]]), scale, zp, getattr(torch, p["dtype"]))
        assert v.answer == pytest.approx(float(q.dequantize()[0]), rel=1e-5, abs=1e-6), seed

        v = generate("comp.prune_kept", seed)
        p = v.params
        conv = torch.nn.Conv2d(p["ci"], p["co"], p["k"])
        with torch.no_grad():
            conv.weight.copy_(torch.randperm(conv.weight.numel()).reshape(conv.weight.shape) + 1.0)
        prune.l1_unstructured(conv, name="weight", amount=p["amount"])  # type: ignore[no-untyped-call]
        assert v.answer == int(conv.weight_mask.sum()), seed
