"""Templates on attention and Transformers: MHA parameters and FLOPs, encoder layers, ViT tokens."""

from __future__ import annotations

from compute import attention
from compute.templates.base import AnswerKind, Bilingual, Draw, Params, Template, Value
from compute.templates.engine import register
from compute.templates.fmt import mis

__all__ = ["AttnEncoderLayerParams", "AttnMhaFlops", "AttnMhaParams", "AttnVitPatch"]


def _kv(p: Params) -> tuple[int, int]:
    k = p["d"] if p["kdim"] is None else p["kdim"]
    return k, k


def _mha_weights(p: Params) -> int:
    k, v = _kv(p)
    d: int = p["d"]
    return d * (d + k + v)


@register
class AttnMhaParams(Template):
    """Parameters of ``nn.MultiheadAttention`` (self- or cross-attention, with or without bias)."""

    id = "attn.mha_params"
    version = 1
    kind = AnswerKind.INTEGER
    title = Bilingual(zh="多头注意力的参数量", en="Parameters of multi-head attention")
    misconceptions = (
        mis(
            "per_head_projections",
            lambda p: (
                p["h"] * _mha_weights(p) + p["d"] ** 2 + (p["h"] * 3 * p["d"] + p["d"]) * p["bias"]
                if p["h"] > 1
                else None
            ),
            "每个头并没有自己的 d×d 投影:Q/K/V 投影把 d 维映射到 d 维后再切成 h 个 d/h 维的头,"
            "参数量与头数无关。",
            "Heads do not get their own d×d projections: Q/K/V are projected d -> d once and "
            "then split into h heads of d/h features, so the count does not depend on h.",
        ),
        mis(
            "one_head_only",
            lambda p: (
                _mha_weights(p) // p["h"] + p["d"] ** 2 + 4 * p["d"] * p["bias"]
                if p["h"] > 1
                else None
            ),
            "每个头的投影是 d×(d/h),但 h 个头合起来是 d×d:别只数一个头。",
            "One head's projection is d×(d/h), but the h heads together make d×d: do not count "
            "a single head.",
        ),
        mis(
            "out_proj_forgotten",
            lambda p: _mha_weights(p) + 3 * p["d"] * p["bias"],
            "多头输出拼接后还有一个输出投影 $W^O$(d×d,加偏置 d)。",
            "After the heads are concatenated there is an output projection $W^O$ (d×d, plus d "
            "biases).",
        ),
        mis(
            "bias_forgotten",
            lambda p: _mha_weights(p) + p["d"] ** 2 if p["bias"] else None,
            "bias=True 时有 3d 个输入投影偏置(in_proj_bias)和 d 个输出投影偏置。",
            "With bias=True there are 3d input-projection biases (in_proj_bias) and d "
            "output-projection biases.",
        ),
        mis(
            "bias_added",
            lambda p: _mha_weights(p) + p["d"] ** 2 + 4 * p["d"] if not p["bias"] else None,
            "bias=False:输入投影和输出投影都没有偏置。",
            "bias=False: neither the input nor the output projection has a bias.",
        ),
        mis(
            "kdim_ignored",
            lambda p: 4 * p["d"] ** 2 + 4 * p["d"] * p["bias"] if p["kdim"] is not None else None,
            "kdim/vdim 不等于 embed_dim 时,K、V 投影的权重是 d×kdim 和 d×vdim,不是 d×d。",
            "When kdim/vdim differ from embed_dim, the K and V projections are d×kdim and "
            "d×vdim, not d×d.",
        ),
    )

    def sample(self, draw: Draw) -> Params:
        """Draw the width, the head count, the bias flag and self- or cross-attention."""
        d = draw.pick("embed_dim", (64, 128, 256, 384, 512, 768, 1024))
        h = draw.pick("num_heads", (1, 2, 4, 8, 8, 12, 16))
        cross = draw.pick("cross", (False, False, True))
        kdim = draw.pick("kdim", (128, 256, 512, 1024, 2048)) if cross else None
        return {"d": d, "h": h, "bias": draw.pick("bias", (True, True, False)), "kdim": kdim}

    def answer(self, p: Params) -> Value:
        """Return ``attention.mha_params`` (raises ValueError when h does not divide d)."""
        k, v = _kv(p)
        return attention.mha_params(p["d"], p["h"], p["bias"], kdim=k, vdim=v)

    def prompt(self, p: Params) -> Bilingual:
        """Render the module."""
        extra = f", kdim={p['kdim']}, vdim={p['kdim']}" if p["kdim"] is not None else ""
        layer = f"`nn.MultiheadAttention(embed_dim={p['d']}, num_heads={p['h']}, bias={p['bias']}{extra})`"
        zh_kv = "(交叉注意力:键和值来自另一个特征维度不同的序列)" if p["kdim"] is not None else ""
        en_kv = " (cross-attention: keys and values come from a sequence of another width)"
        return Bilingual(
            zh=f"{layer}{zh_kv}有多少个可学习参数?",
            en=f"How many learnable parameters does {layer}{en_kv if p['kdim'] else ''} have?",
        )

    def solution(self, p: Params, answer: Value) -> Bilingual:
        """Render the projections and the biases."""
        d, (k, v) = p["d"], _kv(p)
        w = f"d(d+k_{{dim}}+v_{{dim}})+d^2={d}\\cdot({d}+{k}+{v})+{d}^2"
        b = f"+4\\cdot{d}" if p["bias"] else ""
        f = f"$${w}{b}={answer}$$"
        return Bilingual(
            zh="Q、K、V 三个输入投影(各把对应输入映射到 d 维)加一个 d×d 的输出投影;头数只决定如何"
            f"把 d 维切成 $h$ 份,不改变参数量。{'偏置:输入 3d、输出 d。' if p['bias'] else '无偏置。'}\n{f}",
            en="Three input projections (Q, K, V, each mapping its input to d features) plus a "
            "d×d output projection; the head count only splits the d features into $h$ parts "
            f"and does not change the count. {'Biases: 3d in, d out.' if p['bias'] else 'No biases.'}"
            f"\n{f}",
        )


