"""compute.receptive: receptive field, jump and start against brute-force tap tracing."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compute.conv import conv_output_length
from compute.receptive import (
    NAMED_STACKS,
    Layer,
    dilated_stack_receptive_field,
    receptive_fields,
)

layer_strategy = st.builds(
    Layer,
    name=st.just("layer"),
    kernel=st.integers(1, 7),
    stride=st.integers(1, 3),
    padding=st.integers(0, 3),
    dilation=st.integers(1, 3),
)

# Per-example timing is noise on a shared CI box; none of these examples is slow.
no_deadline = settings(deadline=None)


def input_positions(layers: list[Layer], unit: int) -> set[int]:
    """Trace output unit `unit` of the last layer down to the input pixels it reads (padding
    positions are kept as negative / out-of-range indices: the field is not clipped)."""
    positions = {unit}
    for layer in reversed(layers):
        positions = {
            out * layer.stride - layer.padding + tap * layer.dilation
            for out in positions
            for tap in range(layer.kernel)
        }
    return positions


@no_deadline
@given(st.lists(layer_strategy, min_size=1, max_size=5))
def test_receptive_field_jump_and_start_match_tap_tracing(layers: list[Layer]) -> None:
    fields = receptive_fields(layers)
    for depth in range(1, len(layers) + 1):
        field = fields[depth - 1]
        first = input_positions(layers[:depth], 0)
        second = input_positions(layers[:depth], 1)
        assert field.receptive_field == max(first) - min(first) + 1
        assert field.jump == min(second) - min(first)
        assert field.start == (min(first) + max(first)) / 2
        assert field.output_size is None


@no_deadline
@given(st.lists(layer_strategy, min_size=1, max_size=4), st.integers(1, 200))
def test_output_sizes_follow_the_floor_rule_layer_by_layer(layers: list[Layer], size: int) -> None:
    expected: list[int] = []
    current = size
    try:
        for layer in layers:
            current = conv_output_length(
                current, layer.kernel, layer.stride, layer.padding, layer.dilation
            )
            expected.append(current)
    except ValueError:
        with pytest.raises(ValueError, match="kernel"):
            receptive_fields(layers, size)
        return
    assert [f.output_size for f in receptive_fields(layers, size)] == expected


@no_deadline
@given(st.integers(1, 7), st.lists(st.integers(1, 8), max_size=6))
def test_dilated_stack_equals_the_general_recurrence(kernel: int, dilations: list[int]) -> None:
    layers = [Layer("d", kernel, dilation=d) for d in dilations]
    expected = receptive_fields(layers)[-1].receptive_field if layers else 1
    assert dilated_stack_receptive_field(kernel, dilations) == expected


def test_two_stacked_3x3_convs_see_5x5_and_three_see_7x7() -> None:
    three = [Layer(f"conv{i}", 3) for i in range(3)]
    assert [f.receptive_field for f in receptive_fields(three)] == [3, 5, 7]


def test_named_stacks_are_the_four_networks_of_the_seed() -> None:
    assert set(NAMED_STACKS) == {"lenet5", "alexnet", "zf5", "vgg16"}
    assert len(NAMED_STACKS["vgg16"]) == 18  # 13 convs + 5 pools
    assert all(layer.dilation == 1 for stack in NAMED_STACKS.values() for layer in stack)


def test_lenet5_on_32x32_reaches_a_1x1_map_seeing_the_whole_image() -> None:
    fields = receptive_fields(NAMED_STACKS["lenet5"], 32)
    assert [f.output_size for f in fields] == [28, 14, 10, 5, 1]
    assert [f.receptive_field for f in fields] == [5, 6, 14, 16, 32]


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"kernel": 0}, "kernel"),
        ({"kernel": 3, "stride": 0}, "stride"),
        ({"kernel": 3, "padding": -1}, "padding"),
        ({"kernel": 3, "dilation": 0}, "dilation"),
    ],
)
def test_invalid_layer_raises_naming_the_argument(kwargs: dict[str, int], argument: str) -> None:
    with pytest.raises(ValueError, match=argument):
        Layer("bad", **kwargs)


def test_invalid_stack_arguments_raise() -> None:
    with pytest.raises(ValueError, match="input_size"):
        receptive_fields([Layer("c", 3)], 0)
    with pytest.raises(ValueError, match="layers"):
        receptive_fields([(3, 1, 0)])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="dilations"):
        dilated_stack_receptive_field(3, [1, 0])
