"""Templates on segmentation and classic image processing.

Segmentation: pixel accuracy, mIoU/FWIoU, Dice, U-Net sizes and crops, DeepLab's ASPP at an
output stride, PSPNet's adaptive-pooling windows. Classic CV: histogram equalization and the
Sobel operator.
"""

from __future__ import annotations

import math

import numpy as np

from compute import imageproc, segmentation
from compute.templates.base import AnswerKind, Bilingual, Draw, Params, Template, Tolerance, Value
from compute.templates.engine import register
from compute.templates.fmt import mis, num

__all__ = [
    "CvBilinear",
    "CvHistEqualization",
    "CvSobel",
    "SegAspp",
    "SegDice",
    "SegMiou",
    "SegPanopticQuality",
    "SegPixelAccuracy",
    "SegPspWindows",
    "SegUnetCrop",
    "SegUnetOutput",
]

_TOL = Tolerance(abs=1e-3)
_HINT = ("(保留 3 位以上小数,或填百分数)", "(at least 3 decimals, or a percentage)")
_NAMES = ("背景", "道路", "车辆"), ("background", "road", "car")


# --------------------------------------------------------------------------------------------
# Metrics from a pixel confusion matrix
# --------------------------------------------------------------------------------------------


def _cm_draw(draw: Draw) -> tuple[tuple[int, ...], ...]:
    """A 3x3 pixel confusion matrix (thousands of pixels), background-heavy."""
    return tuple(
        tuple(
            (draw.free(60, 95) if i == 0 else draw.free(8, 40))
            if i == j
            else draw.free(0, 9 if i == 0 else 12)
            for j in range(3)
        )
        for i in range(3)
    )


def _cm(p: Params) -> np.ndarray:
    return np.asarray(p["m"], dtype=np.int64)


def _cm_table(p: Params) -> tuple[str, str]:
    m = p["m"]
    zh = "\n".join(f"| {i}({_NAMES[0][i]}) | {m[i][0]} | {m[i][1]} | {m[i][2]} |" for i in range(3))
    en = "\n".join(
        f"| {i} ({_NAMES[1][i]}) | {m[i][0]} | {m[i][1]} | {m[i][2]} |" for i in range(3)
    )
    return (
        "语义分割模型在验证集上的像素混淆矩阵如下(单位:千像素;行 = 真实类别,列 = 预测类别):\n\n"
        f"| 真实 \\ 预测 | 0 | 1 | 2 |\n|---|---|---|---|\n{zh}\n\n",
        "A semantic-segmentation model's pixel confusion matrix on the validation set (thousands "
        "of pixels; rows = true class, columns = predicted class):\n\n"
        f"| true \\ predicted | 0 | 1 | 2 |\n|---|---|---|---|\n{en}\n\n",
    )


def _per_class(p: Params) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    m = _cm(p)
    return np.diag(m).astype(float), m.sum(axis=1).astype(float), m.sum(axis=0).astype(float)


def _mean_precision(p: Params) -> float:
    tp, _, pred = _per_class(p)
    return float(np.mean(tp / pred))


@register
class SegPixelAccuracy(Template):
    """Pixel accuracy or mean pixel accuracy from a 3-class confusion matrix."""

    id = "seg.pixel_accuracy"
    version = 1
    kind = AnswerKind.REAL
    ratio = True
    tolerance = _TOL
    real_format = ".4f"
    title = Bilingual(
        zh="分割的像素准确率与平均像素准确率", en="Pixel accuracy and mean pixel accuracy"
    )
    misconceptions = (
        mis(
            "pa_mpa_swapped",
            lambda p: (
                segmentation.segmentation_scores(_cm(p)).mean_pixel_accuracy
                if p["asked"] == "pa"
                else segmentation.segmentation_scores(_cm(p)).pixel_accuracy
            ),
            "PA 把所有像素合在一起算(对角线和 / 总数),会被背景这样的大类主导;mPA 先算每类的准确率再平均。"
            "你把两者弄反了。",
            "PA pools every pixel (diagonal over total) and is dominated by large classes such "
            "as background; mPA first computes each class's accuracy, then averages. You "
            "swapped them.",
        ),
        mis(
            "column_normalized",
            lambda p: _mean_precision(p) if p["asked"] == "mpa" else None,
            "类别准确率除以该类的真实像素数(行和),不是预测像素数(列和);按列算的是精确率。",
            "A class's accuracy divides by its true pixels (the row sum), not by the pixels "
            "predicted as it (the column sum); per column is precision.",
        ),
        mis(
            "miou_instead",
            lambda p: segmentation.segmentation_scores(_cm(p)).mean_iou,
            "这是 mIoU:分母是并集(行和 + 列和 − 对角元),准确率只除以真实像素数。",
            "That is mIoU, whose denominator is the union (row + column − diagonal); accuracy "
            "divides by the true pixels only.",
        ),
        mis(
            "over_errors",
            lambda p: (
                float(np.trace(_cm(p)) / (_cm(p).sum() - np.trace(_cm(p))))
                if p["asked"] == "pa"
                else None
            ),
            "分母是全部像素(含正确的),不是错误像素数。",
            "The denominator is all pixels (correct ones included), not the errors.",
        ),
    )

    def sample(self, draw: Draw) -> Params:
        """Draw a matrix and whether PA or mPA is asked."""
        return {"m": _cm_draw(draw), "asked": draw.pick("asked", ("pa", "mpa"))}

    def answer(self, p: Params) -> Value:
        """Return ``segmentation_scores``' PA or mPA."""
        s = segmentation.segmentation_scores(_cm(p))
        return s.pixel_accuracy if p["asked"] == "pa" else s.mean_pixel_accuracy

    def prompt(self, p: Params) -> Bilingual:
        """Render the matrix."""
        zh, en = _cm_table(p)
        what_zh = "像素准确率 PA" if p["asked"] == "pa" else "平均像素准确率 mPA"
        what_en = "pixel accuracy (PA)" if p["asked"] == "pa" else "mean pixel accuracy (mPA)"
        return Bilingual(
            zh=f"{zh}{what_zh}是多少?{_HINT[0]}", en=f"{en}What is the {what_en}? {_HINT[1]}"
        )

    def solution(self, p: Params, answer: Value) -> Bilingual:
        """Render the sums."""
        tp, true_n, _ = _per_class(p)
        if p["asked"] == "pa":
            f = (
                f"$$PA=\\frac{{{'+'.join(str(int(x)) for x in tp)}}}{{{int(true_n.sum())}}}"
                f"\\approx{answer:.4f}$$"
            )
            return Bilingual(
                zh=f"对角线(预测正确的像素)之和除以全部像素:\n{f}",
                en=f"The diagonal (correct pixels) over all pixels:\n{f}",
            )
        terms = "+".join(f"\\frac{{{int(a)}}}{{{int(b)}}}" for a, b in zip(tp, true_n, strict=True))
        f = f"$$mPA=\\frac{{1}}{{3}}\\left({terms}\\right)\\approx{answer:.4f}$$"
        return Bilingual(
            zh=f"每类:对角元除以该行之和(该类的真实像素数),再对 3 类求平均:\n{f}",
            en=f"Per class: the diagonal entry over its row sum (the class's true pixels), then "
            f"the mean over the 3 classes:\n{f}",
        )


