"""Templates on training practice: learning-rate schedules, steps per epoch, batch-size scaling.

Schedule questions use PyTorch's convention (``torch.optim.lr_scheduler``): the scheduler is
stepped once after each epoch (or iteration), epochs are numbered from 0, and "the rate of
epoch t" is the rate after ``t`` scheduler steps. Every prompt says so.
"""

from __future__ import annotations

import bisect
import math

from compute import training
from compute.templates.base import AnswerKind, Bilingual, Draw, Params, Template, Tolerance, Value
from compute.templates.engine import register
from compute.templates.fmt import mis, num, tex

__all__ = [
    "SchedCosine",
    "SchedLinearScaling",
    "SchedStepDecay",
    "SchedStepsPerEpoch",
    "SchedWarmupCosine",
]

_REL = Tolerance(rel=1e-3)

_CONVENTION = (
    "(PyTorch 约定:epoch 从 0 编号,每个 epoch 结束后调用一次 `scheduler.step()`)",
    "(PyTorch convention: epochs are numbered from 0 and `scheduler.step()` is called once after "
    "each epoch)",
)


def _decays(p: Params, t: int) -> int:
    """Number of decays a step or multistep schedule has applied after ``t`` steps."""
    if p["kind"] == "step":
        size: int = p["step_size"]
        return t // size
    return bisect.bisect_right(p["milestones"], t)