@register
class AttnMhaFlops(Template):
    """FLOPs of one self-attention forward pass as a function of n and d."""

    id = "attn.mha_flops"
    version = 1
    kind = AnswerKind.INTEGER
    title = Bilingual(zh="自注意力的计算量", en="FLOPs of self-attention")
    misconceptions = (
        mis(
            "macs_only",
            lambda p: attention.mha_macs(p["n"], p["d"]),
            "这是乘加次数;按约定 1 次乘加 = 2 FLOPs。",
            "That is the multiply-accumulate count; by convention 1 MAC = 2 FLOPs.",
            0.5,
        ),
        mis(
            "projections_only",
            lambda p: 8 * p["n"] * p["d"] ** 2,
            "除了四个线性投影,还有 $QK^T$ 和 $AV$ 两个与 $n^2$ 成正比的矩阵乘法。",
            "Besides the four linear projections there are the two products $QK^T$ and $AV$, "
            "each proportional to $n^2$.",
        ),
        mis(
            "attention_only",
            lambda p: 4 * p["n"] ** 2 * p["d"],
            "Q、K、V 和输出投影各需 $n d^2$ 次乘加,不能只数注意力矩阵部分。",
            "The Q, K, V and output projections take $n d^2$ MACs each: do not count only the "
            "attention matrices.",
        ),
        mis(
            "av_forgotten",
            lambda p: 8 * p["n"] * p["d"] ** 2 + 2 * p["n"] ** 2 * p["d"],
            "算完 softmax 后还要用注意力权重对 V 加权求和($AV$),又是 $n^2 d$ 次乘加。",
            "After the softmax the weights multiply V ($AV$): another $n^2 d$ MACs.",
        ),
        mis(
            "heads_multiply",
            lambda p: 8 * p["n"] * p["d"] ** 2 + 4 * p["h"] * p["n"] ** 2 * p["d"],
            "每个头只在 $d/h$ 维上做 $QK^T$ 与 $AV$,h 个头合起来仍是 $n^2 d$,不乘 h。",
            "Each head works on $d/h$ features, so the h heads together still cost $n^2 d$ for "
            "$QK^T$ and for $AV$: do not multiply by h.",
        ),
        mis(
            "out_proj_forgotten",
            lambda p: 6 * p["n"] * p["d"] ** 2 + 4 * p["n"] ** 2 * p["d"],
            "拼接各头之后还有输出投影 $W^O$:再加 $n d^2$ 次乘加。",
            "The concatenated heads go through the output projection $W^O$: $n d^2$ more MACs.",
        ),
    )

    def sample(self, draw: Draw) -> Params:
        """Draw the sequence length, the width and the head count."""
        return {
            "n": draw.pick("seq_len", (49, 64, 128, 196, 256, 512, 1024, 4096)),
            "d": draw.pick("embed_dim", (256, 384, 512, 768, 1024)),
            "h": draw.pick("num_heads", (4, 8, 12, 16)),
        }

    def answer(self, p: Params) -> Value:
        """Return ``attention.mha_flops`` (raises ValueError when h does not divide d)."""
        attention.mha_params(p["d"], p["h"])  # rejects a head count that does not divide d
        return attention.mha_flops(p["n"], p["d"])

    def prompt(self, p: Params) -> Bilingual:
        """Render the layer and the convention."""
        return Bilingual(
            zh=f"一层多头自注意力,序列长度 $n={p['n']}$,宽度 $d={p['d']}$,{p['h']} 个头,batch 为 1。"
            "只计矩阵乘法(Q、K、V、输出四个投影以及 $QK^T$、$AV$),1 次乘加 = 2 FLOPs,忽略偏置、"
            "缩放和 softmax。一次前向共多少 FLOPs?",
            en=f"One multi-head self-attention layer with sequence length $n={p['n']}$, width "
            f"$d={p['d']}$, {p['h']} heads, batch 1. Counting matrix products only (the Q, K, V "
            "and output projections, $QK^T$ and $AV$) at 2 FLOPs per multiply-accumulate, and "
            "ignoring biases, scaling and softmax, how many FLOPs does one forward pass take?",
        )

    def solution(self, p: Params, answer: Value) -> Bilingual:
        """Render 4nd^2 + 2n^2 d MACs."""
        n, d = p["n"], p["d"]
        lin, att = 4 * n * d * d, 2 * n * n * d
        f = (
            f"$$\\text{{MACs}}=4nd^2+2n^2d=4\\cdot{n}\\cdot{d}^2+2\\cdot{n}^2\\cdot{d}="
            f"{lin}+{att}={lin + att}$$$$\\text{{FLOPs}}=2\\cdot{lin + att}={answer}$$"
        )
        return Bilingual(
            zh="四个投影各 $nd^2$ 次乘加;$QK^T$ 与 $AV$ 各 $n^2d$(各头在 $d/h$ 维上计算,合计与头数"
            f"无关):\n{f}\n$n$ 较大时 $n^2 d$ 项占主导,这就是注意力的二次复杂度。",
            en="Each of the four projections takes $nd^2$ MACs; $QK^T$ and $AV$ take $n^2d$ each "
            "(each head works on $d/h$ features, so the total does not depend on the head count):"
            f"\n{f}\nFor large $n$ the $n^2 d$ term dominates: attention's quadratic cost.",
        )


