"""Training-practice arithmetic: learning-rate schedules, batches per epoch, batch-size scaling.

Schedule convention (PyTorch's ``torch.optim.lr_scheduler``): ``t`` counts the scheduler's
``step()`` calls made so far, starting at 0 right after construction, so ``lr(0)`` is the
learning rate of the very first optimizer step. Whether ``t`` counts epochs or iterations is up
to the training loop (StepLR is usually stepped per epoch, OneCycleLR per iteration). Every
function returns the closed form of the rate PyTorch's scheduler holds after ``t`` steps; the
cross-check tests run the real schedulers.

Batching convention (``torch.utils.data``): a ``DataLoader`` over ``n`` samples yields
``ceil(n / b)`` batches, or ``floor(n / b)`` with ``drop_last=True``; a ``DistributedSampler``
over ``g`` replicas (its own ``drop_last=False``) pads the dataset so that every replica sees
``ceil(n / g)`` samples.

Every function raises ``ValueError`` (message naming the argument) on a bad argument.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence

from compute._validate import check_non_negative_int, check_positive_int

__all__ = [
    "cosine_annealing_lr",
    "dataloader_batches",
    "distributed_samples_per_replica",
    "effective_batch_size",
    "linear_scaled_lr",
    "multistep_lr",
    "one_cycle_lr",
    "optimizer_steps_per_epoch",
    "step_lr",
    "warmup_cosine_lr",
]


def _positive(name: str, value: float) -> float:
    v = float(value)
    if not (math.isfinite(v) and v > 0.0):
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return v


def _non_negative(name: str, value: float) -> float:
    v = float(value)
    if not (math.isfinite(v) and v >= 0.0):
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return v


def step_lr(*, base_lr: float, t: int, step_size: int, gamma: float) -> float:
    """Return ``StepLR``'s rate after ``t`` steps: ``base_lr * gamma ** (t // step_size)``."""
    lr = _positive("base_lr", base_lr)
    t_ = check_non_negative_int("t", t)
    size = check_positive_int("step_size", step_size)
    g = _positive("gamma", gamma)
    return lr * g ** (t_ // size)


def multistep_lr(*, base_lr: float, t: int, milestones: Sequence[int], gamma: float) -> float:
    """Return ``MultiStepLR``'s rate after ``t`` steps.

    The rate is multiplied by ``gamma`` once for every milestone ``m <= t`` (a milestone of 30
    means steps 0-29 use ``base_lr`` and step 30 the first decayed rate). Milestones must be
    integers >= 1; a repeated milestone decays twice, as in PyTorch (its Counter of milestones).
    """
    lr = _positive("base_lr", base_lr)
    t_ = check_non_negative_int("t", t)
    marks = sorted(check_positive_int("milestones", m) for m in milestones)
    g = _positive("gamma", gamma)
    return lr * g ** bisect.bisect_right(marks, t_)


def cosine_annealing_lr(*, base_lr: float, t: int, t_max: int, eta_min: float = 0.0) -> float:
    """Return ``CosineAnnealingLR``'s rate after ``t`` steps (no restarts).

    ``eta_min + (base_lr - eta_min) * (1 + cos(pi * t / t_max)) / 2``: ``base_lr`` at ``t = 0``,
    ``eta_min`` at ``t = t_max``. PyTorch keeps following the same cosine past ``t_max`` (the
    rate rises again, period ``2 * t_max``), and so does this function.
    """
    lr = _positive("base_lr", base_lr)
    t_ = check_non_negative_int("t", t)
    total = check_positive_int("t_max", t_max)
    low = _non_negative("eta_min", eta_min)
    return low + (lr - low) * (1.0 + math.cos(math.pi * t_ / total)) / 2.0


def warmup_cosine_lr(
    *,
    base_lr: float,
    t: int,
    warmup: int,
    total: int,
    start_factor: float,
    eta_min: float = 0.0,
) -> float:
    """Return the rate of linear warm-up followed by cosine annealing, after ``t`` steps.

    Equal to ``SequentialLR([LinearLR(start_factor, 1.0, total_iters=warmup),
    CosineAnnealingLR(T_max=total - warmup, eta_min)], milestones=[warmup])``: for
    ``t < warmup`` the rate is ``base_lr * (start_factor + (1 - start_factor) * t / warmup)``
    (so step 0 uses ``start_factor * base_lr``, not 0), and from ``t = warmup`` on it is the
    cosine of :func:`cosine_annealing_lr` at ``t - warmup`` with ``t_max = total - warmup``:
    ``base_lr`` at ``t = warmup`` and ``eta_min`` at ``t = total``.
    """
    lr = _positive("base_lr", base_lr)
    t_ = check_non_negative_int("t", t)
    w = check_positive_int("warmup", warmup)
    n = check_positive_int("total", total)
    if n <= w:
        raise ValueError(f"total must be > warmup ({w}), got {n}")
    s = _positive("start_factor", start_factor)
    if s > 1.0:
        raise ValueError(f"start_factor must be in (0, 1], got {start_factor!r}")
    if t_ < w:
        return lr * (s + (1.0 - s) * t_ / w)
    return cosine_annealing_lr(base_lr=lr, t=t_ - w, t_max=n - w, eta_min=eta_min)


def one_cycle_lr(
    *,
    max_lr: float,
    t: int,
    total_steps: int,
    pct_start: float = 0.3,
    div_factor: float = 25.0,
    final_div_factor: float = 1e4,
    anneal: str = "cos",
) -> float:
    """Return ``OneCycleLR``'s rate after ``t`` steps (two phases, ``three_phase=False``).

    The rate climbs from ``max_lr / div_factor`` at step 0 to ``max_lr`` at step
    ``pct_start * total_steps - 1`` (a float, as in PyTorch), then falls to
    ``max_lr / div_factor / final_div_factor`` at step ``total_steps - 1``; ``anneal`` is "cos"
    (half-cosine between the ends) or "linear". ``t`` must be at most ``total_steps - 1``
    (PyTorch raises past that).
    """
    top = _positive("max_lr", max_lr)
    t_ = check_non_negative_int("t", t)
    n = check_positive_int("total_steps", total_steps)
    if t_ >= n:
        raise ValueError(f"t must be < total_steps ({n}), got {t_}")
    pct = float(pct_start)
    if not 0.0 < pct < 1.0:
        raise ValueError(f"pct_start must be in (0, 1), got {pct_start!r}")
    start = top / _positive("div_factor", div_factor)
    low = start / _positive("final_div_factor", final_div_factor)
    if anneal not in ("cos", "linear"):
        raise ValueError(f"anneal must be 'cos' or 'linear', got {anneal!r}")
    peak_step = pct * n - 1.0
    if peak_step <= 0.0 or n - 1 <= peak_step:
        raise ValueError(
            "pct_start * total_steps - 1 must lie strictly inside (0, total_steps - 1)"
        )
    if t_ <= peak_step:
        a, b, frac = start, top, t_ / peak_step
    else:
        a, b, frac = top, low, (t_ - peak_step) / (n - 1 - peak_step)
    if anneal == "cos":
        return b + (a - b) / 2.0 * (math.cos(math.pi * frac) + 1.0)
    return (b - a) * frac + a


def distributed_samples_per_replica(*, dataset_size: int, replicas: int) -> int:
    """Return the samples one ``DistributedSampler`` replica sees: ``ceil(n / g)`` (padded)."""
    n = check_positive_int("dataset_size", dataset_size)
    g = check_positive_int("replicas", replicas)
    return -(-n // g)


def dataloader_batches(*, samples: int, batch_size: int, drop_last: bool) -> int:
    """Return ``len(DataLoader)``: ``floor(n / b)`` with ``drop_last``, else ``ceil(n / b)``."""
    n = check_non_negative_int("samples", samples)
    b = check_positive_int("batch_size", batch_size)
    return n // b if drop_last else -(-n // b)


def optimizer_steps_per_epoch(
    *,
    dataset_size: int,
    batch_size: int,
    accumulation: int,
    drop_last: bool,
    replicas: int = 1,
    step_on_remainder: bool = False,
) -> int:
    """Return the optimizer steps in one epoch with gradient accumulation.

    ``batch_size`` is per replica; each replica's loader yields :func:`dataloader_batches` of
    its :func:`distributed_samples_per_replica`. The loop steps the optimizer after every
    ``accumulation`` micro-batches (``if (i + 1) % k == 0``): ``floor(batches / k)`` steps. With
    ``step_on_remainder`` a last, shorter accumulation window at the end of the epoch also steps
    (what Hugging Face Accelerate and Lightning do): ``ceil(batches / k)``.
    """
    samples = distributed_samples_per_replica(dataset_size=dataset_size, replicas=replicas)
    batches = dataloader_batches(samples=samples, batch_size=batch_size, drop_last=drop_last)
    k = check_positive_int("accumulation", accumulation)
    return -(-batches // k) if step_on_remainder else batches // k


def effective_batch_size(*, batch_size: int, accumulation: int = 1, replicas: int = 1) -> int:
    """Return the samples behind one optimizer step: per-replica batch x replicas x accumulation."""
    b = check_positive_int("batch_size", batch_size)
    k = check_positive_int("accumulation", accumulation)
    g = check_positive_int("replicas", replicas)
    return b * k * g


def linear_scaled_lr(*, base_lr: float, base_batch: int, batch: int) -> float:
    """Return the learning rate the linear scaling rule gives for ``batch``.

    Goyal et al. (2017): multiply the rate by ``batch / base_batch`` (e.g. 0.1 for 256 images
    becomes 0.1 * 8192 / 256 = 3.2), used with a warm-up; the rule breaks down for very large
    batches (beyond about 8k images for ResNet-50 on ImageNet in their experiments).
    """
    lr = _positive("base_lr", base_lr)
    b0 = check_positive_int("base_batch", base_batch)
    b = check_positive_int("batch", batch)
    return lr * b / b0
