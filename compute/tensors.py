"""Result shapes of ``numpy.matmul``, ``numpy.dot`` and NumPy broadcasting, without any data.

Shapes are sequences of non-negative integers; a shape ``()`` is a scalar. The rules are
NumPy's (and PyTorch's, for ``torch.matmul`` and broadcasting). Errors name the offending
argument.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["broadcast_shape", "dot_shape", "matmul_shape"]

Shape = tuple[int, ...]


def _as_shape(shape: Sequence[int], name: str) -> Shape:
    if isinstance(shape, str | bytes) or not isinstance(shape, Sequence):
        raise ValueError(f"{name} must be a sequence of integers, got {shape!r}")
    out: list[int] = []
    for i, d in enumerate(shape):
        if isinstance(d, bool) or not isinstance(d, int | np.integer) or d < 0:
            raise ValueError(f"{name}[{i}] must be an integer >= 0, got {d!r}")
        out.append(int(d))
    return tuple(out)


def _broadcast(shapes: Sequence[Shape], names: Sequence[str]) -> Shape:
    """Align shapes on the right; each axis must be equal or 1 (a missing axis counts as 1)."""
    ndim = max((len(s) for s in shapes), default=0)
    result: list[int] = []
    for axis in range(-ndim, 0):
        size = 1
        owner = ""
        for shape, name in zip(shapes, names, strict=True):
            if len(shape) < -axis:
                continue
            d = shape[axis]
            if d == 1:
                continue
            if size != 1 and d != size:
                raise ValueError(
                    f"{name} {shape} does not broadcast with {owner}: "
                    f"axis {axis} has size {d}, expected {size} or 1"
                )
            size, owner = d, f"{name} {shape}"
        result.append(size)
    return tuple(result)


def broadcast_shape(*shapes: Sequence[int]) -> tuple[int, ...]:
    """Return the shape NumPy broadcasting gives ``shapes``, like ``numpy.broadcast_shapes``.

    Shapes are aligned on their last axis; on each axis the sizes must be equal or 1, and the
    result takes the size that is not 1. No shapes gives ``()``. An incompatible argument is
    named ``shapes[i]`` in the error.
    """
    parsed = [_as_shape(s, f"shapes[{i}]") for i, s in enumerate(shapes)]
    return _broadcast(parsed, [f"shapes[{i}]" for i in range(len(parsed))])


def matmul_shape(a_shape: Sequence[int], b_shape: Sequence[int]) -> tuple[int, ...]:
    """Return the shape of ``numpy.matmul(a, b)`` (the ``@`` operator) for the given shapes.

    Rules (NumPy, also ``torch.matmul``): scalars are not allowed; a 1-D ``a`` of length ``n``
    is treated as ``(1, n)`` and a 1-D ``b`` as ``(n, 1)``, and the added axis is removed from the
    result; the last axis of ``a`` must equal the second-to-last of ``b``; the leading (batch)
    axes broadcast. Examples: ``(4, 3) @ (3, 1) -> (4, 1)``; ``(4, 3) @ (3, m) -> (4, m)``;
    ``(5,) @ (5,) -> ()``; ``(2, 1, 4, 3) @ (5, 3, 7) -> (2, 5, 4, 7)``.
    """
    a = _as_shape(a_shape, "a_shape")
    b = _as_shape(b_shape, "b_shape")
    if len(a) == 0:
        raise ValueError("a_shape must have at least 1 dimension for matmul, got ()")
    if len(b) == 0:
        raise ValueError("b_shape must have at least 1 dimension for matmul, got ()")
    a2 = (1, *a) if len(a) == 1 else a
    b2 = (*b, 1) if len(b) == 1 else b
    if a2[-1] != b2[-2]:
        raise ValueError(
            f"a_shape {a} has {a2[-1]} columns but b_shape {b} has {b2[-2]} rows; they must match"
        )
    batch = _broadcast([a2[:-2], b2[:-2]], ["a_shape", "b_shape"])
    core: tuple[int, ...] = ()
    if len(a) > 1:
        core += (a2[-2],)
    if len(b) > 1:
        core += (b2[-1],)
    return batch + core


def dot_shape(a_shape: Sequence[int], b_shape: Sequence[int]) -> tuple[int, ...]:
    """Return the shape of ``numpy.dot(a, b)`` for the given shapes.

    Rules (NumPy): if either is a scalar ``()``, the product is element-wise and has the other
    shape; two 1-D arrays give their inner product, a scalar ``()``; an N-D ``a`` with a 1-D
    ``b`` sums over the last axis of both, giving ``a[:-1]``; otherwise the sum runs over the
    last axis of ``a`` and the second-to-last of ``b``, giving ``a[:-1] + b[:-2] + b[-1:]``.
    No broadcasting. Example (a rank-1 ``a`` of shape ``(5,)``): ``dot((5,), (5,)) -> ()``,
    whereas for ``a`` of shape ``(5, 1)``: ``dot((5, 1), (1, 5)) -> (5, 5)``.
    """
    a = _as_shape(a_shape, "a_shape")
    b = _as_shape(b_shape, "b_shape")
    if len(a) == 0:
        return b
    if len(b) == 0:
        return a
    contracted_b = b[0] if len(b) == 1 else b[-2]
    if a[-1] != contracted_b:
        which = "length" if len(b) == 1 else "second-to-last axis"
        raise ValueError(
            f"a_shape {a} last axis ({a[-1]}) must equal the {which} of b_shape {b} "
            f"({contracted_b})"
        )
    if len(b) == 1:
        return a[:-1]
    return a[:-1] + b[:-2] + b[-1:]