@register
class AttnEncoderLayerParams(Template):
    """Parameters of ``nn.TransformerEncoderLayer``."""

    id = "attn.encoder_layer_params"
    version = 1
    kind = AnswerKind.INTEGER
    title = Bilingual(
        zh="Transformer 编码器层的参数量", en="Parameters of a Transformer encoder layer"
    )
    misconceptions = (
        mis(
            "layernorm_forgotten",
            lambda p: _enc(p) - 4 * p["d"],
            "两个 LayerNorm 各有 d 个 γ 和 d 个 β,共 4d。",
            "The two LayerNorms have d gammas and d betas each: 4d in all.",
        ),
        mis(
            "one_layernorm",
            lambda p: _enc(p) - 2 * p["d"],
            "编码器层有两个 LayerNorm(注意力子层和 FFN 子层各一个)。",
            "An encoder layer has two LayerNorms, one per sub-layer (attention and FFN).",
        ),
        mis(
            "ffn_one_linear",
            lambda p: _enc(p) - p["f"] * p["d"] - p["d"],
            "FFN 是两个线性层:d→f 和 f→d。",
            "The FFN is two linear layers: d -> f and f -> d.",
        ),
        mis(
            "ffn_biases_forgotten",
            lambda p: _enc(p) - p["f"] - p["d"],
            "FFN 的两个线性层都有偏置:f 个和 d 个。",
            "Both FFN linear layers have biases: f and d of them.",
        ),
        mis(
            "out_proj_forgotten",
            lambda p: _enc(p) - p["d"] ** 2 - p["d"],
            "自注意力是 $4d^2+4d$:别漏了输出投影 $W^O$。",
            "Self-attention has $4d^2+4d$: do not forget the output projection $W^O$.",
        ),
    )

    def sample(self, draw: Draw) -> Params:
        """Draw the width, the head count and the FFN width."""
        d = draw.pick("d_model", (128, 256, 512, 768, 1024))
        ratio = draw.pick("ffn_ratio", (4, 4, 4, 2, 8))
        return {"d": d, "h": draw.pick("nhead", (4, 8, 12, 16)), "f": ratio * d}

    def answer(self, p: Params) -> Value:
        """Return ``attention.encoder_layer_params``."""
        return _enc(p)

    def prompt(self, p: Params) -> Bilingual:
        """Render the module."""
        layer = (
            f"`nn.TransformerEncoderLayer(d_model={p['d']}, nhead={p['h']}, "
            f"dim_feedforward={p['f']})`"
        )
        return Bilingual(
            zh=f"{layer}(默认带偏置;自注意力 + 两层 FFN + 两个 LayerNorm)有多少个可学习参数?",
            en=f"How many learnable parameters does {layer} have (biases on by default; "
            "self-attention + a two-layer FFN + two LayerNorms)?",
        )

    def solution(self, p: Params, answer: Value) -> Bilingual:
        """Render attention + FFN + LayerNorms."""
        d, f = p["d"], p["f"]
        a, ffn, ln = 4 * d * d + 4 * d, 2 * d * f + f + d, 4 * d
        formula = f"$$(4d^2+4d)+(2df+f+d)+4d={a}+{ffn}+{ln}={answer}$$"
        return Bilingual(
            zh=f"自注意力 $4d^2+4d$(与头数 {p['h']} 无关);FFN 为 $d\\to f\\to d$ 两个带偏置的线性层;"
            f"两个 LayerNorm 各 $2d$:\n{formula}",
            en=f"Self-attention $4d^2+4d$ (independent of the {p['h']} heads); the FFN is two "
            f"biased linear layers $d\\to f\\to d$; two LayerNorms of $2d$ each:\n{formula}",
        )


