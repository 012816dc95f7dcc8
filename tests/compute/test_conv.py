"""compute.conv: output sizes against brute-force window enumeration, and argument checks."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compute.conv import (
    conv2d_output_shape,
    conv_output_length,
    conv_transpose_output_length,
    effective_kernel_size,
    keras_conv_output_length,
    pool2d_output_shape,
    pool_output_length,
    same_padding,
)

small = st.integers(min_value=1, max_value=12)

# Per-example timing is noise on a shared CI box; none of these examples is slow.
no_deadline = settings(deadline=None)


def tap_positions(start: int, kernel: int, dilation: int) -> list[int]:
    return [start + t * dilation for t in range(kernel)]


def count_full_windows(padded_length: int, kernel: int, stride: int, dilation: int) -> int:
    """Enumerate window starts 0, stride, 2*stride, ... whose every tap lies in the padded input."""
    return sum(
        1
        for start in range(0, padded_length, stride)
        if max(tap_positions(start, kernel, dilation)) < padded_length
    )


def count_ceil_windows(length: int, kernel: int, stride: int, padding: int, dilation: int) -> int:
    """PyTorch ceil_mode by enumeration: a window may hang over the end of the padded input by
    less than one stride (its last tap before ``padded - 1 + stride``), and may not start in
    the right padding."""
    padded = length + 2 * padding
    return sum(
        1
        for start in range(0, padded + stride, stride)
        if max(tap_positions(start, kernel, dilation)) < padded - 1 + stride
        and start < length + padding
    )


@no_deadline
@given(length=st.integers(1, 40), kernel=small, stride=small, padding=st.integers(0, 6), dil=small)
def test_conv_output_length_counts_every_window_that_fits(
    length: int, kernel: int, stride: int, padding: int, dil: int
) -> None:
    expected = count_full_windows(length + 2 * padding, kernel, stride, dil)
    if expected == 0:
        with pytest.raises(ValueError, match="kernel"):
            conv_output_length(length, kernel, stride, padding, dil)
    else:
        assert conv_output_length(length, kernel, stride, padding, dil) == expected


@no_deadline
@given(length=st.integers(1, 40), kernel=small, stride=small, dil=st.integers(1, 4), data=st.data())
def test_pool_output_length_floor_mode_counts_full_windows(
    length: int, kernel: int, stride: int, dil: int, data: st.DataObject
) -> None:
    padding = data.draw(st.integers(0, kernel // 2))
    expected = count_full_windows(length + 2 * padding, kernel, stride, dil)
    if expected == 0:
        with pytest.raises(ValueError, match="kernel"):
            pool_output_length(length, kernel, stride, padding, dil)
    else:
        assert pool_output_length(length, kernel, stride, padding, dil) == expected


@no_deadline
@given(length=st.integers(1, 40), kernel=small, stride=small, dil=st.integers(1, 4), data=st.data())
def test_pool_output_length_ceil_mode_never_starts_a_window_in_the_right_padding(
    length: int, kernel: int, stride: int, dil: int, data: st.DataObject
) -> None:
    padding = data.draw(st.integers(0, kernel // 2))
    expected = count_ceil_windows(length, kernel, stride, padding, dil)
    if expected == 0:
        with pytest.raises(ValueError, match="kernel"):
            pool_output_length(length, kernel, stride, padding, dil, ceil_mode=True)
        return
    got = pool_output_length(length, kernel, stride, padding, dil, ceil_mode=True)
    assert got == expected
    floor_count = count_full_windows(length + 2 * padding, kernel, stride, dil)
    assert floor_count <= got <= floor_count + 1


def test_ceil_mode_drops_the_window_that_would_start_in_the_right_padding() -> None:
    # L=5, k=3, s=3, p=1: ceil((5+2-3)/3)+1 = 3 windows, but the third starts at padded index 6,
    # which is the right padding (input occupies 1..5), so PyTorch keeps 2.
    assert pool_output_length(5, 3, 3, 1, ceil_mode=True) == 2
    assert pool_output_length(5, 3, 3, 1, ceil_mode=False) == 2
    # A partial window that starts inside the input is kept: L=5, k=2, s=2 gives floor 2, ceil 3.
    assert pool_output_length(5, 2, 2, 0, ceil_mode=True) == 3
    assert pool_output_length(5, 2, 2, 0, ceil_mode=False) == 2


def test_pool_stride_defaults_to_kernel() -> None:
    assert pool_output_length(32, 2) == 16
    assert pool2d_output_shape((1, 3, 224, 224), 2) == (1, 3, 112, 112)


@no_deadline
@given(length=st.integers(1, 30), kernel=small, stride=small, dil=small, data=st.data())
def test_keras_same_and_valid_match_window_enumeration(
    length: int, kernel: int, stride: int, dil: int, data: st.DataObject
) -> None:
    if stride > 1 and dil > 1:
        with pytest.raises(ValueError, match="dilation"):
            keras_conv_output_length(length, kernel, stride, "valid", dil)
        return
    # "same": one output per stride step that starts inside the input.
    assert keras_conv_output_length(length, kernel, stride, "same", dil) == len(
        range(0, length, stride)
    )
    valid = count_full_windows(length, kernel, stride, dil)
    if valid == 0:
        with pytest.raises(ValueError, match="kernel"):
            keras_conv_output_length(length, kernel, stride, "valid", dil)
    else:
        assert keras_conv_output_length(length, kernel, stride, "valid", dil) == valid


@no_deadline
@given(length=st.integers(1, 30), kernel=small, stride=small, dil=st.integers(1, 5), data=st.data())
def test_conv_transpose_output_is_an_input_that_the_conv_maps_back(
    length: int, kernel: int, stride: int, dil: int, data: st.DataObject
) -> None:
    padding = data.draw(st.integers(0, 5))
    output_padding = data.draw(st.integers(0, stride - 1))
    eff = dil * (kernel - 1) + 1
    out_len = (length - 1) * stride - 2 * padding + eff + output_padding
    if out_len < 1:
        with pytest.raises(ValueError, match="padding"):
            conv_transpose_output_length(length, kernel, stride, padding, output_padding, dil)
        return
    got = conv_transpose_output_length(length, kernel, stride, padding, output_padding, dil)
    # Scatter picture: input i writes to taps i*s + t*d (t < k) of the full output, which is
    # then cropped by `padding` on both sides and extended by `output_padding`.
    full = max(i * stride + t * dil for i in range(length) for t in range(kernel)) + 1
    assert got == full - 2 * padding + output_padding
    # The forward conv with the same hyper-parameters maps the transposed output back to length.
    assert conv_output_length(got, kernel, stride, padding, dil) == length


def test_conv_transpose_output_padding_may_exceed_stride_when_below_dilation() -> None:
    assert conv_transpose_output_length(3, 3, stride=1, output_padding=1, dilation=2) == 8
    with pytest.raises(ValueError, match="output_padding"):
        conv_transpose_output_length(3, 3, stride=2, output_padding=2, dilation=2)


@no_deadline
@given(kernel=st.integers(1, 9), dil=st.integers(1, 6))
def test_effective_kernel_is_the_span_of_the_dilated_taps(kernel: int, dil: int) -> None:
    taps = tap_positions(0, kernel, dil)
    assert effective_kernel_size(kernel, dil) == taps[-1] - taps[0] + 1


@no_deadline
@given(kernel=st.integers(1, 9), dil=st.integers(1, 6), length=st.integers(1, 30))
def test_same_padding_keeps_the_length_at_stride_one(kernel: int, dil: int, length: int) -> None:
    eff = effective_kernel_size(kernel, dil)
    if eff % 2 == 0:
        with pytest.raises(ValueError, match="even"):
            same_padding(kernel, dil)
    else:
        assert conv_output_length(length, kernel, 1, same_padding(kernel, dil), dil) == length


def test_conv2d_output_shape_handles_pairs_same_and_valid() -> None:
    assert conv2d_output_shape((2, 3, 10, 20), 8, (3, 5), (2, 1), (1, 2), (1, 2)) == (2, 8, 5, 16)
    assert conv2d_output_shape((2, 3, 10, 20), 8, 4, padding="same", dilation=3) == (2, 8, 10, 20)
    assert conv2d_output_shape((2, 3, 10, 20), 8, 3, padding="valid") == (2, 8, 8, 18)


@pytest.mark.parametrize(
    ("call", "argument"),
    [
        (lambda: conv_output_length(10, 3, stride=0), "stride"),
        (lambda: conv_output_length(10, 0), "kernel"),
        (lambda: conv_output_length(-1, 3), "length"),
        (lambda: conv_output_length(10, 3, padding=-1), "padding"),
        (lambda: conv_output_length(10, 3, dilation=0), "dilation"),
        (lambda: conv_output_length(4, 7, padding=1), "kernel"),
        (lambda: conv_output_length(10, 3, stride=1.5), "stride"),  # type: ignore[arg-type]
        (lambda: conv_output_length(10, True), "kernel"),
        (lambda: pool_output_length(10, 3, padding=2), "padding"),
        (lambda: pool_output_length(10, 3, stride=0), "stride"),
        (lambda: pool_output_length(2, 5, padding=1), "kernel"),
        (lambda: conv_transpose_output_length(4, 3, stride=2, output_padding=2), "output_padding"),
        (lambda: conv_transpose_output_length(1, 1, padding=1), "padding"),
        (lambda: keras_conv_output_length(10, 3, padding="full"), "padding"),  # type: ignore[arg-type]
        (lambda: keras_conv_output_length(2, 3), "kernel"),
        (lambda: same_padding(4), "kernel"),
        (lambda: conv2d_output_shape((1, 3, 8, 8), 4, 3, stride=2, padding="same"), "padding"),
        (lambda: conv2d_output_shape((1, 3, 8, 8), 4, (3, 3, 3)), "kernel_size"),  # type: ignore[arg-type]
        (lambda: conv2d_output_shape((1, 3, 8), 4, 3), "input_shape"),  # type: ignore[arg-type]
        (lambda: conv2d_output_shape((1, 3, 8, 8), 0, 3), "out_channels"),
        (lambda: pool2d_output_shape((1, 3, 8, 8), 2, padding=(0, 2)), "padding"),
    ],
)
def test_invalid_arguments_raise_value_error_naming_the_argument(call, argument: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match=argument):
        call()
