"""compute.tensors: predicted shapes equal what NumPy returns on real (tiny) arrays."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compute.tensors import broadcast_shape, dot_shape, matmul_shape

shapes = st.lists(st.integers(0, 3), min_size=0, max_size=4).map(tuple)
# Shapes drawn from a tiny alphabet make compatible pairs (equal sizes or 1) frequent.
related = st.lists(st.sampled_from([1, 2, 3]), min_size=0, max_size=4).map(tuple)


def numpy_shape(op: object, a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...] | None:
    try:
        return tuple(np.shape(op(np.zeros(a), np.zeros(b))))  # type: ignore[operator]
    except ValueError:
        return None


@settings(max_examples=800, deadline=None)
@given(shapes | related, shapes | related)
def test_matmul_shape_equals_numpy_matmul(a: tuple[int, ...], b: tuple[int, ...]) -> None:
    expected = numpy_shape(np.matmul, a, b)
    if expected is None:
        with pytest.raises(ValueError, match=r"a_shape|b_shape"):
            matmul_shape(a, b)
    else:
        assert matmul_shape(a, b) == expected


@settings(max_examples=800, deadline=None)
@given(shapes | related, shapes | related)
def test_dot_shape_equals_numpy_dot(a: tuple[int, ...], b: tuple[int, ...]) -> None:
    expected = numpy_shape(np.dot, a, b)
    if expected is None:
        with pytest.raises(ValueError, match=r"a_shape|b_shape"):
            dot_shape(a, b)
    else:
        assert dot_shape(a, b) == expected


@settings(max_examples=800, deadline=None)
@given(st.lists(shapes | related, min_size=0, max_size=4))
def test_broadcast_shape_equals_numpy_broadcast_shapes(many: list[tuple[int, ...]]) -> None:
    try:
        expected = np.broadcast_shapes(*many)
    except ValueError:
        with pytest.raises(ValueError, match=r"shapes\[\d\]"):
            broadcast_shape(*many)
    else:
        assert broadcast_shape(*many) == expected


def test_ng_course_shapes() -> None:
    assert matmul_shape((4, 3), (3, 1)) == (4, 1)
    assert matmul_shape((4, 3), (3, 7)) == (4, 7)
    assert dot_shape((5,), (5,)) == ()
    assert dot_shape((5, 1), (1, 5)) == (5, 5)


def test_matmul_promotes_one_dimensional_operands_and_broadcasts_batches() -> None:
    assert matmul_shape((3,), (3, 4)) == (4,)
    assert matmul_shape((2, 4, 3), (3,)) == (2, 4)
    assert matmul_shape((2, 1, 4, 3), (5, 3, 7)) == (2, 5, 4, 7)


def test_errors_name_the_argument() -> None:
    with pytest.raises(ValueError, match="a_shape"):
        matmul_shape((), (3,))
    with pytest.raises(ValueError, match="b_shape"):
        matmul_shape((3,), ())
    with pytest.raises(
        ValueError, match=r"a_shape \(4, 3\) has 3 columns but b_shape \(4, 1\) has 4 rows"
    ):
        matmul_shape((4, 3), (4, 1))
    with pytest.raises(ValueError, match=r"a_shape\[1\]"):
        dot_shape((2, -1), (3,))
    with pytest.raises(ValueError, match=r"shapes\[1\]"):
        broadcast_shape((2, 3), (4,))
