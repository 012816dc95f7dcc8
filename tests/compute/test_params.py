"""compute.params: parameter, MAC and FLOP counts against counting by enumeration."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compute.params import (
    NAMED_NETWORKS,
    BatchNormCounts,
    batchnorm_params,
    conv2d_flops,
    conv2d_macs,
    conv2d_params,
    depthwise_conv_params,
    depthwise_separable_params,
    linear_params,
    network_params,
    seed_conv_flops,
)

# Per-example timing is noise on a shared CI box; none of these examples is slow.
no_deadline = settings(deadline=None)


def connections(c_in: int, c_out: int, kh: int, kw: int, groups: int) -> int:
    """Count the (output channel, input channel, tap) triples a grouped conv connects."""
    per_in, per_out = c_in // groups, c_out // groups
    return sum(
        1
        for o, c, _u, _v in itertools.product(range(c_out), range(c_in), range(kh), range(kw))
        if o // per_out == c // per_in
    )


@no_deadline
@given(
    g=st.integers(1, 4),
    a=st.integers(1, 4),
    b=st.integers(1, 4),
    kh=st.integers(1, 5),
    kw=st.integers(1, 5),
    bias=st.booleans(),
)
def test_conv2d_params_count_each_connection_once_plus_biases(
    g: int, a: int, b: int, kh: int, kw: int, bias: bool
) -> None:
    c_in, c_out = g * a, g * b
    expected = connections(c_in, c_out, kh, kw, g) + (c_out if bias else 0)
    assert conv2d_params(c_in, c_out, (kh, kw), bias=bias, groups=g) == expected


@no_deadline
@given(
    c_in=st.integers(1, 6),
    c_out=st.integers(1, 6),
    k=st.integers(1, 4),
    out=st.tuples(st.integers(1, 5), st.integers(1, 5)),
    bias=st.booleans(),
)
def test_macs_and_flops_count_the_multiplies_of_a_naive_loop(
    c_in: int, c_out: int, k: int, out: tuple[int, int], bias: bool
) -> None:
    multiplies = sum(
        1
        for _ in itertools.product(range(c_out), range(out[0]), range(out[1]), range(c_in * k * k))
    )
    outputs = c_out * out[0] * out[1]
    assert conv2d_macs(c_in, c_out, k, out) == multiplies
    assert conv2d_flops(c_in, c_out, k, out, bias=bias) == 2 * multiplies + (outputs if bias else 0)


@no_deadline
@given(c=st.integers(1, 64), k=st.integers(1, 7), m=st.integers(1, 3), bias=st.booleans())
def test_depthwise_conv_is_a_conv_with_one_group_per_channel(
    c: int, k: int, m: int, bias: bool
) -> None:
    assert depthwise_conv_params(c, k, bias, m) == conv2d_params(c, c * m, k, bias, groups=c)
    assert depthwise_conv_params(c, k, bias, m) == c * m * (k * k + (1 if bias else 0))


@no_deadline
@given(c_in=st.integers(1, 64), c_out=st.integers(1, 64), k=st.integers(1, 7))
def test_depthwise_separable_is_depthwise_plus_pointwise(c_in: int, c_out: int, k: int) -> None:
    assert depthwise_separable_params(c_in, c_out, k) == c_in * k * k + c_in * c_out
    assert depthwise_separable_params(c_in, c_out, k, bias=True) == (
        c_in * k * k + c_in + c_in * c_out + c_out
    )


def test_linear_and_batchnorm_counts() -> None:
    assert linear_params(120, 84) == 120 * 84 + 84
    assert linear_params(120, 84, bias=False) == 120 * 84
    assert batchnorm_params(64) == BatchNormCounts(learnable=128, buffers=129)
    assert batchnorm_params(64, affine=False) == BatchNormCounts(learnable=0, buffers=129)
    assert batchnorm_params(64, track_running_stats=False) == BatchNormCounts(128, 0)


def test_seed_flop_formula_uses_the_input_size_and_counts_the_bias_once_per_output() -> None:
    # 3x3 conv, 16 -> 32 channels, 28x28 input ("same" padding keeps 28x28).
    assert seed_conv_flops(16, 32, 3, 28) == 28 * 28 * (3 * 3 * 16 + 1) * 32
    assert seed_conv_flops(16, 32, 3, 28) == conv2d_macs(16, 32, 3, 28) + 28 * 28 * 32
    assert seed_conv_flops(16, 32, 3, (28, 14)) == 28 * 14 * (3 * 3 * 16 + 1) * 32


@pytest.mark.parametrize(
    ("name", "total"),
    [
        ("lenet5", 61_706),
        ("alexnet", 61_100_840),
        ("vgg16", 138_357_544),
        ("vgg16_bn", 138_365_992),
        ("resnet18", 11_689_512),
        ("resnet50", 25_557_032),
        ("googlenet", 6_624_904),
        ("squeezenet1_0", 1_248_424),
        ("mobilenet_v2", 3_504_872),
    ],
)
def test_named_networks_total_torchvisions_parameter_counts(name: str, total: int) -> None:
    assert network_params(NAMED_NETWORKS[name]) == total


def test_network_spec_language_sums_its_layers() -> None:
    spec = [("conv", 3, 8, 3), ("bn", 8), ("conv", 8, 8, 3, False, 8), ("linear", 8, 2, False)]
    assert network_params(spec) == (3 * 8 * 9 + 8) + 16 + 8 * 9 + 16
    assert network_params([]) == 0


@pytest.mark.parametrize(
    ("spec", "argument"),
    [
        ([("pool", 2)], "unknown layer kind"),
        ([("conv", 3, 8)], "unknown layer kind"),
        ([("conv", 3, 8, 3, True, 2)], "groups"),
        ([("linear", 0, 8)], "in_features"),
        ([("bn", 8), ("bn", -1)], r"spec\[1\]: num_features"),
        (["conv"], "non-empty tuple"),
    ],
)
def test_bad_specs_raise_naming_the_entry(spec: list[tuple[object, ...]], argument: str) -> None:
    with pytest.raises(ValueError, match=argument):
        network_params(spec)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("call", "argument"),
    [
        (lambda: conv2d_params(0, 8, 3), "in_channels"),
        (lambda: conv2d_params(3, 8, 0), "kernel_size"),
        (lambda: conv2d_params(6, 8, 3, groups=4), "groups"),
        (lambda: conv2d_params(6, 8, 3, bias=1), "bias"),  # type: ignore[arg-type]
        (lambda: depthwise_conv_params(8, 3, multiplier=0), "multiplier"),
        (lambda: linear_params(8, -2), "out_features"),
        (lambda: batchnorm_params(0), "num_features"),
        (lambda: conv2d_macs(3, 8, 3, 0), "output_size"),
        (lambda: seed_conv_flops(3, 8, 3, (4, 0)), "input_size"),
    ],
)
def test_invalid_arguments_raise_naming_the_argument(call, argument: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match=argument):
        call()
