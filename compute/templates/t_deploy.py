"""Templates on deployment and memory: the model-state memory of training."""

from __future__ import annotations

from compute import memory
from compute.templates.base import AnswerKind, Bilingual, Draw, Params, Template, Tolerance, Value
from compute.templates.engine import register
from compute.templates.fmt import mis, num

__all__ = ["DeployTrainingMemory"]

#: Model sizes in billions of parameters (common model scales).
_SIZES_B = (0.125, 0.35, 0.7, 1.3, 1.5, 2.7, 6.7, 7, 7.5, 13, 30, 65)

_OPT_NAMES = {
    "sgd": ("SGD(无动量)", "SGD (no momentum)"),
    "sgd_momentum": ("带动量的 SGD", "SGD with momentum"),
    "adam": ("Adam", "Adam"),
}
_PREC_NAMES = {
    "fp32": ("纯 FP32 训练", "pure FP32 training"),
    "mixed": (
        "混合精度训练(FP16 参数与梯度,优化器维护 FP32 主参数)",
        "mixed-precision training (FP16 parameters and gradients, FP32 master weights in the "
        "optimizer)",
    ),
}


def _gb(p: Params, bytes_per_param: int) -> float:
    """Return ``bytes_per_param`` times the parameter count, in decimal GB."""
    params: int = p["_params"]
    return params * bytes_per_param / 1e9


def _size(p: Params) -> str:
    """Return the model size in billions as displayed (``7``, ``0.35``)."""
    return num(p["size_b"])


def _per_param(p: Params) -> int:
    return memory.bytes_per_parameter(optimizer=p["optimizer"], precision=p["precision"])


def _buffers(p: Params) -> int:
    return memory.optimizer_state_count(p["optimizer"])


@register
class DeployTrainingMemory(Template):
    """Model-state memory (parameters, gradients, optimizer states) of training, in GB."""

    id = "deploy.training_memory"
    version = 1
    kind = AnswerKind.REAL
    tolerance = Tolerance(rel=1e-2)
    title = Bilingual(
        zh="训练时模型状态的显存(参数、梯度、优化器状态)",
        en="Training memory of model states (parameters, gradients, optimizer states)",
    )
    misconceptions = (
        mis(
            "weights_only",
            lambda p: _gb(p, 4 if p["precision"] == "fp32" else 2),
            "只算了参数本身。训练还要存同样大小的梯度和优化器状态(混合精度还有 FP32 主参数),"
            "这些往往比参数大得多。",
            "You counted the parameters only. Training also keeps gradients of the same size and "
            "the optimizer states (plus FP32 master weights under mixed precision), which are "
            "often much larger.",
        ),
        mis(
            "binary_gib",
            lambda p: _gb(p, _per_param(p)) * 1e9 / 2**30,
            "单位用错了:题目的 GB 是十进制的 10^9 字节,你除的是 2^30(GiB)。",
            "Wrong unit: the question's GB is decimal, 10^9 bytes; you divided by 2^30 (GiB).",
        ),
        mis(
            "no_master_copy",
            lambda p: _gb(p, _per_param(p) - 4) if p["precision"] == "mixed" else None,
            "混合精度下优化器还要一份 FP32 主参数(每参数 4 字节):小的更新量加到 FP16 参数上会被"
            "舍入掉,所以更新在 FP32 副本上累加。",
            "Mixed precision also keeps an FP32 master copy of the parameters (4 bytes each): "
            "small updates added to FP16 weights would round away, so they accumulate in FP32.",
        ),
        mis(
            "no_optimizer_states",
            lambda p: _gb(p, _per_param(p) - 4 * _buffers(p)),
            "漏了优化器状态:动量 SGD 每参数一份 FP32 动量,Adam 每参数两份(一阶矩 m 和二阶矩 v)。",
            "You left out the optimizer states: SGD with momentum keeps one FP32 momentum buffer "
            "per parameter, Adam two (the first moment m and the second moment v).",
            absorbable=True,
            defers_to="no_master_copy",
        ),
        mis(
            "one_adam_moment",
            lambda p: _gb(p, _per_param(p) - 4) if p["optimizer"] == "adam" else None,
            "Adam 每个参数有两份状态:一阶矩 m 和二阶矩 v,各 4 字节,不是一份。",
            "Adam keeps two states per parameter, the first moment m and the second moment v, "
            "4 bytes each, not one.",
            defers_to="no_master_copy",
        ),
    )

    def sample(self, draw: Draw) -> Params:
        """Draw the model size (billions; ``_params`` is the exact count), optimizer and precision."""
        size_b = draw.pick("size_b", _SIZES_B)
        return {
            "size_b": size_b,
            "_params": round(size_b * 1e9),
            "optimizer": draw.pick("optimizer", memory.OPTIMIZERS),
            "precision": draw.pick("precision", memory.PRECISIONS),
        }

    def answer(self, p: Params) -> Value:
        """Return ``memory.model_state_gb``."""
        return memory.model_state_gb(
            params=p["_params"], optimizer=p["optimizer"], precision=p["precision"]
        )

    def prompt(self, p: Params) -> Bilingual:
        """Render the question."""
        opt_zh, opt_en = _OPT_NAMES[p["optimizer"]]
        prec_zh, prec_en = _PREC_NAMES[p["precision"]]
        size = _size(p)
        return Bilingual(
            zh=f"一个 {size}B({size} × 10^9)参数的模型,用{opt_zh}做{prec_zh}。只算模型状态"
            "(参数、梯度、优化器状态),不算激活和临时缓冲,需要多少 GB 显存?"
            "(1 GB = 10^9 字节)",
            en=f"A model with {size}B ({size} × 10^9) parameters is trained with {opt_en} in "
            f"{prec_en}. Counting only the model states (parameters, gradients, optimizer "
            "states), not activations or buffers, how many GB does it need? (1 GB = 10^9 bytes)",
        )

    def solution(self, p: Params, answer: Value) -> Bilingual:
        """Render the per-parameter byte count and the product."""
        k = _buffers(p)
        if p["precision"] == "fp32":
            parts_zh = f"4(参数)+ 4(梯度)+ 4 × {k}(优化器状态)"
            parts_en = f"4 (parameters) + 4 (gradients) + 4 × {k} (optimizer states)"
        else:
            parts_zh = f"2(FP16 参数)+ 2(FP16 梯度)+ 4(FP32 主参数)+ 4 × {k}(优化器状态)"
            parts_en = (
                f"2 (FP16 parameters) + 2 (FP16 gradients) + 4 (FP32 master) + 4 × {k} "
                "(optimizer states)"
            )
        per = _per_param(p)
        size = _size(p)
        tail = f"{size} × 10^9 × {per} B = {answer:.4g} GB"
        return Bilingual(
            zh=f"每个参数:{parts_zh} = {per} 字节。\n\n{tail}。激活另算,随批大小和分辨率增长。",
            en=f"Per parameter: {parts_en} = {per} bytes.\n\n{tail}. Activations come on top and "
            "grow with batch size and resolution.",
        )