def _enc(p: Params) -> int:
    return attention.encoder_layer_params(p["d"], p["h"], p["f"])


_VIT_ASK = {
    "tokens": (
        "Transformer 编码器输入的序列长度(token 数)是多少?",
        "What is the sequence length (number of tokens) entering the Transformer encoder?",
    ),
    "conv": (
        "patch embedding 层 `conv_proj`(kernel = stride = patch)有多少个参数?",
        "How many parameters does the patch embedding `conv_proj` (kernel = stride = patch) have?",
    ),
    "pos": (
        "可学习位置编码共有多少个参数?",
        "How many parameters does the learned position embedding have?",
    ),
}


@register
class AttnVitPatch(Template):
    """ViT token count, patch-embedding parameters and position-embedding parameters."""

    id = "attn.vit_patch"
    version = 1
    kind = AnswerKind.INTEGER
    title = Bilingual(zh="ViT 的 token 数与 patch embedding", en="ViT tokens and patch embedding")
    misconceptions = (
        mis(
            "cls_forgotten",
            lambda p: {"tokens": _n(p), "pos": _n(p) * p["D"]}.get(p["ask"]),
            "ViT 在 patch token 前拼接一个可学习的 [CLS] token,序列长度是 $N+1$,位置编码也是 $N+1$ 个。",
            "ViT prepends a learnable [CLS] token: the sequence has $N+1$ tokens and so does the "
            "position embedding.",
        ),
        mis(
            "side_not_squared",
            lambda p: {
                "tokens": p["S"] // p["P"] + 1,
                "pos": (p["S"] // p["P"] + 1) * p["D"],
            }.get(p["ask"]),
            "图像被切成 $(S/P)\\times(S/P)$ 的网格:patch 数是 $(S/P)^2$。",
            "The image is cut into an $(S/P)\\times(S/P)$ grid: $(S/P)^2$ patches.",
        ),
        mis(
            "patch_area_as_count",
            lambda p: p["P"] ** 2 + 1 if p["ask"] == "tokens" else None,
            "$P^2$ 是每个 patch 的像素数,不是 patch 的个数;个数是 $(S/P)^2$。",
            "$P^2$ is the number of pixels per patch, not the number of patches, which is "
            "$(S/P)^2$.",
        ),
        mis(
            "bias_forgotten",
            lambda p: p["P"] ** 2 * p["C"] * p["D"] if p["ask"] == "conv" else None,
            "conv_proj 带偏置:每个输出维度一个,共 D 个。",
            "conv_proj has a bias: one per output feature, D in all.",
        ),
        mis(
            "channels_forgotten",
            lambda p: p["P"] ** 2 * p["D"] + p["D"] if p["ask"] == "conv" and p["C"] > 1 else None,
            "每个 patch 展平后是 $P^2 C$ 维,要乘输入通道数 C。",
            "A flattened patch has $P^2 C$ values: multiply by the input channels C.",
        ),
        mis(
            "weights_per_patch",
            lambda p: (
                _n(p) * (p["P"] ** 2 * p["C"] * p["D"] + p["D"]) if p["ask"] == "conv" else None
            ),
            "所有 patch 共享同一个投影(卷积核在各位置共享),参数量与 patch 个数无关。",
            "Every patch shares one projection (the conv kernel is shared across positions): "
            "the count does not depend on the number of patches.",
        ),
        mis(
            "dim_forgotten",
            lambda p: _n(p) + 1 if p["ask"] == "pos" else None,
            "每个位置的位置编码是一个 D 维向量,要乘 D。",
            "Each position's embedding is a D-dimensional vector: multiply by D.",
        ),
    )

    def sample(self, draw: Draw) -> Params:
        """Draw the image side, the patch size, the channels, the width and what to ask."""
        return {
            "S": draw.pick("image_size", (224, 224, 384, 256, 512)),
            "P": draw.pick("patch_size", (16, 16, 32, 14, 8)),
            "C": draw.pick("in_channels", (3, 3, 1)),
            "D": draw.pick("hidden_dim", (192, 384, 768, 1024)),
            "ask": draw.pick("ask", ("tokens", "conv", "pos")),
        }

    def answer(self, p: Params) -> Value:
        """Return the asked count (raises ValueError when P does not divide S)."""
        if p["ask"] == "tokens":
            return attention.vit_tokens(p["S"], p["P"])
        if p["ask"] == "conv":
            attention.vit_tokens(p["S"], p["P"])
            return attention.vit_patch_embed_params(p["P"], p["C"], p["D"])
        return attention.vit_pos_embed_params(p["S"], p["P"], p["D"])

    def prompt(self, p: Params) -> Bilingual:
        """Render the model and the question."""
        az, ae = _VIT_ASK[p["ask"]]
        return Bilingual(
            zh=f"一个 ViT:输入 ${p['S']}\\times{p['S']}$、{p['C']} 个通道,patch 大小 {p['P']},隐藏维度 "
            f"$D={p['D']}$,带 [CLS] token 与可学习位置编码。{az}",
            en=f"A ViT takes ${p['S']}\\times{p['S']}$ inputs with {p['C']} channels, patch size "
            f"{p['P']}, hidden width $D={p['D']}$, a [CLS] token and a learned position "
            f"embedding. {ae}",
        )

    def solution(self, p: Params, answer: Value) -> Bilingual:
        """Render N = (S/P)^2 and the asked count."""
        s, pp, c, d = p["S"], p["P"], p["C"], p["D"]
        n = _n(p)
        base = f"$$N=(S/P)^2=({s}/{pp})^2={n}$$"
        if p["ask"] == "tokens":
            f = f"{base}$$N+1={answer}$$"
            zh, en = "patch 数加一个 [CLS] token:", "The patches plus one [CLS] token:"
        elif p["ask"] == "conv":
            f = f"$$P^2CD+D={pp}^2\\cdot{c}\\cdot{d}+{d}={answer}$$"
            zh = "$D$ 个卷积核,每个覆盖 $P\\times P\\times C$,各带一个偏置(所有 patch 共享):"
            en = "$D$ filters, each covering $P\\times P\\times C$ with one bias (shared by every patch):"
        else:
            f = f"{base}$$(N+1)D=({n}+1)\\cdot{d}={answer}$$"
            zh, en = (
                "每个 token 位置(含 [CLS])一个 D 维向量:",
                "One D-vector per token position ([CLS] included):",
            )
        return Bilingual(zh=f"{zh}\n{f}", en=f"{en}\n{f}")


def _n(p: Params) -> int:
    return int((p["S"] // p["P"]) ** 2)
