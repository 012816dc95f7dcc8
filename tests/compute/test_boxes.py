"""compute.boxes against brute-force references: rasterized IoU on an integer grid, naive NMS."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import compute.boxes
from compute.boxes import (
    batched_nms,
    box_area,
    box_convert,
    box_iou,
    generalized_box_iou,
    nms,
)

GRID = 16
Box = tuple[int, int, int, int]


@st.composite
def int_box(draw: st.DrawFn) -> Box:
    x1 = draw(st.integers(0, GRID))
    y1 = draw(st.integers(0, GRID))
    x2 = draw(st.integers(x1, GRID))
    y2 = draw(st.integers(y1, GRID))
    return (x1, y1, x2, y2)


int_boxes = st.lists(int_box(), min_size=0, max_size=12)


def raster(box: Box) -> np.ndarray:
    """Cells [x1, x2) x [y1, y2) of a GRID x GRID board: exact area and overlap by counting."""
    board = np.zeros((GRID, GRID), dtype=bool)
    x1, y1, x2, y2 = box
    board[y1:y2, x1:x2] = True
    return board


def raster_iou(a: Box, b: Box) -> Fraction:
    ra, rb = raster(a), raster(b)
    union = int((ra | rb).sum())
    return Fraction(int((ra & rb).sum()), union) if union else Fraction(0)


def raster_giou(a: Box, b: Box) -> Fraction:
    hull = (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))
    enclosing = int(raster(hull).sum())
    union = int((raster(a) | raster(b)).sum())
    if enclosing == 0:
        return Fraction(0)
    return raster_iou(a, b) - Fraction(enclosing - union, enclosing)


def naive_nms(boxes: list[Box], scores: list[float], threshold: float) -> list[int]:
    """The textbook O(n^2) loop: visit by score (Python's sort is stable), suppress IoU > t."""
    order = sorted(range(len(boxes)), key=lambda i: -scores[i])
    suppressed = [False] * len(boxes)
    keep: list[int] = []
    for pos, i in enumerate(order):
        if suppressed[i]:
            continue
        keep.append(i)
        for j in order[pos + 1 :]:
            # torchvision compares the IoU as a float: 7/10 rounds to the float 0.7 and is not
            # above a 0.7 threshold, although the exact 7/10 exceeds the float 0.7's value.
            if float(raster_iou(boxes[i], boxes[j])) > threshold:
                suppressed[j] = True
    return keep


def naive_batched_nms(
    boxes: list[Box], scores: list[float], classes: list[int], threshold: float
) -> list[int]:
    """Naive NMS within each class, merged by descending score (ties by index)."""
    expected: list[int] = []
    for c in set(classes):
        members = [i for i in range(len(boxes)) if classes[i] == c]
        kept = naive_nms([boxes[i] for i in members], [scores[i] for i in members], threshold)
        expected += [members[k] for k in kept]
    expected.sort(key=lambda i: (-scores[i], i))
    return expected


def as_array(boxes: list[Box]) -> np.ndarray:
    return np.asarray(boxes, dtype=np.float64).reshape(-1, 4)


@settings(max_examples=150, deadline=None)
@given(int_boxes, int_boxes)
def test_box_iou_equals_rasterized_overlap_ratio(b1: list[Box], b2: list[Box]) -> None:
    got = box_iou(as_array(b1), as_array(b2))
    assert got.shape == (len(b1), len(b2))
    for i, a in enumerate(b1):
        for j, b in enumerate(b2):
            assert got[i, j] == pytest.approx(float(raster_iou(a, b)), abs=1e-15)


@settings(max_examples=150, deadline=None)
@given(int_boxes, int_boxes)
def test_generalized_box_iou_equals_rasterized_formula(b1: list[Box], b2: list[Box]) -> None:
    got = generalized_box_iou(as_array(b1), as_array(b2))
    assert got.shape == (len(b1), len(b2))
    for i, a in enumerate(b1):
        for j, b in enumerate(b2):
            assert got[i, j] == pytest.approx(float(raster_giou(a, b)), abs=1e-15)


@settings(max_examples=100, deadline=None)
@given(int_boxes)
def test_box_area_equals_rasterized_cell_count(b: list[Box]) -> None:
    np.testing.assert_array_equal(box_area(as_array(b)), [raster(x).sum() for x in b])


@settings(max_examples=100, deadline=None)
@given(int_boxes)
def test_iou_is_symmetric_bounded_and_one_on_the_diagonal(b: list[Box]) -> None:
    iou = box_iou(as_array(b), as_array(b))
    np.testing.assert_array_equal(iou, iou.T)
    assert np.all((iou >= 0) & (iou <= 1))
    positive = box_area(as_array(b)) > 0
    np.testing.assert_array_equal(np.diag(iou)[positive], 1.0)
    giou = generalized_box_iou(as_array(b), as_array(b))
    assert np.all((giou >= -1) & (giou <= iou + 1e-15))


score_values = st.sampled_from([0.1, 0.3, 0.5, 0.5, 0.9])  # repeats make equal scores common
thresholds = st.sampled_from([0.0, 0.1, 0.25, 0.5, 0.7, 1.0])


@settings(max_examples=300, deadline=None)
@given(st.data(), int_boxes, thresholds)
def test_nms_matches_naive_quadratic_loop(data: st.DataObject, b: list[Box], thr: float) -> None:
    scores = data.draw(st.lists(score_values, min_size=len(b), max_size=len(b)))
    got = nms(as_array(b), np.asarray(scores, dtype=np.float64), thr)
    assert got.dtype == np.int64
    assert got.tolist() == naive_nms(b, scores, thr)


def draw_scores_and_classes(
    data: st.DataObject, n: int, n_classes: int
) -> tuple[list[float], list[int]]:
    """Draw a score (equal scores are common) and a class id for each of ``n`` boxes."""
    scores = data.draw(st.lists(score_values, min_size=n, max_size=n))
    classes = data.draw(st.lists(st.integers(0, n_classes - 1), min_size=n, max_size=n))
    return scores, classes


@settings(max_examples=300, deadline=None)
@given(st.data(), int_boxes, thresholds)
def test_batched_nms_matches_naive_per_class_loops(
    data: st.DataObject, b: list[Box], thr: float
) -> None:
    scores, classes = draw_scores_and_classes(data, len(b), 3)
    got = batched_nms(as_array(b), np.asarray(scores), np.asarray(classes, dtype=np.int64), thr)
    assert got.tolist() == naive_batched_nms(b, scores, classes, thr)


@settings(max_examples=200, deadline=None)
@given(st.data(), st.lists(int_box(), min_size=0, max_size=40), thresholds)
def test_nms_does_not_depend_on_the_block_size(
    data: st.DataObject, b: list[Box], thr: float
) -> None:
    # The kernel settles candidates a block at a time; blocks of 1, 2, 3 and 7 boxes put block
    # boundaries everywhere in these short lists, which the default block size (32) never would.
    scores, classes = draw_scores_and_classes(data, len(b), 2)
    expected = naive_nms(b, scores, thr)
    expected_grouped = naive_batched_nms(b, scores, classes, thr)
    default = compute.boxes._NMS_BLOCK
    try:
        for size in (1, 2, 3, 7):
            compute.boxes._NMS_BLOCK = size
            assert nms(as_array(b), np.asarray(scores), thr).tolist() == expected
            grouped = batched_nms(as_array(b), np.asarray(scores), np.asarray(classes), thr)
            assert grouped.tolist() == expected_grouped
    finally:
        compute.boxes._NMS_BLOCK = default


def test_nms_keeps_the_lower_index_among_equal_scores() -> None:
    boxes = [[0, 0, 10, 10], [0, 0, 10, 10], [0, 0, 10, 10]]
    assert nms(boxes, [0.5, 0.5, 0.5], 0.5).tolist() == [0]
    assert nms(boxes, [0.4, 0.5, 0.5], 0.5).tolist() == [1]


def test_nms_suppresses_only_iou_strictly_above_the_threshold() -> None:
    boxes = [[0, 0, 4, 1], [0, 0, 2, 1]]  # IoU exactly 0.5
    assert nms(boxes, [0.9, 0.8], 0.5).tolist() == [0, 1]
    assert nms(boxes, [0.9, 0.8], 0.49).tolist() == [0]


def test_an_iou_that_rounds_to_the_threshold_is_not_above_it() -> None:
    # IoU 7/10 is the float 0.7, so it is not above a 0.7 threshold: torchvision 0.29 keeps both
    # boxes in nms and batched_nms, although the exact 7/10 exceeds the float 0.7's value.
    boxes = [[0, 0, 7, 1], [0, 0, 10, 1]]
    assert nms(boxes, [0.1, 0.1], 0.7).tolist() == [0, 1]
    assert batched_nms(boxes, [0.1, 0.1], [0, 0], 0.7).tolist() == [0, 1]
    assert nms(boxes, [0.1, 0.1], 0.69).tolist() == [0]


def test_nms_returns_indices_in_descending_score_order() -> None:
    boxes = [[0, 0, 1, 1], [5, 5, 6, 6], [10, 10, 11, 11]]
    assert nms(boxes, [0.2, 0.9, 0.5], 0.5).tolist() == [1, 2, 0]


def test_suppressed_box_does_not_suppress_others() -> None:
    # A overlaps B heavily, B overlaps C heavily, A and C barely: greedy keeps A and C.
    boxes = [[0, 0, 10, 10], [3, 0, 13, 10], [6, 0, 16, 10]]
    assert nms(boxes, [0.9, 0.8, 0.7], 0.3).tolist() == [0, 2]


def test_batched_nms_never_suppresses_across_categories() -> None:
    boxes = [[0, 0, 10, 10], [0, 0, 10, 10], [0, 0, 10, 10]]
    assert batched_nms(boxes, [0.9, 0.8, 0.7], [0, 1, 0], 0.5).tolist() == [0, 1]


def test_batched_nms_separates_categories_with_negative_coordinates() -> None:
    # All coordinates negative: an offset of idx * (max + 1) would be <= 0 and could overlap.
    boxes = [[-10, -10, -5, -5], [-10, -10, -5, -5]]
    assert batched_nms(boxes, [0.9, 0.8], [0, 1], 0.5).tolist() == [0, 1]


def test_empty_box_sets_give_empty_results() -> None:
    empty = np.zeros((0, 4))
    assert box_iou(empty, [[0, 0, 1, 1]]).shape == (0, 1)
    assert generalized_box_iou([[0, 0, 1, 1]], empty).shape == (1, 0)
    assert box_area(empty).shape == (0,)
    assert box_convert(empty, "xyxy", "cxcywh").shape == (0, 4)
    kept = nms(empty, np.zeros(0), 0.5)
    assert kept.dtype == np.int64 and kept.shape == (0,)
    kept = batched_nms([], [], [], 0.5)
    assert kept.dtype == np.int64 and kept.shape == (0,)


def test_two_zero_area_boxes_have_iou_zero_not_nan() -> None:
    assert box_iou([[1, 1, 1, 1]], [[1, 1, 1, 1]])[0, 0] == 0.0
    assert generalized_box_iou([[1, 1, 1, 1]], [[1, 1, 1, 1]])[0, 0] == 0.0


def test_giou_of_two_distant_points_is_minus_one() -> None:
    # torchvision gives NaN here (IoU is 0/0); the limit of shrinking boxes is -1.
    assert generalized_box_iou([[0, 0, 0, 0]], [[3, 4, 3, 4]])[0, 0] == -1.0


def test_giou_of_far_apart_boxes_approaches_minus_one() -> None:
    giou = generalized_box_iou([[0, 0, 1, 1]], [[1000, 1000, 1001, 1001]])[0, 0]
    assert -1.0 < giou < -0.99


@settings(max_examples=100, deadline=None)
@given(int_boxes, st.sampled_from(["xywh", "cxcywh"]))
def test_box_convert_round_trips(b: list[Box], fmt: str) -> None:
    xyxy = as_array(b)
    other = box_convert(xyxy, "xyxy", fmt)  # type: ignore[arg-type]
    np.testing.assert_allclose(box_convert(other, fmt, "xyxy"), xyxy, atol=1e-12)  # type: ignore[arg-type]


def test_box_convert_known_values() -> None:
    box = [[1, 2, 5, 8]]
    np.testing.assert_array_equal(box_convert(box, "xyxy", "xywh"), [[1, 2, 4, 6]])
    np.testing.assert_array_equal(box_convert(box, "xyxy", "cxcywh"), [[3, 5, 4, 6]])
    np.testing.assert_array_equal(box_convert([[3, 5, 4, 6]], "cxcywh", "xywh"), [[1, 2, 4, 6]])


def test_box_iou_fmt_converts_before_comparing() -> None:
    xywh = box_iou([[0, 0, 2, 2]], [[1, 0, 2, 2]], fmt="xywh")
    assert xywh[0, 0] == pytest.approx(2 / 6)


@pytest.mark.parametrize(
    ("call", "argument"),
    [
        (lambda: box_iou([[2, 0, 1, 1]], [[0, 0, 1, 1]]), "boxes1"),
        (lambda: box_iou([[0, 0, 1, 1]], [[0, 2, 1, 1]]), "boxes2"),
        (lambda: box_area([[0, 0, 1]]), "boxes"),
        (lambda: box_area([[0, 0, np.nan, 1]]), "boxes"),
        (lambda: box_convert([[0, 0, -1, 1]], "xywh", "xyxy"), "negative width"),
        (lambda: box_convert([[0, 0, 1, -1]], "cxcywh", "xyxy"), "negative height"),
        (lambda: box_convert([[0, 0, 1, 1]], "xyxy", "yxyx"), "out_fmt"),  # type: ignore[arg-type]
        (lambda: nms([[0, 0, 1, 1]], [np.nan], 0.5), "scores"),
        (lambda: nms([[0, 0, 1, 1]], [0.5, 0.4], 0.5), "scores"),
        (lambda: nms([[0, 0, 1, 1]], [0.5], 1.5), "iou_threshold"),
        (lambda: nms([[0, 0, 1, 1]], [0.5], -0.1), "iou_threshold"),
        (lambda: batched_nms([[0, 0, 1, 1]], [0.5], [0.5], 0.5), "idxs"),
        (lambda: batched_nms([[0, 0, 1, 1]], [0.5], [0, 1], 0.5), "idxs"),
    ],
)
def test_invalid_arguments_raise_value_error_naming_them(call: object, argument: str) -> None:
    with pytest.raises(ValueError, match=argument):
        call()  # type: ignore[operator]