def _weighted(p: Params, per_class: np.ndarray, *, by_pred: bool = False) -> float:
    _, true_n, pred_n = _per_class(p)
    w = (pred_n if by_pred else true_n) / true_n.sum()
    return float(np.sum(w * per_class))


def _avg(p: Params, per_class: np.ndarray) -> float:
    return float(np.mean(per_class)) if p["asked"] == "miou" else _weighted(p, per_class)


@register
class SegMiou(Template):
    """mIoU or frequency-weighted IoU from a 3-class confusion matrix."""

    id = "seg.miou"
    version = 1
    kind = AnswerKind.REAL
    ratio = True
    tolerance = _TOL
    real_format = ".4f"
    title = Bilingual(zh="分割的 mIoU 与 FWIoU", en="Segmentation mIoU and FWIoU")
    misconceptions = (
        mis(
            "recall_as_iou",
            lambda p: _avg(p, _per_class(p)[0] / _per_class(p)[1]),
            "IoU 的分母是并集:真实像素 + 预测像素 − 交集。只除以真实像素数得到的是类别准确率(召回率)。",
            "IoU divides by the union: true pixels + predicted pixels − intersection. Dividing "
            "by the true pixels alone gives the class accuracy (recall).",
        ),
        mis(
            "union_double_counted",
            lambda p: _avg(p, _per_class(p)[0] / (_per_class(p)[1] + _per_class(p)[2])),
            "行和与列和都包含对角元,相加后要减去一次交集,否则交集被算了两次。",
            "Both the row and the column sum contain the diagonal entry: subtract the "
            "intersection once, or it is counted twice.",
        ),
        mis(
            "dice_instead",
            lambda p: _avg(p, 2 * _per_class(p)[0] / (_per_class(p)[1] + _per_class(p)[2])),
            "这是 Dice(F1):$2TP/(T+P)$。IoU 是 $TP/(T+P-TP)$,总是不大于 Dice。",
            "That is Dice (F1), $2TP/(T+P)$. IoU is $TP/(T+P-TP)$, never larger than Dice.",
        ),
        mis(
            "other_average",
            lambda p: (
                segmentation.segmentation_scores(_cm(p)).fw_iou
                if p["asked"] == "miou"
                else segmentation.segmentation_scores(_cm(p)).mean_iou
            ),
            "mIoU 对各类等权平均;FWIoU 按各类真实像素所占比例加权。你用了另一种平均。",
            "mIoU weights every class equally; FWIoU weights each class by its share of the "
            "true pixels. You used the other average.",
        ),
        mis(
            "predicted_frequency",
            lambda p: (
                _weighted(p, segmentation.class_iou(_cm(p)), by_pred=True)
                if p["asked"] == "fwiou"
                else None
            ),
            "FWIoU 的权重是真实标注中各类像素的频率(行和),不是预测的频率(列和)。",
            "FWIoU's weights are the classes' frequencies in the ground truth (row sums), not "
            "in the prediction (column sums).",
        ),
    )

    def sample(self, draw: Draw) -> Params:
        """Draw a matrix and whether mIoU or FWIoU is asked."""
        return {"m": _cm_draw(draw), "asked": draw.pick("asked", ("miou", "fwiou"))}

    def answer(self, p: Params) -> Value:
        """Return ``segmentation_scores``' mIoU or FWIoU."""
        s = segmentation.segmentation_scores(_cm(p))
        return s.mean_iou if p["asked"] == "miou" else s.fw_iou

    def prompt(self, p: Params) -> Bilingual:
        """Render the matrix."""
        zh, en = _cm_table(p)
        what_zh = "mIoU" if p["asked"] == "miou" else "频率加权 IoU(FWIoU)"
        what_en = "mIoU" if p["asked"] == "miou" else "frequency-weighted IoU (FWIoU)"
        return Bilingual(
            zh=f"{zh}{what_zh}是多少?{_HINT[0]}", en=f"{en}What is the {what_en}? {_HINT[1]}"
        )

    def solution(self, p: Params, answer: Value) -> Bilingual:
        """Render the class IoUs and the average."""
        tp, true_n, pred_n = _per_class(p)
        iou = segmentation.class_iou(_cm(p))
        rows = "\n".join(
            f"| {i} | {int(tp[i])} | {int(true_n[i])} | {int(pred_n[i])} | "
            f"{int(true_n[i] + pred_n[i] - tp[i])} | {iou[i]:.4f} |"
            for i in range(3)
        )
        table = f"|---|---|---|---|---|---|\n{rows}"
        if p["asked"] == "miou":
            f = f"$$mIoU=\\frac{{1}}{{3}}({'+'.join(f'{x:.4f}' for x in iou)})\\approx{answer:.4f}$$"
            zh_tail, en_tail = "三类等权平均:", "Average the three classes equally:"
        else:
            n = int(true_n.sum())
            terms = "+".join(
                f"\\frac{{{int(t)}}}{{{n}}}\\cdot{x:.4f}" for t, x in zip(true_n, iou, strict=True)
            )
            f = f"$$FWIoU={terms}\\approx{answer:.4f}$$"
            zh_tail, en_tail = (
                "按真实像素占比加权:",
                "Weight each class by its share of true pixels:",
            )
        return Bilingual(
            zh="$IoU_i = TP_i/(行和_i + 列和_i - TP_i)$:\n\n| 类 | TP | 行和 | 列和 | 并集 | IoU |\n"
            f"{table}\n\n{zh_tail}\n{f}",
            en="$IoU_i = TP_i/(\\text{row}_i + \\text{col}_i - TP_i)$:\n\n| class | TP | row | "
            f"column | union | IoU |\n{table}\n\n{en_tail}\n{f}",
        )


# --------------------------------------------------------------------------------------------
# Dice
# --------------------------------------------------------------------------------------------


def _dice_parts(p: Params) -> tuple[float, float, float]:
    """Return (intersection, sum of areas, union) of the variant, normalized for from_iou."""
    if p["asked"] == "counts":
        i, a, b = p["inter"], p["a"], p["b"]
        return float(i), float(a + b), float(a + b - i)
    iou = p["iou"]
    return iou, 1.0 + iou, 1.0  # with union 1: I = IoU, |A| + |B| = U + I