@register
class SchedStepDecay(Template):
    """Learning rate of StepLR or MultiStepLR at an epoch."""

    id = "sched.step_decay"
    version = 1
    kind = AnswerKind.REAL
    tolerance = _REL
    title = Bilingual(zh="阶梯式学习率衰减", en="Step learning-rate decay")
    misconceptions = (
        mis(
            "one_step_late",
            lambda p: p["lr"] * p["gamma"] ** _decays(p, p["t"] - 1),
            "在第 m 个 epoch(m 为里程碑或 step_size 的倍数)开始时学习率就已经衰减:"
            "衰减次数数的是 ≤ t 的里程碑。",
            "The rate is already decayed during epoch m (a milestone or a multiple of step_size): "
            "count the milestones ≤ t.",
            absorbable=True,
        ),
        mis(
            "one_step_early",
            lambda p: p["lr"] * p["gamma"] ** _decays(p, p["t"] + 1),
            "第 t 个 epoch 用的是 t 次 `step()` 之后的学习率,不是 t + 1 次之后的。",
            "Epoch t uses the rate after t calls of `step()`, not t + 1.",
            absorbable=True,
        ),
        mis(
            "not_compounded",
            lambda p: p["lr"] * p["gamma"] if _decays(p, p["t"]) >= 2 else None,
            "每次衰减都在当前学习率上再乘 γ:衰减 n 次是 γ^n,不是只乘一次 γ。",
            "Each decay multiplies the current rate by γ again: n decays give γ^n, not a single γ.",
        ),
        mis(
            "gamma_as_rate",
            lambda p: (
                p["lr"] * (1 - p["gamma"]) ** _decays(p, p["t"])
                if _decays(p, p["t"]) >= 1 and p["gamma"] != 0.5
                else None
            ),
            "γ 是乘上去的因子(γ = 0.1 表示降到 1/10),不是减少的比例。",
            "γ is the factor the rate is multiplied by (γ = 0.1 means down to a tenth), not the "
            "fraction removed.",
        ),
        mis(
            "decayed_every_epoch",
            lambda p: p["lr"] * p["gamma"] ** p["t"] if p["t"] >= 2 else None,
            "只在 step_size 的倍数或里程碑处衰减,不是每个 epoch 都乘 γ(那是 ExponentialLR)。",
            "The rate decays only at multiples of step_size or at milestones, not every epoch "
            "(that would be ExponentialLR).",
        ),
    )

    def sample(self, draw: Draw) -> Params:
        """Draw a step or multistep schedule and an epoch, often on or next to a boundary."""
        kind = draw.pick("kind", ("step", "multistep"))
        lr = draw.pick("lr", (0.1, 0.05, 0.01, 0.2, 0.001))
        gamma = draw.pick("gamma", (0.1, 0.5, 0.2, 0.3))
        if kind == "step":
            size = draw.pick("step_size", (10, 20, 30, 5, 8))
            marks = [size * k for k in range(1, 5)]
            p: Params = {"kind": kind, "lr": lr, "gamma": gamma, "step_size": size}
        else:
            marks = list(draw.pick("milestones", ((30, 60, 90), (50, 75), (100, 150), (8, 11))))
            p = {"kind": kind, "lr": lr, "gamma": gamma, "milestones": marks}
        where = draw.free(0, 3)
        m = marks[draw.index(len(marks))]
        if where == 0:
            t = m
        elif where == 1:
            t = m - 1
        else:
            t = draw.free(0, marks[-1] + 5)
        p["t"] = t
        return p

    def answer(self, p: Params) -> Value:
        """Return ``training.step_lr`` or ``training.multistep_lr``."""
        if p["kind"] == "step":
            return training.step_lr(
                base_lr=p["lr"], t=p["t"], step_size=p["step_size"], gamma=p["gamma"]
            )
        return training.multistep_lr(
            base_lr=p["lr"], t=p["t"], milestones=p["milestones"], gamma=p["gamma"]
        )

    def prompt(self, p: Params) -> Bilingual:
        """Render the schedule and the epoch."""
        lr, g, t = num(p["lr"]), num(p["gamma"]), p["t"]
        if p["kind"] == "step":
            call = f"`StepLR(optimizer, step_size={p['step_size']}, gamma={g})`"
        else:
            marks = ", ".join(map(str, p["milestones"]))
            call = f"`MultiStepLR(optimizer, milestones=[{marks}], gamma={g})`"
        return Bilingual(
            zh=f"SGD 的初始学习率为 {lr},使用 {call}{_CONVENTION[0]}。第 {t} 个 epoch 训练时的学习率"
            "是多少?",
            en=f"SGD starts with learning rate {lr} and uses {call} {_CONVENTION[1]}. What learning "
            f"rate does epoch {t} train with?",
        )

    def solution(self, p: Params, answer: Value) -> Bilingual:
        """Render the number of decays and lr * gamma^n."""
        n, t = _decays(p, p["t"]), p["t"]
        f = f"$${tex(p['lr'])}\\times{tex(p['gamma'])}^{{{n}}}={answer:.4g}$$"
        if p["kind"] == "step":
            how = f"$n=\\lfloor {t}/{p['step_size']}\\rfloor={n}$"
        else:
            how = f"$n$ = 里程碑中 $\\le {t}$ 的个数 $={n}$"
            how_en = f"$n$ = number of milestones $\\le {t}$ $={n}$"
        zh = f"第 {t} 个 epoch 之前已调用 {t} 次 `step()`,衰减次数 {how}:\n{f}"
        if p["kind"] == "step":
            how_en = how
        en = f"Epoch {t} runs after {t} calls of `step()`; the decays so far: {how_en}:\n{f}"
        return Bilingual(zh=zh, en=en)


