"""Shared pieces of the convolution and pooling templates: sizes seen in real networks,
memoized size functions and the feedback that several templates give."""

from __future__ import annotations

from functools import lru_cache

from compute import conv, receptive

__all__ = [
    "CEIL",
    "CHANNELS",
    "CONV_FORMULA",
    "FORGOT_ONE",
    "KERNELS",
    "PAD_ONCE",
    "SPATIAL",
    "ceil_div",
    "conv_len",
    "dilated_rf",
    "eff",
    "fl",
    "floor_len",
    "keras_len",
    "pool_len",
    "square_or_any",
    "transposed_len",
]


#: Spatial sizes seen in real networks (MNIST 28 to detection inputs 512, odd sizes included).
SPATIAL = (
    7,
    13,
    14,
    15,
    17,
    27,
    28,
    32,
    33,
    35,
    55,
    56,
    57,
    64,
    71,
    96,
    112,
    113,
    128,
    147,
    150,
    224,
    225,
    227,
    256,
    299,
    300,
    320,
    384,
    416,
    448,
    512,
)
CHANNELS = (3, 16, 32, 64, 128, 256, 512)
KERNELS = (1, 3, 3, 5, 7, 11)


# The size functions are pure and their arguments come from short lists, so memoizing them keeps
# a variant cheap (argument validation in compute/ dominates otherwise).
eff = lru_cache(maxsize=4096)(conv.effective_kernel_size)
conv_len = lru_cache(maxsize=65536)(conv.conv_output_length)
pool_len = lru_cache(maxsize=65536)(conv.pool_output_length)
keras_len = lru_cache(maxsize=65536)(conv.keras_conv_output_length)
transposed_len = lru_cache(maxsize=65536)(conv.conv_transpose_output_length)
dilated_rf = lru_cache(maxsize=4096)(receptive.dilated_stack_receptive_field)


@lru_cache(maxsize=256)
def square_or_any(h: int) -> tuple[int, ...]:
    """Return width options: ``h`` itself half of the time, otherwise any spatial size."""
    return (h,) * len(SPATIAL) + SPATIAL


def floor_len(n: int, k_eff: int, s: int, p: int) -> int:
    """Apply the floor rule with the learner's (possibly wrong) inputs."""
    return (n + 2 * p - k_eff) // s + 1


def ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def fl(a: int, b: int) -> str:
    return rf"\left\lfloor \frac{{{a}}}{{{b}}} \right\rfloor"


CONV_FORMULA = r"$$O=\left\lfloor\frac{L+2p-d(k-1)-1}{s}\right\rfloor+1$$"

FORGOT_ONE = (
    "忘了公式末尾的 +1:窗口个数等于步长移动次数再加上第一个窗口。",
    "You forgot the final +1: the number of windows is the number of stride steps plus the "
    "first window.",
)
PAD_ONCE = (
    "填充只算了一边:PyTorch 的 padding=p 在两侧各补 p,总共 2p。",
    "You counted the padding once: PyTorch's padding=p adds p on each side, 2p in total.",
)
CEIL = (
    "用了向上取整:卷积(及默认的池化)对除法向下取整,最后不完整的窗口被丢弃。",
    "You rounded up: convolution (and pooling by default) takes the floor, dropping the last "
    "incomplete window.",
)