@register
class SegDice(Template):
    """Dice coefficient from mask areas, or converted from IoU."""

    id = "seg.dice"
    version = 1
    kind = AnswerKind.REAL
    ratio = True
    tolerance = _TOL
    real_format = ".4f"
    title = Bilingual(
        zh="Dice 系数及其与 IoU 的换算", en="The Dice coefficient and its relation to IoU"
    )
    misconceptions = (
        mis(
            "iou_instead",
            lambda p: _dice_parts(p)[0] / _dice_parts(p)[2],
            "这是 IoU(交集 / 并集)。Dice 是 $2|A\\cap B|/(|A|+|B|)$,两者只在 0 和 1 处相等。",
            "That is IoU (intersection over union). Dice is $2|A\\cap B|/(|A|+|B|)$; the two "
            "agree only at 0 and 1.",
        ),
        mis(
            "no_factor_two",
            lambda p: _dice_parts(p)[0] / _dice_parts(p)[1],
            "分子要乘 2:交集在 $|A|+|B|$ 中被数了两次,否则完全重合时 Dice 只有 0.5。",
            "Multiply the numerator by 2: the intersection is counted twice in $|A|+|B|$, or a "
            "perfect overlap would score only 0.5.",
        ),
        mis(
            "twice_iou",
            lambda p: 2 * _dice_parts(p)[0] / _dice_parts(p)[2],
            "Dice 不是 2·IoU(那会超过 1):分母是两块面积之和,不是并集。换算式为 $D=2J/(1+J)$。",
            "Dice is not 2·IoU (that can exceed 1): its denominator is the sum of the areas, "
            "not the union. The conversion is $D=2J/(1+J)$.",
        ),
    )

    def sample(self, draw: Draw) -> Params:
        """Draw mask areas and their overlap, or an IoU."""
        asked = draw.pick("asked", ("counts", "counts", "from_iou"))
        if asked == "from_iou":
            return {"asked": asked, "iou": draw.real("iou", 0.3, 0.9, 2)}
        a = draw.integer("area_true", 400, 2000)
        b = draw.integer("area_pred", 400, 2000)
        inter = draw.free(min(a, b) // 3, min(a, b) * 9 // 10)
        return {"asked": asked, "a": a, "b": b, "inter": inter}

    def answer(self, p: Params) -> Value:
        """Return ``dice_from_counts`` or ``dice_from_iou``."""
        if p["asked"] == "from_iou":
            return segmentation.dice_from_iou(p["iou"])
        return segmentation.dice_from_counts(p["inter"], p["a"], p["b"])

    def prompt(self, p: Params) -> Bilingual:
        """Render the areas or the IoU."""
        if p["asked"] == "from_iou":
            return Bilingual(
                zh=f"一个预测掩码与真实掩码的 IoU(Jaccard)为 {num(p['iou'])}。它们的 Dice 系数是多少?"
                f"{_HINT[0]}",
                en=f"A predicted mask has IoU (Jaccard) {num(p['iou'])} with the ground-truth "
                f"mask. What is their Dice coefficient? {_HINT[1]}",
            )
        return Bilingual(
            zh=f"某器官的真实掩码有 {p['a']} 个像素,预测掩码有 {p['b']} 个像素,两者重叠 "
            f"{p['inter']} 个像素。Dice 系数是多少?{_HINT[0]}",
            en=f"An organ's ground-truth mask has {p['a']} pixels, the predicted mask {p['b']}, "
            f"and they overlap on {p['inter']}. What is the Dice coefficient? {_HINT[1]}",
        )

    def solution(self, p: Params, answer: Value) -> Bilingual:
        """Render the formula."""
        if p["asked"] == "from_iou":
            j = num(p["iou"])
            f = f"$$D=\\frac{{2J}}{{1+J}}=\\frac{{2\\cdot{j}}}{{1+{j}}}\\approx{answer:.4f}$$"
            return Bilingual(
                zh="设并集为 1,则交集为 $J$,两块面积之和 = 并集 + 交集 = $1+J$:\n" + f,
                en="Take the union as 1: the intersection is $J$ and the two areas add up to "
                "union + intersection $= 1+J$:\n" + f,
            )
        f = (
            f"$$D=\\frac{{2|A\\cap B|}}{{|A|+|B|}}=\\frac{{2\\cdot{p['inter']}}}{{{p['a']}+{p['b']}}}"
            f"\\approx{answer:.4f}$$"
        )
        return Bilingual(zh=f"Dice 即像素级 F1:\n{f}", en=f"Dice is the pixel-level F1 score:\n{f}")


# --------------------------------------------------------------------------------------------
# U-Net sizes
# --------------------------------------------------------------------------------------------

_UNET_INPUTS = tuple(s for s in range(188, 1101, 4) if s % 16 == 12)  # 572 = 16 * 35 + 12


def _unet(p: Params, **kw: int) -> segmentation.UNetSizes:
    return segmentation.unet_valid_sizes(p["size"], **kw)


def _one_conv_output(size: int) -> int:
    """The output if each level had one valid 3x3 conv (pooling rounds down)."""
    n = size
    for _ in range(4):
        n = (n - 2) // 2
    n -= 2
    for _ in range(4):
        n = 2 * n - 2
    return n


_UNET_RULES = (
    "原始 U-Net:每层两个无填充(valid)的 3×3 卷积 + ReLU,2×2 最大池化下采样,共 4 次池化;解码器每层先 2×2 "
    "步长 2 的上卷积,再把编码器同层特征图中心裁剪后拼接,再做两个无填充 3×3 卷积。",
    "The original U-Net: each level has two unpadded (valid) 3×3 convolutions + ReLU, 2×2 max "
    "pooling down, 4 poolings in all; each decoder level first applies a 2×2 stride-2 "
    "up-convolution, concatenates the centre-cropped encoder map of its level, then applies two "
    "unpadded 3×3 convolutions.",
)


def _unet_walk(s: segmentation.UNetSizes, size: int) -> tuple[str, str]:
    enc = " → ".join(
        f"{e}" + (f" ↓ {e // 2}" if i < len(s.encoder) else "") for i, e in enumerate(s.encoder, 1)
    )
    dec = " → ".join(
        f"↑{u} → {d}" for u, d in zip(reversed(s.up), reversed(s.decoder), strict=True)
    )
    chain = f"$${size}\\to$$ {enc} → {s.bottom} → {dec}"
    return (
        f"每个 valid 3×3 卷积边长减 2,一层两个卷积减 4;池化减半,上卷积加倍:\n\n{chain}",
        f"Each valid 3×3 convolution removes 2 pixels, two per level remove 4; pooling halves, "
        f"up-convolution doubles:\n\n{chain}",
    )


@register
class SegUnetOutput(Template):
    """Output side of the original (valid-convolution) U-Net."""

    id = "seg.unet_output"
    version = 1
    kind = AnswerKind.INTEGER
    title = Bilingual(zh="原始 U-Net 的输出尺寸", en="Output size of the original U-Net")
    misconceptions = (
        mis(
            "same_padding",
            lambda p: p["size"],
            "原始 U-Net 的卷积不加填充,每个 3×3 卷积都让边长减 2,输出比输入小;输出等于输入是加了 padding 的现代实现。",
            "The original U-Net's convolutions are unpadded: every 3×3 conv removes 2 pixels, "
            "so the output is smaller than the input; output = input is the padded modern "
            "variant.",
        ),
        mis(
            "one_conv_per_level",
            lambda p: _one_conv_output(p["size"]),
            "每一层(编码器、瓶颈、解码器)都有两个 3×3 卷积,每层减 4 而不是 2。",
            "Every level (encoder, bottleneck, decoder) has two 3×3 convs: 4 pixels per level, "
            "not 2.",
        ),
        mis(
            "no_last_convs",
            lambda p: _unet(p).up[0],
            "最后一次上卷积之后还有该层的两个 3×3 卷积(再减 4),然后才是 1×1 输出卷积。",
            "After the last up-convolution come that level's two 3×3 convs (4 more pixels) "
            "before the 1×1 output conv.",
        ),
        mis(
            "encoder_only",
            lambda p: _unet(p).bottom * 16,
            "解码器的卷积同样不填充:不能只把瓶颈尺寸乘 16,每次上卷积后还要减 4。",
            "The decoder's convs are unpadded too: do not just multiply the bottleneck by 16; "
            "subtract 4 after every up-convolution.",
        ),
    )

    def sample(self, draw: Draw) -> Params:
        """Draw a valid input side (572 often)."""
        return {"size": draw.pick("size", (572, 572, *_UNET_INPUTS))}

    def answer(self, p: Params) -> Value:
        """Return ``unet_valid_sizes(size).output``."""
        return _unet(p).output

    def prompt(self, p: Params) -> Bilingual:
        """Render the architecture."""
        return Bilingual(
            zh=f"{_UNET_RULES[0]}\n\n输入 ${p['size']}\\times{p['size']}$ 的图像块,输出分割图的边长是多少?",
            en=f"{_UNET_RULES[1]}\n\nFor a ${p['size']}\\times{p['size']}$ input tile, what is "
            "the side of the output segmentation map?",
        )

    def solution(self, p: Params, answer: Value) -> Bilingual:
        """Render the size chain."""
        zh, en = _unet_walk(_unet(p), p["size"])
        cut = p["size"] - _unet(p).output
        return Bilingual(
            zh=f"{zh}\n\n输出 {answer}×{answer},比输入小 {cut}(每边 "
            f"{cut // 2}):这就是 overlap-tile 需要镜像外扩的边距。",
            en=f"{en}\n\nThe output is {answer}×{answer}, {cut} smaller "
            f"than the input ({cut // 2} per side): the margin the "
            "overlap-tile strategy fills by mirroring.",
        )


@register
class SegUnetCrop(Template):
    """Skip-connection crop of the original U-Net: (encoder side, cropped side) at a level."""

    id = "seg.unet_crop"
    version = 1
    kind = AnswerKind.TUPLE
    title = Bilingual(zh="U-Net 跳跃连接的裁剪尺寸", en="U-Net skip-connection crop")
    misconceptions = (
        mis(
            "padded_no_crop",
            lambda p: (p["size"] >> (p["level"] - 1),) * 2,
            "原始 U-Net 不填充,编码器特征图比解码器上采样后的大,所以才需要裁剪;两者相等是 padding 版本。",
            "The original U-Net is unpadded: the encoder map is larger than the upsampled "
            "decoder map, which is why it is cropped; equal sizes belong to the padded variant.",
        ),
        mis(
            "crop_to_decoder_output",
            lambda p: (
                _unet(p).encoder[p["level"] - 1],
                _unet(p).decoder[p["level"] - 1],
            ),
            "裁剪的目标是上卷积刚输出的特征图(拼接发生在该层的 3×3 卷积之前),不是该层卷积之后的尺寸。",
            "The crop target is the map straight out of the up-convolution (concatenation comes "
            "before that level's 3×3 convs), not the size after them.",
        ),
        mis(
            "before_encoder_convs",
            lambda p: (
                _unet(p).encoder[p["level"] - 1] + 4,
                _unet(p).up[p["level"] - 1],
            ),
            "跳跃连接取的是编码器该层两个卷积之后、池化之前的特征图,不是该层的输入。",
            "The skip takes the encoder map after the level's two convs, just before pooling, "
            "not the level's input.",
        ),
    )

    def sample(self, draw: Draw) -> Params:
        """Draw an input side and a level 1-4 (1 = full resolution)."""
        return {
            "size": draw.pick("size", (572, 572, *_UNET_INPUTS)),
            "level": draw.integer("level", 1, 4),
        }

    def answer(self, p: Params) -> Value:
        """Return (encoder[level], up[level]) of ``unet_valid_sizes``."""
        s = _unet(p)
        if not 1 <= p["level"] <= len(s.encoder):
            raise ValueError("level must be from 1 to 4")
        return (s.encoder[p["level"] - 1], s.up[p["level"] - 1])

    def prompt(self, p: Params) -> Bilingual:
        """Render the architecture and the level."""
        lv = p["level"]
        return Bilingual(
            zh=f"{_UNET_RULES[0]}\n\n输入 ${p['size']}\\times{p['size']}$。第 {lv} 层(第 1 层为全分辨率)的跳跃连接:"
            "编码器特征图边长是多少,它被中心裁剪成多大?按 (编码器边长, 裁剪后边长) 输入。",
            en=f"{_UNET_RULES[1]}\n\nThe input is ${p['size']}\\times{p['size']}$. At the skip "
            f"connection of level {lv} (level 1 is full resolution), what side does the encoder "
            "map have, and to what side is it centre-cropped? Enter (encoder side, cropped side).",
        )

    def solution(self, p: Params, answer: Value) -> Bilingual:
        """Render the size chain and the crop."""
        zh, en = _unet_walk(_unet(p), p["size"])
        assert isinstance(answer, tuple)
        e, u = answer
        return Bilingual(
            zh=f"{zh}\n\n第 {p['level']} 层编码器输出 {e},解码器上卷积到达该层时为 {u},"
            f"所以每边裁掉 {(e - u) // 2} 像素:答案 ({e}, {u})。",
            en=f"{en}\n\nLevel {p['level']}'s encoder outputs {e}; the decoder's up-convolution "
            f"reaches that level at {u}, so {(e - u) // 2} pixels are cropped per side: ({e}, {u}).",
        )


# --------------------------------------------------------------------------------------------
# DeepLab ASPP and PSPNet pooling
# --------------------------------------------------------------------------------------------


@register
class SegAspp(Template):
    """Feature side at an output stride, and the field of an ASPP branch there."""

    id = "seg.aspp"
    version = 1
    kind = AnswerKind.TUPLE
    title = Bilingual(
        zh="DeepLab 的输出步长与 ASPP 分支视野", en="DeepLab output stride and ASPP field"
    )
    misconceptions = (
        mis(
            "floor_size",
            lambda p: (p["size"] // p["os"], 2 * p["_rate"] + 1),
            "骨干网络每次步长 2 的下采样输出 $\\lceil n/2\\rceil$,累计为 $\\lceil n/OS\\rceil$,是向上取整。",
            "Every stride-2 stage outputs $\\lceil n/2\\rceil$, so the backbone gives "
            "$\\lceil n/OS\\rceil$: round up.",
            absorbable=True,
        ),
        mis(
            "rate_not_scaled",
            lambda p: (-(-p["size"] // p["os"]), 2 * p["base"] + 1) if p["os"] != 16 else None,
            "(6, 12, 18) 是在 OS=16 下设定的;OS=8 时特征图分辨率加倍,空洞率也要加倍才能保持相同的图像视野。",
            "(6, 12, 18) are set for OS = 16; at OS = 8 the feature map has twice the "
            "resolution, so the rates double to keep the same field of view in the image.",
        ),
        mis(
            "kernel_times_rate",
            lambda p: (-(-p["size"] // p["os"]), 3 * p["_rate"]),
            "有效核尺寸是 $k+(k-1)(r-1)$,3×3 时为 $2r+1$,不是 $3r$。",
            "The effective kernel is $k+(k-1)(r-1)$, $2r+1$ for 3×3, not $3r$.",
        ),
        mis(
            "span_without_tap",
            lambda p: (-(-p["size"] // p["os"]), 2 * p["_rate"]),
            "$r(k-1)$ 只是两端采样点之间的距离,还要加上一个像素:$r(k-1)+1$。",
            "$r(k-1)$ is only the distance between the end taps; add one pixel: $r(k-1)+1$.",
        ),
    )

    def sample(self, draw: Draw) -> Params:
        """Draw the input side, output stride and the branch."""
        size = draw.pick("size", (513, 513, 321, 769, 480, 520, 641))
        os_ = draw.pick("output_stride", (8, 8, 16))
        base = draw.pick("base_rate", segmentation.DEEPLABV3_ASPP_RATES_OS16)
        return {
            "size": size,
            "os": os_,
            "base": base,
            "_rate": segmentation.aspp_rates(os_, (base,))[0],
        }

    def answer(self, p: Params) -> Value:
        """Return (output_stride_size, atrous_field(3, rate))."""
        return (
            segmentation.output_stride_size(p["size"], p["os"]),
            segmentation.atrous_field(3, p["_rate"]),
        )

    def prompt(self, p: Params) -> Bilingual:
        """Render the setting."""
        s, os_, b = p["size"], p["os"], p["base"]
        return Bilingual(
            zh=f"DeepLabv3(ResNet 骨干,空洞卷积代替最后几层的下采样)输入 ${s}\\times{s}$,输出步长 OS = {os_}。"
            "论文中 ASPP 的三个 3×3 分支在 OS = 16 时的空洞率为 (6, 12, 18),换 OS 时按比例缩放。"
            f"在 OS=16 时空洞率为 {b} 的那个分支:骨干输出特征图的边长是多少?该分支在特征图上的有效核尺寸是多少?"
            "按 (特征图边长, 有效核尺寸) 输入。",
            en=f"DeepLabv3 (ResNet backbone, atrous convolution instead of the last "
            f"downsamplings) gets a ${s}\\times{s}$ input at output stride OS = {os_}. The "
            "paper's three 3×3 ASPP branches use rates (6, 12, 18) at OS = 16, scaled in "
            f"proportion at another OS. For the branch whose rate is {b} at OS = 16: what is "
            "the side of the backbone's output map, and what is the branch's effective kernel "
            "size on that map? Enter (map side, effective kernel).",
        )

    def solution(self, p: Params, answer: Value) -> Bilingual:
        """Render both steps."""
        assert isinstance(answer, tuple)
        s, os_, b, r = p["size"], p["os"], p["base"], p["_rate"]
        f1 = f"$$\\lceil {s}/{os_}\\rceil={answer[0]}$$"
        f2 = f"$$r={b}\\cdot 16/{os_}={r},\\quad k_{{eff}}=3+2(r-1)={answer[1]}$$"
        return Bilingual(
            zh=f"特征图边长:{f1}\n空洞率随 16/OS 缩放,3×3 核的有效尺寸为 $2r+1$:{f2}\n"
            f"若有效核接近或超过特征图边长,大部分采样点落在填充区,分支退化为 1×1,这正是 v3 加入图像级池化分支的原因。",
            en=f"Map side: {f1}\nThe rate scales by 16/OS and a 3×3 kernel spans $2r+1$: {f2}\n"
            "When the field nears or exceeds the map side, most taps fall on padding and the "
            "branch degenerates to a 1×1 conv: the reason v3 adds an image-pooling branch.",
        )


def _lengths(windows: tuple[tuple[int, int], ...]) -> tuple[int, ...]:
    return tuple(e - s for s, e in windows)


@register
class SegPspWindows(Template):
    """Window lengths of PyTorch adaptive pooling for one PSPNet pyramid level."""

    id = "seg.psp_windows"
    version = 1
    kind = AnswerKind.TUPLE
    title = Bilingual(zh="PSPNet 金字塔池化的窗口", en="PSPNet pyramid-pooling windows")
    misconceptions = (
        mis(
            "uniform_floor",
            lambda p: (p["f"] // p["bins"],) * p["bins"],
            "自适应池化的窗口是 $[\\lfloor iF/b\\rfloor, \\lceil (i+1)F/b\\rceil)$,不整除时窗口会重叠、长度不一,不是统一的 ⌊F/b⌋。",
            "Adaptive pooling's windows are $[\\lfloor iF/b\\rfloor, \\lceil (i+1)F/b\\rceil)$; "
            "when b does not divide F they overlap and differ in length, not a uniform ⌊F/b⌋.",
        ),
        mis(
            "uniform_ceil",
            lambda p: (-(-p["f"] // p["bins"]),) * p["bins"],
            "不是每个窗口都取 ⌈F/b⌉:窗口起点向下取整、终点向上取整,长度逐个计算。",
            "Not every window is ⌈F/b⌉ long: starts round down and ends round up, window by "
            "window.",
        ),
        mis(
            "fixed_kernel",
            lambda p: (p["f"] - (p["bins"] - 1) * (p["f"] // p["bins"]),) * p["bins"],
            "“步长 ⌊F/b⌋、核 F−(b−1)⌊F/b⌋”是用固定池化层近似自适应池化的做法(如导出 ONNX 时),不是 PyTorch 的定义。",
            "Stride ⌊F/b⌋ with kernel F−(b−1)⌊F/b⌋ approximates adaptive pooling with a fixed "
            "pooling layer (as some exports do); it is not PyTorch's definition.",
        ),
    )

    def sample(self, draw: Draw) -> Params:
        """Draw a feature side and a bin count."""
        return {
            "f": draw.pick("feature", (65, 33, 61, 97, 45, 129, 50, 64)),
            "bins": draw.pick("bins", (2, 3, 6, 6)),
        }

    def answer(self, p: Params) -> Value:
        """Return the window lengths of ``adaptive_pool_windows``."""
        if p["f"] % p["bins"] == 0:
            raise ValueError("the bins divide the map evenly: nothing to ask")
        return _lengths(segmentation.adaptive_pool_windows(p["f"], p["bins"]))

    def prompt(self, p: Params) -> Bilingual:
        """Render the level."""
        f, b = p["f"], p["bins"]
        return Bilingual(
            zh=f"PSPNet 的金字塔池化模块用 `nn.AdaptiveAvgPool2d({b})` 把 ${f}\\times{f}$ 的特征图池化成 "
            f"${b}\\times{b}$。沿一个方向,{b} 个池化窗口各覆盖多少个位置?按顺序输入元组,如 (11, 12, ...)。",
            en=f"PSPNet's pyramid pooling module pools a ${f}\\times{f}$ feature map to "
            f"${b}\\times{b}$ with `nn.AdaptiveAvgPool2d({b})`. Along one axis, how many "
            f"positions does each of the {b} windows cover? Enter them in order, e.g. (11, 12, ...).",
        )

    def solution(self, p: Params, answer: Value) -> Bilingual:
        """Render each window."""
        f, b = p["f"], p["bins"]
        ws = segmentation.adaptive_pool_windows(f, b)
        rows = "\n".join(
            f"| {i} | ⌊{i}·{f}/{b}⌋ = {s} | ⌈{i + 1}·{f}/{b}⌉ = {e} | {e - s} |"
            for i, (s, e) in enumerate(ws)
        )
        return Bilingual(
            zh=f"第 $i$ 个窗口为 $[\\lfloor iF/b\\rfloor, \\lceil (i+1)F/b\\rceil)$:\n\n"
            f"| i | 起点 | 终点 | 长度 |\n|---|---|---|---|\n{rows}\n\n答案 {answer}。",
            en="Window $i$ is $[\\lfloor iF/b\\rfloor, \\lceil (i+1)F/b\\rceil)$:\n\n"
            f"| i | start | end | length |\n|---|---|---|---|\n{rows}\n\nAnswer: {answer}.",
        )


# --------------------------------------------------------------------------------------------
# Classic CV
# --------------------------------------------------------------------------------------------


def _round_half_up(x: float) -> int:
    return math.floor(x + 0.5)


def _cdf(p: Params, upto: int) -> int:
    return sum(p["hist"][: upto + 1])


@register
class CvHistEqualization(Template):
    """Output level of one grey level after histogram equalization."""

    id = "cv.hist_equalization"
    version = 1
    kind = AnswerKind.INTEGER
    title = Bilingual(zh="直方图均衡化后的灰度级", en="Grey level after histogram equalization")
    misconceptions = (
        mis(
            "pdf_not_cdf",
            lambda p: _round_half_up(7 * p["hist"][p["r"]] / p["n"]),
            "映射用的是累积分布 CDF(从 0 到 r 的所有像素),不是 r 这一级自己的比例。",
            "The mapping uses the cumulative distribution (all pixels from 0 to r), not level "
            "r's own share.",
        ),
        mis(
            "times_levels",
            lambda p: _round_half_up(8 * _cdf(p, p["r"]) / p["n"]),
            "乘的是最大灰度级 L−1 = 7,不是级数 L = 8;否则最亮级会映射到 8,超出范围。",
            "Multiply by the top level L−1 = 7, not by the level count L = 8, which would map "
            "the brightest level to 8, out of range.",
        ),
        mis(
            "exclusive_cdf",
            lambda p: _round_half_up(7 * _cdf(p, p["r"] - 1) / p["n"]) if p["r"] > 0 else None,
            "CDF 包含 r 这一级本身:$\\sum_{k\\le r} n_k$。",
            "The CDF includes level r itself: $\\sum_{k\\le r} n_k$.",
        ),
        mis(
            "floor",
            lambda p: math.floor(7 * _cdf(p, p["r"]) / p["n"]),
            "结果要四舍五入到最近的整数灰度级,不是向下取整。",
            "Round to the nearest integer level, not down.",
            absorbable=True,
        ),
    )

    def sample(self, draw: Draw) -> Params:
        """Draw a 3-bit histogram of a 64x64 image, skewed dark, and a level."""
        weights = [draw.free(1, 10) * (8 - k) for k in range(8)]
        total = sum(weights)
        hist = [max(1, round(4096 * w / total)) for w in weights]
        hist[0] += 4096 - sum(hist)
        return {"hist": tuple(hist), "n": 4096, "r": draw.integer("level", 0, 6)}

    def answer(self, p: Params) -> Value:
        """Return ``equalize_levels(hist)[r]``."""
        x = 7 * _cdf(p, p["r"]) / p["n"]
        if abs(x - math.floor(x) - 0.5) < 0.02:
            raise ValueError("too close to a rounding tie")
        return int(imageproc.equalize_levels(np.asarray(p["hist"], dtype=np.int64))[p["r"]])

    def prompt(self, p: Params) -> Bilingual:
        """Render the histogram."""
        heads = " | ".join(str(k) for k in range(8))
        counts = " | ".join(str(c) for c in p["hist"])
        table = f"| $r_k$ | {heads} |\n|---|{'---|' * 8}\n| $n_k$ | {counts} |"
        return Bilingual(
            zh=f"一幅 64×64(N = {num(p['n'])} 像素)、3 位(L = 8 级)的灰度图像,各灰度级的像素数如下:\n\n{table}\n\n"
            f"用 $s_k=\\mathrm{{round}}\\big((L-1)\\sum_{{j\\le k}} n_j/N\\big)$ 做直方图均衡化后,灰度级 {p['r']} 映射为多少?",
            en=f"A 64×64 (N = {num(p['n'])} pixels), 3-bit (L = 8 levels) grey image has these level counts:\n\n{table}\n\n"
            f"After histogram equalization $s_k=\\mathrm{{round}}\\big((L-1)\\sum_{{j\\le k}} "
            f"n_j/N\\big)$, what level does {p['r']} map to?",
        )

    def solution(self, p: Params, answer: Value) -> Bilingual:
        """Render the CDF sum."""
        r = p["r"]
        c = _cdf(p, r)
        terms = "+".join(str(x) for x in p["hist"][: r + 1])
        f = f"$$s_{{{r}}}=\\mathrm{{round}}\\Big(7\\cdot\\frac{{{terms}}}{{4096}}\\Big)=\\mathrm{{round}}({7 * c / 4096:.3f})={answer}$$"
        return Bilingual(
            zh=f"累积到第 {r} 级的像素数为 {c}:\n{f}",
            en=f"The pixels up to level {r} number {c}:\n{f}",
        )


@register
class CvSobel(Template):
    """Sobel gradients at the centre of a 3x3 patch."""

    id = "cv.sobel"
    version = 1
    kind = AnswerKind.TUPLE
    title = Bilingual(zh="Sobel 算子的梯度响应", en="Sobel gradient response")
    misconceptions = (
        mis(
            "flipped_kernel",
            lambda p: tuple(-int(g) for g in imageproc.sobel_gradients(p["patch"])),
            "按题目的写法直接相乘求和(互相关,核不翻转);把核翻转 180° 的卷积会让反对称的 Sobel 核结果变号。",
            "Multiply and sum as written (cross-correlation, no flip); flipping the kernel by "
            "180°, as true convolution does, negates an antisymmetric Sobel kernel's response.",
        ),
        mis(
            "prewitt_weights",
            lambda p: (
                int(imageproc.correlate2d_valid(p["patch"], imageproc.PREWITT_X)[0, 0]),
                int(imageproc.correlate2d_valid(p["patch"], imageproc.PREWITT_X.T)[0, 0]),
            ),
            "Sobel 的中间行(列)权重为 2(先平滑再差分),全取 1 的是 Prewitt 算子。",
            "Sobel weights the middle row (column) by 2 (smoothing, then differencing); all "
            "ones is the Prewitt operator.",
        ),
        mis(
            "axes_swapped",
            lambda p: tuple(int(g) for g in reversed(imageproc.sobel_gradients(p["patch"]))),
            "$G_x$ 是水平方向(列)的差分,响应竖直边缘;$G_y$ 是竖直方向(行)的差分。",
            "$G_x$ differences along the columns (horizontal) and responds to vertical edges; "
            "$G_y$ differences along the rows.",
        ),
    )

    def sample(self, draw: Draw) -> Params:
        """Draw a 3x3 patch with an edge in it."""
        base = [[draw.free(0, 9) for _ in range(3)] for _ in range(3)]
        step = draw.free(3, 9)
        col = draw.uniform() < 0.5
        patch = tuple(
            tuple(base[i][j] + step * ((j if col else i) >= 1 + draw.free(0, 1)) for j in range(3))
            for i in range(3)
        )
        return {"patch": patch}

    def answer(self, p: Params) -> Value:
        """Return ``sobel_gradients`` as integers."""
        gx, gy = imageproc.sobel_gradients(p["patch"])
        if gx == 0 or gy == 0 or abs(gx) == abs(gy):
            raise ValueError("a zero or symmetric gradient makes the mistakes invisible")
        return (int(gx), int(gy))

    def prompt(self, p: Params) -> Bilingual:
        """Render the patch and kernels."""
        rows = "\n".join("| " + " | ".join(str(v) for v in row) + " |" for row in p["patch"])
        patch = f"| | | |\n|---|---|---|\n{rows}"
        kx = "\\begin{bmatrix}-1&0&1\\\\-2&0&2\\\\-1&0&1\\end{bmatrix}"
        ky = "\\begin{bmatrix}-1&-2&-1\\\\0&0&0\\\\1&2&1\\end{bmatrix}"
        return Bilingual(
            zh=f"灰度图像的一个 3×3 邻域(行向下、列向右):\n\n{patch}\n\n用 Sobel 核 $K_x={kx}$、$K_y={ky}$ "
            "在中心像素处做逐元素相乘再求和(深度学习框架中的“卷积”,即互相关)。$(G_x, G_y)$ 是多少?",
            en=f"A 3×3 neighbourhood of a grey image (rows go down, columns right):\n\n{patch}\n\n"
            f"Apply the Sobel kernels $K_x={kx}$ and $K_y={ky}$ at the centre pixel by "
            'element-wise multiply and sum (a deep-learning framework\'s "convolution", i.e. '
            "cross-correlation). What is $(G_x, G_y)$?",
        )

    def solution(self, p: Params, answer: Value) -> Bilingual:
        """Render both sums."""
        m = p["patch"]
        gx = f"G_x=({m[0][2]}-{m[0][0]})+2({m[1][2]}-{m[1][0]})+({m[2][2]}-{m[2][0]})"
        gy = f"G_y=({m[2][0]}-{m[0][0]})+2({m[2][1]}-{m[0][1]})+({m[2][2]}-{m[0][2]})"
        assert isinstance(answer, tuple)
        mag = math.hypot(*answer)
        f = f"$${gx}={answer[0]},\\quad {gy}={answer[1]}$$"
        return Bilingual(
            zh=f"$K_x$ 是右列减左列(中间行权重 2),$K_y$ 是下行减上行:\n{f}\n梯度幅值 $\\sqrt{{G_x^2+G_y^2}}\\approx{mag:.2f}$。",
            en=f"$K_x$ is right column minus left (middle row weighted 2), $K_y$ bottom row "
            f"minus top:\n{f}\nThe gradient magnitude is $\\sqrt{{G_x^2+G_y^2}}\\approx{mag:.2f}$.",
        )


def _corners(p: Params) -> tuple[float, float, float, float]:
    """Return (top-left, top-right, bottom-left, bottom-right) around the point."""
    q = p["q"]
    return q[0][0], q[0][1], q[1][0], q[1][1]


def _weighted_corners(p: Params, a: float, b: float) -> float:
    """Bilinear weights with horizontal fraction ``a`` and vertical fraction ``b``."""
    tl, tr, bl, br = _corners(p)
    return (1 - a) * (1 - b) * tl + a * (1 - b) * tr + (1 - a) * b * bl + a * b * br


@register
class CvBilinear(Template):
    """Bilinear interpolation inside one 2x2 cell."""

    id = "cv.bilinear"
    version = 1
    kind = AnswerKind.REAL
    tolerance = Tolerance(abs=0.01)
    real_format = ".3f"
    title = Bilingual(zh="双线性插值", en="Bilinear interpolation")
    misconceptions = (
        mis(
            "nearest_neighbour",
            lambda p: float(p["q"][round(p["b"])][round(p["a"])]),
            "这是最近邻插值的结果;双线性要按到四个像素的距离加权。",
            "That is nearest-neighbour interpolation; bilinear weights all four pixels by "
            "distance.",
        ),
        mis(
            "plain_average",
            lambda p: sum(_corners(p)) / 4,
            "四个像素的权重不相等:离采样点越近的像素权重越大,权重是 $(1-a)(1-b)$、$a(1-b)$ 等。",
            "The four weights are not equal: nearer pixels weigh more, with weights "
            "$(1-a)(1-b)$, $a(1-b)$ and so on.",
        ),
        mis(
            "weights_swapped",
            lambda p: _weighted_corners(p, 1 - p["a"], 1 - p["b"]),
            "权重是到**对面**像素的距离:离左上角的水平距离为 $a$ 时,左上角的权重含 $(1-a)$,不是 $a$。",
            "Each weight is the distance to the **opposite** pixel: at horizontal distance $a$ "
            "from the top-left pixel, its weight carries $(1-a)$, not $a$.",
        ),
        mis(
            "axes_swapped",
            lambda p: _weighted_corners(p, p["b"], p["a"]),
            "$x$ 是列(水平)方向、$y$ 是行(竖直)方向;你把两个方向的小数部分用反了。",
            "$x$ runs along the columns (horizontal), $y$ along the rows (vertical); you "
            "swapped the two fractions.",
        ),
    )

    def sample(self, draw: Draw) -> Params:
        """Draw a 2x2 cell of grey values and a point inside it."""
        q = (
            (draw.free(0, 25) * 10, draw.free(0, 25) * 10),
            (draw.free(0, 25) * 10, draw.free(0, 25) * 10),
        )
        x0, y0 = draw.free(10, 200), draw.free(10, 200)
        a = draw.pick("a", (0.1, 0.2, 0.25, 0.3, 0.4, 0.6, 0.7, 0.75, 0.8, 0.9))
        b = draw.pick("b", (0.1, 0.2, 0.25, 0.3, 0.4, 0.6, 0.7, 0.75, 0.8, 0.9))
        return {"q": q, "x0": x0, "y0": y0, "a": a, "b": b}

    def answer(self, p: Params) -> Value:
        """Return ``imageproc.bilinear_sample`` at the point."""
        if not (0 < p["a"] < 1 and 0 < p["b"] < 1):
            raise ValueError("the point must lie strictly inside the cell")
        if len(set(_corners(p))) < 4:
            raise ValueError("equal corners hide the mistakes")
        return imageproc.bilinear_sample(p["q"], p["a"], p["b"])

    def prompt(self, p: Params) -> Bilingual:
        """Render the cell and the point."""
        (tl, tr), (bl, br) = p["q"]
        x0, y0, a, b = p["x0"], p["y0"], p["a"], p["b"]
        x, y = round(x0 + a, 2), round(y0 + b, 2)
        table = (
            f"| | $x={x0}$ | $x={x0 + 1}$ |\n|---|---|---|\n| $y={y0}$ | {tl} | {tr} |\n"
            f"| $y={y0 + 1}$ | {bl} | {br} |"
        )
        return Bilingual(
            zh=f"灰度图中四个相邻像素的值如下($x$ 为列、向右增大,$y$ 为行、向下增大,像素中心在整数坐标):\n\n{table}\n\n"
            f"用双线性插值求位置 $(x, y)=({x}, {y})$ 处的灰度值(小数部分 $a={num(a)}$,$b={num(b)}$)。",
            en="Four neighbouring pixels of a grey image ($x$ is the column, growing right; $y$ "
            "the row, growing down; pixel centres at integer coordinates):\n\n"
            f"{table}\n\nBy bilinear interpolation, what is the value at $(x, y)=({x}, {y})$ "
            f"(fractional parts $a={num(a)}$, $b={num(b)}$)?",
        )

    def solution(self, p: Params, answer: Value) -> Bilingual:
        """Render the two horizontal passes and the vertical one."""
        (tl, tr), (bl, br) = p["q"]
        a, b = num(p["a"]), num(p["b"])
        top = (1 - p["a"]) * tl + p["a"] * tr
        bottom = (1 - p["a"]) * bl + p["a"] * br
        f = (
            f"$$f_{{top}}=(1-{a})\\cdot{tl}+{a}\\cdot{tr}={top:.3f},\\quad "
            f"f_{{bottom}}=(1-{a})\\cdot{bl}+{a}\\cdot{br}={bottom:.3f}$$\n"
            f"$$f=(1-{b})\\cdot{top:.3f}+{b}\\cdot{bottom:.3f}\\approx{answer:.3f}$$"
        )
        return Bilingual(
            zh=f"先沿 $x$ 方向在上下两行各做一次线性插值,再沿 $y$ 方向插值:\n{f}",
            en=f"Interpolate along $x$ in the top and bottom rows, then along $y$:\n{f}",
        )


@register
class SegPanopticQuality(Template):
    """Panoptic quality of one class from its matches and unmatched segments."""

    id = "seg.panoptic_quality"
    version = 1
    kind = AnswerKind.REAL
    ratio = True
    tolerance = _TOL
    real_format = ".4f"
    title = Bilingual(zh="全景质量 PQ", en="Panoptic quality (PQ)")
    misconceptions = (
        mis(
            "no_half_weights",
            lambda p: sum(p["ious"]) / (len(p["ious"]) + p["fp"] + p["fn"]),
            "分母里 FP 和 FN 各乘 1/2(与 F1 一致):$|TP|+\\tfrac12|FP|+\\tfrac12|FN|$。",
            "FP and FN each count one half in the denominator (as in F1): "
            "$|TP|+\\tfrac12|FP|+\\tfrac12|FN|$.",
        ),
        mis(
            "sq_only",
            lambda p: segmentation.panoptic_quality(p["ious"], p["fp"], p["fn"]).sq,
            "这只是 SQ(匹配片段的平均 IoU);PQ 还要乘以识别质量 RQ。",
            "That is only SQ (the mean IoU of the matches); PQ also multiplies by the "
            "recognition quality RQ.",
        ),
        mis(
            "rq_only",
            lambda p: segmentation.panoptic_quality(p["ious"], p["fp"], p["fn"]).rq,
            "这只是 RQ(F1 形式的识别质量);PQ 的分子是匹配对 IoU 之和,不是 TP 个数。",
            "That is only RQ (the F1-style recognition quality); PQ's numerator is the sum of "
            "the matched IoUs, not the TP count.",
        ),
        mis(
            "fn_ignored",
            lambda p: sum(p["ious"]) / (len(p["ious"]) + 0.5 * p["fp"]) if p["fn"] else None,
            "漏掉的真实片段(FN)也要计入分母。",
            "Missed ground-truth segments (FN) count in the denominator too.",
        ),
    )

    def sample(self, draw: Draw) -> Params:
        """Draw 2-4 match IoUs above 0.5 and the unmatched counts."""
        n = draw.integer("matches", 2, 4)
        ious = tuple(round(0.55 + 0.4 * draw.uniform(), 2) for _ in range(n))
        return {"ious": ious, "fp": draw.integer("fp", 0, 3), "fn": draw.integer("fn", 1, 3)}

    def answer(self, p: Params) -> Value:
        """Return ``panoptic_quality(...).pq``."""
        if p["fp"] + p["fn"] == 0:
            raise ValueError("no unmatched segment: PQ equals SQ")
        return segmentation.panoptic_quality(p["ious"], p["fp"], p["fn"]).pq

    def prompt(self, p: Params) -> Bilingual:
        """Render the matches."""
        ious = ", ".join(num(x) for x in p["ious"])
        return Bilingual(
            zh=f"在一张验证图上,“车”这一类的预测片段与真实片段按 IoU > 0.5 匹配,得到 {len(p['ious'])} 对匹配,"
            f"IoU 分别为 {ious};另有 {p['fp']} 个未匹配的预测片段和 {p['fn']} 个未匹配的真实片段。"
            f"该类的全景质量 PQ 是多少?{_HINT[0]}",
            en=f"On a validation image, the 'car' class's predicted and ground-truth segments are "
            f"matched at IoU > 0.5: {len(p['ious'])} matches with IoUs {ious}; "
            f"{p['fp']} predicted and {p['fn']} ground-truth segments stay unmatched. What is the "
            f"class's panoptic quality (PQ)? {_HINT[1]}",
        )

    def solution(self, p: Params, answer: Value) -> Bilingual:
        """Render SQ, RQ and their product."""
        r = segmentation.panoptic_quality(p["ious"], p["fp"], p["fn"])
        tp, fp, fn = len(p["ious"]), p["fp"], p["fn"]
        terms = "+".join(num(x) for x in p["ious"])
        f = (
            f"$$SQ=\\frac{{{terms}}}{{{tp}}}\\approx{r.sq:.4f},\\quad RQ=\\frac{{{tp}}}"
            f"{{{tp}+\\frac12\\cdot{fp}+\\frac12\\cdot{fn}}}\\approx{r.rq:.4f}$$\n"
            f"$$PQ=SQ\\times RQ\\approx{answer:.4f}$$"
        )
        return Bilingual(
            zh=f"SQ 是匹配对的平均 IoU,RQ 是 F1 形式的识别质量:\n{f}",
            en=f"SQ is the matches' mean IoU, RQ the F1-style recognition quality:\n{f}",
        )