@register
class SchedCosine(Template):
    """Learning rate of CosineAnnealingLR at an epoch."""

    id = "sched.cosine"
    version = 1
    kind = AnswerKind.REAL
    tolerance = _REL
    title = Bilingual(zh="余弦退火学习率", en="Cosine annealing learning rate")
    misconceptions = (
        mis(
            "eta_min_ignored",
            lambda p: (
                p["lr"] * (1 + math.cos(math.pi * p["t"] / p["t_max"])) / 2
                if p["eta_min"] > 0
                else None
            ),
            "余弦在 η_max 与 η_min 之间变化:η_min + (η_max − η_min)(1 + cos(πt/T))/2,不能丢掉 η_min。",
            "The cosine runs between η_max and η_min: η_min + (η_max − η_min)(1 + cos(πt/T))/2; "
            "keep η_min.",
        ),
        mis(
            "missing_one_plus_half",
            lambda p: (
                p["eta_min"] + (p["lr"] - p["eta_min"]) * math.cos(math.pi * p["t"] / p["t_max"])
            ),
            "余弦项要写成 (1 + cos(πt/T))/2,使它从 1 平滑降到 0;只用 cos 会在后半程变成负数。",
            "The factor is (1 + cos(πt/T))/2, falling smoothly from 1 to 0; a bare cos turns "
            "negative in the second half.",
        ),
        mis(
            "linear_decay",
            lambda p: p["lr"] - (p["lr"] - p["eta_min"]) * p["t"] / p["t_max"],
            "这是线性衰减;余弦退火开始和结束时下降慢,中间快。",
            "That is linear decay; cosine annealing falls slowly at both ends and fast in the "
            "middle.",
        ),
        mis(
            "full_period",
            lambda p: (
                p["eta_min"]
                + (p["lr"] - p["eta_min"]) * (1 + math.cos(2 * math.pi * p["t"] / p["t_max"])) / 2
            ),
            "T_max 是半个余弦周期:t = T_max 时正好降到 η_min,而不是完整周期回到 η_max。",
            "T_max is half a cosine period: the rate reaches η_min at t = T_max, not a full period "
            "back to η_max.",
        ),
    )

    def sample(self, draw: Draw) -> Params:
        """Draw base lr, T_max, eta_min and an epoch inside (0, T_max)."""
        lr = draw.pick("lr", (0.1, 0.05, 0.01, 0.001, 0.2))
        t_max = draw.pick("t_max", (50, 90, 100, 200, 30, 120))
        eta_min = draw.pick("eta_min", (0.0, 0.0, 1e-4, 1e-3, 1e-5))
        t = draw.integer("t", 1, t_max - 1)
        return {"lr": lr, "t_max": t_max, "eta_min": eta_min, "t": t}

    def answer(self, p: Params) -> Value:
        """Return ``training.cosine_annealing_lr``."""
        if p["eta_min"] >= p["lr"]:
            raise ValueError("eta_min must be below the base rate")
        return training.cosine_annealing_lr(
            base_lr=p["lr"], t=p["t"], t_max=p["t_max"], eta_min=p["eta_min"]
        )

    def prompt(self, p: Params) -> Bilingual:
        """Render the schedule and the epoch."""
        call = f"`CosineAnnealingLR(optimizer, T_max={p['t_max']}, eta_min={num(p['eta_min'])})`"
        return Bilingual(
            zh=f"初始学习率为 {num(p['lr'])},使用 {call}{_CONVENTION[0]}。第 {p['t']} 个 epoch 训练时的"
            "学习率是多少?",
            en=f"The initial learning rate is {num(p['lr'])} with {call} {_CONVENTION[1]}. What "
            f"learning rate does epoch {p['t']} train with?",
        )

    def solution(self, p: Params, answer: Value) -> Bilingual:
        """Render the cosine formula with the numbers."""
        lr, lo, t, n = tex(p["lr"]), tex(p["eta_min"]), p["t"], p["t_max"]
        c = math.cos(math.pi * t / n)
        half = f"\\frac{{1+\\cos(\\pi\\cdot{t}/{n})}}{{2}}"
        if p["eta_min"] > 0:
            subst = f"{lo}+({lr}-{lo})\\cdot{half}={lo}+({lr}-{lo})\\cdot{(1 + c) / 2:.4f}"
        else:
            subst = f"{lr}\\cdot{half}={lr}\\cdot{(1 + c) / 2:.4f}"
        f = (
            f"$$\\eta_t=\\eta_{{min}}+(\\eta_{{max}}-\\eta_{{min}})\\frac{{1+\\cos(\\pi t/T_{{max}})}}"
            f"{{2}}={subst}\\approx{answer:.4g}$$"
        )
        return Bilingual(
            zh=f"余弦退火在 $T_{{max}}$ 内走半个余弦周期,从 $\\eta_{{max}}$ 降到 $\\eta_{{min}}$:\n{f}",
            en=f"Cosine annealing follows half a cosine period over $T_{{max}}$, from "
            f"$\\eta_{{max}}$ down to $\\eta_{{min}}$:\n{f}",
        )


