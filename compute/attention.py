"""Parameter and FLOP counts of attention layers, Transformer encoder layers and ViT patch embedding.

Conventions (they follow PyTorch's modules so the counts can be checked against them):

* ``mha_params`` equals ``sum(p.numel() for p in nn.MultiheadAttention(...).parameters())``:
  the Q, K and V projections (one packed ``in_proj_weight [3d, d]`` when ``kdim == vdim == d``,
  separate ``q/k/v_proj_weight`` otherwise), one ``in_proj_bias [3d]`` and the output projection
  ``out_proj`` (``d x d`` weight and ``d`` bias). The number of heads does not change the count:
  the heads split the ``d`` projected features, they do not add projections.
* FLOPs count a multiply-accumulate as 2 operations and count matrix products only (no bias
  additions, softmax, scaling or masking), the convention of ``torch.utils.flop_counter``.
* ``encoder_layer_params`` equals ``nn.TransformerEncoderLayer(d, h, dim_feedforward, bias=...)``:
  self-attention, two linear layers of the feed-forward network and two ``LayerNorm(d)``.

Every function raises ``ValueError`` (message starting with the argument name) on a non-integer or
non-positive size, on a head count that does not divide the width, or on an image side that is
not a multiple of the patch size.
"""

from __future__ import annotations

from compute._validate import check_positive_int

__all__ = [
    "encoder_layer_params",
    "layernorm_params",
    "mha_flops",
    "mha_macs",
    "mha_params",
    "vit_patch_embed_params",
    "vit_pos_embed_params",
    "vit_tokens",
]


def _check_bool(name: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be True or False, got {value!r}")
    return value


def _check_heads(embed_dim: int, num_heads: int) -> tuple[int, int]:
    d = check_positive_int("embed_dim", embed_dim)
    h = check_positive_int("num_heads", num_heads)
    if d % h:
        raise ValueError(f"num_heads ({h}) must divide embed_dim ({d})")
    return d, h


def mha_params(
    embed_dim: int,
    num_heads: int,
    bias: bool = True,
    kdim: int | None = None,
    vdim: int | None = None,
    add_bias_kv: bool = False,
) -> int:
    """Return the parameter count of ``nn.MultiheadAttention(embed_dim, num_heads, ...)``.

    ``d (d + kdim + vdim)`` projection weights for Q, K, V, ``d^2`` for the output projection,
    ``4d`` biases (``3d`` input + ``d`` output) when ``bias``, ``2d`` for ``bias_k``/``bias_v``
    when ``add_bias_kv``. With ``kdim = vdim = d`` and biases this is the familiar ``4d^2 + 4d``,
    whatever ``num_heads`` (which must divide ``d``).
    """
    d, _ = _check_heads(embed_dim, num_heads)
    k = d if kdim is None else check_positive_int("kdim", kdim)
    v = d if vdim is None else check_positive_int("vdim", vdim)
    weights = d * (d + k + v) + d * d
    biases = 4 * d if _check_bool("bias", bias) else 0
    return weights + biases + (2 * d if _check_bool("add_bias_kv", add_bias_kv) else 0)


def mha_macs(seq_len: int, embed_dim: int, kv_len: int | None = None) -> int:
    """Return the multiply-accumulates of one multi-head attention forward pass (batch 1).

    ``n`` query tokens attend to ``m`` key/value tokens (``m = n`` for self-attention), width ``d``:
    Q and output projections ``2 n d^2``, K and V projections ``2 m d^2``, scores ``Q K^T``
    ``n m d`` and the weighted sum ``A V`` another ``n m d``; the head count only reshapes these
    products, so it does not appear. Self-attention: ``4 n d^2 + 2 n^2 d``.
    """
    n = check_positive_int("seq_len", seq_len)
    d = check_positive_int("embed_dim", embed_dim)
    m = n if kv_len is None else check_positive_int("kv_len", kv_len)
    return 2 * n * d * d + 2 * m * d * d + 2 * n * m * d


def mha_flops(seq_len: int, embed_dim: int, kv_len: int | None = None) -> int:
    """Return the FLOPs of one attention forward pass: ``2 * mha_macs`` (``8nd^2 + 4n^2 d``)."""
    return 2 * mha_macs(seq_len, embed_dim, kv_len)


def layernorm_params(
    normalized_size: int, elementwise_affine: bool = True, bias: bool = True
) -> int:
    """Return the parameters of ``nn.LayerNorm(normalized_size, elementwise_affine, bias)``.

    One ``weight`` (gamma) per normalized element and, when ``bias``, one ``bias`` (beta).
    """
    size = check_positive_int("normalized_size", normalized_size)
    if not _check_bool("elementwise_affine", elementwise_affine):
        return 0
    return size * (2 if _check_bool("bias", bias) else 1)


def encoder_layer_params(
    d_model: int, nhead: int, dim_feedforward: int = 2048, bias: bool = True
) -> int:
    """Return the parameters of ``nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward)``.

    Self-attention ``4d^2 + 4d``, feed-forward ``d f + f + f d + d`` (two linear layers, width
    ``f = dim_feedforward``) and two ``LayerNorm(d)`` of ``2d`` each; with ``bias=False`` every
    linear bias and every LayerNorm beta is gone (PyTorch's ``bias`` flag covers both).
    """
    d, h = _check_heads(d_model, nhead)
    f = check_positive_int("dim_feedforward", dim_feedforward)
    b = _check_bool("bias", bias)
    ffn = 2 * d * f + ((f + d) if b else 0)
    return mha_params(d, h, bias=b) + ffn + 2 * layernorm_params(d, bias=b)


def vit_tokens(image_size: int, patch_size: int, extra_tokens: int = 1) -> int:
    """Return the sequence length of a ViT: ``(S / P)^2`` patches plus ``extra_tokens``.

    ``extra_tokens`` is 1 for the class token (ViT), 2 for DeiT's class and distillation tokens,
    0 for a model without them. ``image_size`` must be a multiple of ``patch_size`` (torchvision's
    ``VisionTransformer`` asserts the same).
    """
    s = check_positive_int("image_size", image_size)
    p = check_positive_int("patch_size", patch_size)
    if extra_tokens < 0 or isinstance(extra_tokens, bool) or not isinstance(extra_tokens, int):
        raise ValueError(f"extra_tokens must be an integer >= 0, got {extra_tokens!r}")
    if s % p:
        raise ValueError(f"image_size ({s}) must be a multiple of patch_size ({p})")
    return (s // p) ** 2 + extra_tokens


def vit_patch_embed_params(patch_size: int, in_channels: int, hidden_dim: int) -> int:
    """Return the parameters of the patch embedding ``Conv2d(C, D, kernel=P, stride=P)``.

    Each of the ``D`` filters sees one ``P x P x C`` patch and has a bias: ``P^2 C D + D``
    (torchvision's ``conv_proj``; a linear layer on flattened patches has the same count).
    """
    p = check_positive_int("patch_size", patch_size)
    c = check_positive_int("in_channels", in_channels)
    d = check_positive_int("hidden_dim", hidden_dim)
    return p * p * c * d + d


def vit_pos_embed_params(image_size: int, patch_size: int, hidden_dim: int) -> int:
    """Return the learned position-embedding entries of a ViT with a class token: ``(N + 1) D``."""
    d = check_positive_int("hidden_dim", hidden_dim)
    return vit_tokens(image_size, patch_size, 1) * d
