"""Templates on margin-based softmax losses for face recognition: ArcFace and CosFace logits."""

from __future__ import annotations

import math

from compute import margins
from compute.templates.base import AnswerKind, Bilingual, Draw, Params, Template, Tolerance, Value
from compute.templates.engine import register
from compute.templates.fmt import mis, num

__all__ = ["MlMarginLogit"]

_MARGINS = {"arcface": (0.3, 0.4, 0.5), "cosface": (0.2, 0.25, 0.35, 0.4)}
_NAMES = {
    "arcface": ("ArcFace(加性角度间隔)", "ArcFace (additive angular margin)"),
    "cosface": ("CosFace(加性余弦间隔)", "CosFace (additive cosine margin)"),
}
_UNITS = {"arcface": ("弧度", "radians"), "cosface": ("余弦值", "cosine units")}


def _cos(p: Params) -> float:
    return math.cos(math.radians(p["theta_deg"]))


@register
class MlMarginLogit(Template):
    """Target-class logit of ArcFace or CosFace for a given angle, scale and margin."""

    id = "ml.margin_logit"
    version = 1
    kind = AnswerKind.REAL
    tolerance = Tolerance(rel=1e-3, abs=1e-2)
    title = Bilingual(
        zh="ArcFace / CosFace 的目标类 logit", en="Target-class logit of ArcFace / CosFace"
    )
    misconceptions = (
        mis(
            "no_margin",
            lambda p: p["s"] * _cos(p),
            "这是没有间隔的 logit s·cosθ。间隔要加在真实类别上,让它在训练中“更难”。",
            "That is the logit without a margin, s·cosθ. The margin is applied to the true class "
            "to make it harder during training.",
        ),
        mis(
            "no_scale",
            lambda p: margins.target_logit(
                loss=p["loss"], theta_deg=p["theta_deg"], s=1.0, m=p["m"]
            ),
            "忘了乘尺度 s。归一化后的 logit 只在 [-1, 1] 内,必须乘 s 才能让 softmax 分得开。",
            "You forgot the scale s. Normalized logits lie in [-1, 1]; multiplying by s is what "
            "lets the softmax separate classes.",
        ),
        mis(
            "margin_in_degrees",
            lambda p: (
                p["s"] * math.cos(math.radians(p["theta_deg"] + p["m"]))
                if p["loss"] == "arcface"
                else None
            ),
            "ArcFace 的 m 是弧度,不是度:0.5 约等于 28.6°,要先把 θ 换成弧度再加 m。",
            "ArcFace's m is in radians, not degrees: 0.5 is about 28.6°; convert θ to radians "
            "before adding m.",
        ),
        mis(
            "other_family",
            lambda p: (
                p["s"] * (_cos(p) - p["m"])
                if p["loss"] == "arcface"
                else p["s"] * math.cos(math.radians(p["theta_deg"]) + p["m"])
            ),
            "把两种间隔弄混了:ArcFace 把 m 加在角度上 s·cos(θ + m),CosFace 从余弦上减去 m "
            "s·(cosθ − m)。",
            "You mixed up the two margins: ArcFace adds m to the angle, s·cos(θ + m); CosFace "
            "subtracts m from the cosine, s·(cosθ − m).",
        ),
        mis(
            "scale_before_margin",
            lambda p: p["s"] * _cos(p) - p["m"] if p["loss"] == "cosface" else None,
            "CosFace 先减间隔再乘尺度:s·(cosθ − m),不是 s·cosθ − m。",
            "CosFace subtracts the margin before scaling: s·(cosθ − m), not s·cosθ − m.",
        ),
    )

    def sample(self, draw: Draw) -> Params:
        """Draw the loss, the angle in whole degrees, the scale and the loss's margin."""
        loss = draw.pick("loss", margins.LOSSES)
        return {
            "loss": loss,
            "theta_deg": draw.integer("theta_deg", 15, 85),
            "s": draw.pick("s", (30, 32, 64)),
            "m": draw.pick("m", _MARGINS[loss], like=(0.35, 0.5)),
        }

    def answer(self, p: Params) -> Value:
        """Return ``margins.target_logit``."""
        return margins.target_logit(loss=p["loss"], theta_deg=p["theta_deg"], s=p["s"], m=p["m"])

    def prompt(self, p: Params) -> Bilingual:
        """Render the question."""
        name_zh, name_en = _NAMES[p["loss"]]
        unit_zh, unit_en = _UNITS[p["loss"]]
        s, m, t = num(p["s"]), num(p["m"]), num(p["theta_deg"])
        return Bilingual(
            zh=f"用 {name_zh} 训练人脸识别网络,尺度 s = {s},间隔 m = {m}({unit_zh})。某样本的特征与"
            f"其真实类别的权重向量(都已 L2 归一化)夹角为 {t}°。送进 softmax 交叉熵的真实类别 logit "
            "是多少?",
            en=f"A face-recognition network is trained with {name_en}, scale s = {s}, margin "
            f"m = {m} ({unit_en}). A sample's feature makes an angle of {t}° with its true class's "
            "weight vector (both L2-normalized). What true-class logit goes into the softmax "
            "cross-entropy?",
        )

    def solution(self, p: Params, answer: Value) -> Bilingual:
        """Render the formula with the numbers."""
        s, m, t = num(p["s"]), num(p["m"]), num(p["theta_deg"])
        rad = math.radians(p["theta_deg"])
        if p["loss"] == "arcface":
            f = f"$$s\\cos(\\theta+m)={s}\\cos({rad:.4f}+{m})\\approx{answer:.4g}$$"
            zh = f"θ = {t}° = {rad:.4f} 弧度,间隔加在角度上:\n{f}"
            en = f"θ = {t}° = {rad:.4f} rad; the margin is added to the angle:\n{f}"
        else:
            c = math.cos(rad)
            f = f"$$s(\\cos\\theta-m)={s}\\times({c:.4f}-{m})\\approx{answer:.4g}$$"
            zh = f"cos {t}° ≈ {c:.4f},先从余弦上减去间隔再乘尺度:\n{f}"
            en = f"cos {t}° ≈ {c:.4f}; subtract the margin from the cosine, then scale:\n{f}"
        return Bilingual(
            zh=zh + "\n\n其他类别不加间隔,仍是 s·cosθ_j;推理时不用间隔。",
            en=en + "\n\nOther classes get no margin and stay s·cosθ_j; inference uses no margin.",
        )