@register
class SchedWarmupCosine(Template):
    """Learning rate of linear warm-up followed by cosine annealing, at an iteration."""

    id = "sched.warmup_cosine"
    version = 1
    kind = AnswerKind.REAL
    tolerance = _REL
    title = Bilingual(zh="线性预热 + 余弦退火", en="Linear warm-up then cosine annealing")
    misconceptions = (
        mis(
            "warmup_from_zero",
            lambda p: (
                p["lr"] * p["t"] / p["warmup"] if p["t"] < p["warmup"] and p["t"] > 0 else None
            ),
            "LinearLR 从 start_factor·lr 开始线性升到 lr,不是从 0 开始。",
            "LinearLR climbs linearly from start_factor·lr to lr, not from 0.",
        ),
        mis(
            "cosine_over_total",
            lambda p: (
                training.cosine_annealing_lr(base_lr=p["lr"], t=p["t"], t_max=p["total"])
                if p["t"] >= p["warmup"]
                else None
            ),
            "预热结束后余弦阶段从第 warmup 步重新计数,长度是 total − warmup,"
            "不能直接用 cos(πt/total)。",
            "After warm-up the cosine phase counts from step `warmup` and lasts total − warmup; "
            "do not use cos(πt/total).",
        ),
        mis(
            "no_warmup",
            lambda p: (
                training.cosine_annealing_lr(base_lr=p["lr"], t=p["t"], t_max=p["total"])
                if p["t"] < p["warmup"]
                else None
            ),
            "前 warmup 步是线性预热;余弦阶段在预热之后才开始。",
            "The first `warmup` steps are a linear warm-up; the cosine starts after it.",
        ),
        mis(
            "t_not_shifted",
            lambda p: (
                training.cosine_annealing_lr(
                    base_lr=p["lr"], t=p["t"], t_max=p["total"] - p["warmup"]
                )
                if p["t"] >= p["warmup"]
                else None
            ),
            "SequentialLR 在里程碑处让余弦调度器从 0 开始计数:用 t − warmup,不是 t。",
            "At the milestone SequentialLR starts the cosine scheduler from 0: use t − warmup, "
            "not t.",
        ),
        mis(
            "t_max_not_shortened",
            lambda p: (
                training.cosine_annealing_lr(
                    base_lr=p["lr"], t=p["t"] - p["warmup"], t_max=p["total"]
                )
                if p["t"] >= p["warmup"]
                else None
            ),
            "余弦阶段的长度是 T_max = total − warmup,题中的调度器已写明。",
            "The cosine phase lasts T_max = total − warmup, as the scheduler in the question says.",
        ),
        mis(
            "warmup_peak_late",
            lambda p: (
                p["lr"] * (p["sf"] + (1 - p["sf"]) * (p["t"] + 1) / p["warmup"])
                if p["t"] < p["warmup"] - 1
                else None
            ),
            "第 t 步用的是 t 次 `step()` 之后的学习率:lr·(s + (1 − s)·t/warmup)。",
            "Step t uses the rate after t calls of `step()`: lr·(s + (1 − s)·t/warmup).",
        ),
    )

    def sample(self, draw: Draw) -> Params:
        """Draw the schedule and an iteration in warm-up or in the cosine phase."""
        lr = draw.pick("lr", (0.1, 0.4, 1e-3, 5e-4, 3e-4, 0.2))
        warmup = draw.pick("warmup", (500, 1000, 2000, 5, 10, 100))
        total = warmup * draw.pick("ratio", (10, 20, 5, 8))
        sf = draw.pick("start_factor", (0.1, 0.01, 0.001, 0.25))
        phase = draw.free(0, 2)
        t = draw.free(1, warmup - 1) if phase == 0 else draw.free(warmup + 1, total - 1)
        return {"lr": lr, "warmup": warmup, "total": total, "sf": sf, "t": t}

    def answer(self, p: Params) -> Value:
        """Return ``training.warmup_cosine_lr``."""
        return training.warmup_cosine_lr(
            base_lr=p["lr"], t=p["t"], warmup=p["warmup"], total=p["total"], start_factor=p["sf"]
        )

    def prompt(self, p: Params) -> Bilingual:
        """Render the SequentialLR and the iteration."""
        w, n, sf = p["warmup"], p["total"], num(p["sf"])
        call = (
            f"`SequentialLR(opt, [LinearLR(opt, start_factor={sf}, total_iters={w}), "
            f"CosineAnnealingLR(opt, T_max={n - w})], milestones=[{w}])`"
        )
        return Bilingual(
            zh=f"基础学习率 {num(p['lr'])},共训练 {n} 次迭代,调度器为 {call}(eta_min = 0)。"
            f"每次迭代后调用一次 `scheduler.step()`,迭代从 0 编号。第 {p['t']} 次迭代使用的学习率是"
            "多少?",
            en=f"The base learning rate is {num(p['lr'])}, training runs {n} iterations and the "
            f"scheduler is {call} (eta_min = 0). `scheduler.step()` is called after every "
            f"iteration, iterations are numbered from 0. What learning rate does iteration "
            f"{p['t']} use?",
        )

    def solution(self, p: Params, answer: Value) -> Bilingual:
        """Render the warm-up line or the shifted cosine."""
        lr, t, w, n, sf = tex(p["lr"]), p["t"], p["warmup"], p["total"], tex(p["sf"])
        if t < w:
            f = (
                f"$$\\eta_t=\\eta\\left(s+(1-s)\\frac{{t}}{{W}}\\right)={lr}\\left({sf}+(1-{sf})"
                f"\\cdot\\frac{{{t}}}{{{w}}}\\right)\\approx{answer:.4g}$$"
            )
            return Bilingual(
                zh=f"$t={t}<{w}$,处于线性预热阶段(从 $s\\cdot\\eta$ 线性升到 $\\eta$):\n{f}",
                en=f"$t={t}<{w}$: linear warm-up (from $s\\cdot\\eta$ up to $\\eta$):\n{f}",
            )
        f = (
            f"$$\\eta_t=\\eta\\cdot\\frac{{1+\\cos\\left(\\pi\\frac{{t-W}}{{T-W}}\\right)}}{{2}}={lr}"
            f"\\cdot\\frac{{1+\\cos(\\pi\\cdot{t - w}/{n - w})}}{{2}}\\approx{answer:.4g}$$"
        )
        return Bilingual(
            zh=f"$t={t}\\ge{w}$,处于余弦阶段,从第 {w} 步重新计数,$T_{{max}}={n}-{w}={n - w}$:\n{f}",
            en=f"$t={t}\\ge{w}$: the cosine phase, counted from step {w}, with "
            f"$T_{{max}}={n}-{w}={n - w}$:\n{f}",
        )


@register
class SchedStepsPerEpoch(Template):
    """Optimizer steps per epoch with data parallelism, gradient accumulation and drop_last."""

    id = "sched.steps_per_epoch"
    version = 1
    kind = AnswerKind.INTEGER
    title = Bilingual(zh="梯度累积下每个 epoch 的优化器步数", en="Optimizer steps per epoch")
    misconceptions = (
        mis(
            "accumulation_ignored",
            lambda p: training.optimizer_steps_per_epoch(
                dataset_size=p["n"],
                batch_size=p["b"],
                accumulation=1,
                drop_last=p["drop_last"],
                replicas=p["g"],
            ),
            "梯度累积 k 个 micro-batch 才调用一次 `optimizer.step()`:步数要再除以 k。",
            "With accumulation the optimizer steps once per k micro-batches: divide by k.",
        ),
        mis(
            "replicas_ignored",
            lambda p: (
                training.optimizer_steps_per_epoch(
                    dataset_size=p["n"],
                    batch_size=p["b"],
                    accumulation=p["k"],
                    drop_last=p["drop_last"],
                )
                if p["g"] > 1
                else None
            ),
            "DistributedSampler 把数据集分给 g 张卡,每张卡只看到 ⌈N/g⌉ 个样本。",
            "DistributedSampler splits the dataset over g GPUs: each sees ⌈N/g⌉ samples.",
        ),
        mis(
            "wrong_rounding",
            lambda p: training.optimizer_steps_per_epoch(
                dataset_size=p["n"],
                batch_size=p["b"],
                accumulation=p["k"],
                drop_last=not p["drop_last"],
                replicas=p["g"],
            ),
            "drop_last=True 丢掉不满的最后一个 batch(向下取整);False 时保留它(向上取整)。",
            "drop_last=True drops the last incomplete batch (floor); False keeps it (ceil).",
            absorbable=True,
        ),
        mis(
            "plain_division",
            lambda p: (
                p["n"]
                // training.effective_batch_size(
                    batch_size=p["b"], accumulation=p["k"], replicas=p["g"]
                )
            ),
            "先按卡、再按 batch 取整得到 micro-batch 数,再按 `(i + 1) % k == 0` 数步数;"
            "直接 N // (b·g·k) 忽略了中间的取整。",
            "Round per GPU, then per batch to get the micro-batches, then count the steps with "
            "`(i + 1) % k == 0`; N // (b·g·k) skips the intermediate rounding.",
            absorbable=True,
        ),
    )

    def sample(self, draw: Draw) -> Params:
        """Draw a dataset size, per-GPU batch, GPUs, accumulation and drop_last."""
        n = draw.pick("n", (50000, 1281167, 118287, 10582, 60000, 9963, 45000))
        return {
            "n": n,
            "b": draw.pick("batch", (32, 64, 16, 8, 128, 12)),
            "g": draw.pick("gpus", (1, 2, 4, 8, 3)),
            "k": draw.pick("accumulation", (2, 4, 8, 3, 16)),
            "drop_last": draw.pick("drop_last", (False, True)),
        }

    def answer(self, p: Params) -> Value:
        """Return ``training.optimizer_steps_per_epoch`` (a draw with no full window is redrawn)."""
        steps = training.optimizer_steps_per_epoch(
            dataset_size=p["n"],
            batch_size=p["b"],
            accumulation=p["k"],
            drop_last=p["drop_last"],
            replicas=p["g"],
        )
        if steps < 1:
            raise ValueError("fewer micro-batches than one accumulation window")
        return steps

    def prompt(self, p: Params) -> Bilingual:
        """Render the loader, the GPUs and the accumulation loop."""
        dl = "True" if p["drop_last"] else "False"
        return Bilingual(
            zh=f"数据集有 {p['n']} 个样本,用 {p['g']} 张 GPU 数据并行训练(`DistributedSampler` 默认设置,"
            f"不整除时补齐),每张卡的 `DataLoader(batch_size={p['b']}, drop_last={dl})`。训练循环每 "
            f"{p['k']} 个 micro-batch 调用一次 `optimizer.step()`(`if (i + 1) % {p['k']} == 0`,"
            "末尾不足的部分不更新)。一个 epoch 调用多少次 `optimizer.step()`?",
            en=f"A dataset of {p['n']} samples is trained data-parallel on {p['g']} GPUs "
            f"(`DistributedSampler` defaults: padded when not divisible), each with "
            f"`DataLoader(batch_size={p['b']}, drop_last={dl})`. The loop calls "
            f"`optimizer.step()` every {p['k']} micro-batches (`if (i + 1) % {p['k']} == 0`; a "
            "leftover shorter window at the end makes no step). How many optimizer steps does one "
            "epoch take?",
        )

    def solution(self, p: Params, answer: Value) -> Bilingual:
        """Render samples per GPU, batches, steps and the effective batch."""
        n, g, b, k = p["n"], p["g"], p["b"], p["k"]
        per = training.distributed_samples_per_replica(dataset_size=n, replicas=g)
        batches = training.dataloader_batches(samples=per, batch_size=b, drop_last=p["drop_last"])
        rnd = "\\lfloor" if p["drop_last"] else "\\lceil"
        rnd_r = "\\rfloor" if p["drop_last"] else "\\rceil"
        eff = training.effective_batch_size(batch_size=b, accumulation=k, replicas=g)
        f = (
            f"$$\\lceil {n}/{g}\\rceil={per},\\quad {rnd}{per}/{b}{rnd_r}={batches},\\quad "
            f"\\lfloor {batches}/{k}\\rfloor={answer}$$"
        )
        return Bilingual(
            zh=f"每张卡的样本数、每张卡的 batch 数、再按累积步数取整:\n{f}\n每步的有效 batch 为 "
            f"${b}\\times{g}\\times{k}={eff}$。",
            en=f"Samples per GPU, batches per GPU, then whole accumulation windows:\n{f}\nEach step's "
            f"effective batch is ${b}\\times{g}\\times{k}={eff}$.",
        )


@register
class SchedLinearScaling(Template):
    """Learning rate from the linear scaling rule for a new effective batch size."""

    id = "sched.linear_scaling"
    version = 1
    kind = AnswerKind.REAL
    tolerance = _REL
    title = Bilingual(zh="线性缩放规则", en="Linear scaling rule")
    misconceptions = (
        mis(
            "accumulation_ignored",
            lambda p: training.linear_scaled_lr(
                base_lr=p["lr"], base_batch=p["b0"], batch=p["b"] * p["g"]
            ),
            "梯度累积 k 步相当于把 batch 放大 k 倍:有效 batch = 每卡 batch × 卡数 × k。",
            "Accumulating k micro-batches multiplies the batch by k: effective batch = per-GPU "
            "batch × GPUs × k.",
        ),
        mis(
            "per_gpu_batch",
            lambda p: training.linear_scaled_lr(base_lr=p["lr"], base_batch=p["b0"], batch=p["b"]),
            "数据并行时每步的梯度是所有卡的平均:有效 batch 要乘以卡数。",
            "Data parallelism averages the gradients of all GPUs: multiply the batch by the GPUs.",
        ),
        mis(
            "sqrt_scaling",
            lambda p: p["lr"] * math.sqrt(p["_B"] / p["b0"]),
            "平方根缩放是另一条经验规则(常用于 Adam);题目要求的是线性缩放 lr × B/B₀。",
            "Square-root scaling is another heuristic (often used with Adam); the question asks "
            "for linear scaling lr × B/B₀.",
        ),
        mis(
            "inverse",
            lambda p: p["lr"] * p["b0"] / p["_B"],
            "batch 变大时梯度噪声变小,学习率应同比例变大,而不是变小。",
            "A larger batch has less gradient noise, so the rate grows in proportion, not shrinks.",
        ),
    )

    def sample(self, draw: Draw) -> Params:
        """Draw the reference recipe and the new setup."""
        lr, b0 = draw.pick("recipe", ((0.1, 256), (0.1, 256), (0.02, 16), (0.001, 64), (0.2, 512)))
        return {
            "lr": lr,
            "b0": b0,
            "b": draw.pick("batch", (32, 64, 16, 8, 128)),
            "g": draw.pick("gpus", (2, 4, 8, 16)),
            "k": draw.pick("accumulation", (2, 4, 3, 8)),
        }

    def answer(self, p: Params) -> Value:
        """Return ``training.linear_scaled_lr`` of the effective batch."""
        p["_B"] = training.effective_batch_size(
            batch_size=p["b"], accumulation=p["k"], replicas=p["g"]
        )
        return training.linear_scaled_lr(base_lr=p["lr"], base_batch=p["b0"], batch=p["_B"])

    def prompt(self, p: Params) -> Bilingual:
        """Render the recipe and the new setup."""
        lr, b0, b, g, k = num(p["lr"]), p["b0"], p["b"], p["g"], p["k"]
        return Bilingual(
            zh=f"参考配置:batch size {b0} 时学习率 {lr}(SGD)。现在用 {g} 张 GPU,每张卡 batch {b},"
            f"并且每 {k} 个 micro-batch 累积一次梯度再更新。按线性缩放规则(Goyal 等,2017),"
            "学习率应设为多少?",
            en=f"Reference recipe: learning rate {lr} at batch size {b0} (SGD). Now you train on "
            f"{g} GPUs with {b} images each and accumulate gradients over {k} micro-batches per "
            "update. What learning rate does the linear scaling rule (Goyal et al., 2017) give?",
        )

    def solution(self, p: Params, answer: Value) -> Bilingual:
        """Render the effective batch and the scaled rate."""
        b, g, k, big = p["b"], p["g"], p["k"], p["_B"]
        f = (
            f"$$B={b}\\times{g}\\times{k}={big},\\qquad \\eta=\\eta_0\\cdot\\frac{{B}}{{B_0}}="
            f"{tex(p['lr'])}\\times\\frac{{{big}}}{{{p['b0']}}}={answer:.4g}$$"
        )
        return Bilingual(
            zh=f"有效 batch 是每步更新所用的样本总数,学习率与它成正比(通常再配合预热):\n{f}",
            en=f"The effective batch is the number of samples behind one update; the rate scales "
            f"with it (usually together with a warm-up):\n{f}",
        )
