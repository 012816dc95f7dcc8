"""Every convolution-side worked example of the seed documents, reproduced with compute/.

Section numbers refer to /work/shared/seeds (000 = interview questions, 001 = lecture outline,
002 = lightweight networks, 003 = CNN FAQ). Where a document's figure is wrong, the test asserts
the true value and an "ERRATUM" comment records what the document printed.
"""

from __future__ import annotations

import numpy as np
import pytest

from compute.conv import (
    conv2d_output_shape,
    conv_output_length,
    conv_transpose_output_length,
    effective_kernel_size,
    pool2d_output_shape,
    same_padding,
)
from compute.im2col import conv2d_im2col, im2col
from compute.params import (
    NAMED_NETWORKS,
    conv2d_macs,
    conv2d_params,
    depthwise_separable_params,
    linear_params,
    network_params,
    seed_conv_flops,
)
from compute.receptive import (
    NAMED_STACKS,
    Layer,
    dilated_stack_receptive_field,
    receptive_fields,
)
from compute.roi import roi_align, roi_pool, roi_pool_quantization

# --- 000 section 2.2: transposed convolution ------------------------------------------------


def test_000_2_2_transposed_conv_2x2_kernel_4_stride_3_gives_7x7() -> None:
    assert conv_transpose_output_length(2, kernel=4, stride=3, padding=0) == 7  # (2-1)*3 + 4


def test_000_2_2_kernel_3_pad_1_and_kernel_5_pad_2_keep_the_size_at_stride_1() -> None:
    for length in (7, 32, 224):
        assert conv_output_length(length, 3, 1, 1) == length
        assert conv_output_length(length, 5, 1, 2) == length


# --- 000 section 4.1: MaxPool2d ---------------------------------------------------------------


def test_000_4_1_maxpool_3_2_1_on_20_16_50_32_gives_20_16_25_16() -> None:
    # The source prints torch.Size([20, 16, 25, 16]): correct.
    assert pool2d_output_shape((20, 16, 50, 32), 3, 2, 1) == (20, 16, 25, 16)


# --- 000 section 5.1: Conv2d and its two commented variants ---------------------------------


def test_000_5_1_conv2d_16_33_3_stride_2_on_20_16_50_100() -> None:
    # Height (50 - 3) / 2 + 1 = 24.5 -> 24 (floor), width (100 - 3) / 2 + 1 = 49.5 -> 49.
    # ERRATUM: the source prints torch.Size([20, 16, 24, 49]); the channel count is
    # out_channels = 33, not 16 (PyTorch gives [20, 33, 24, 49]).
    assert conv2d_output_shape((20, 16, 50, 100), 33, 3, stride=2) == (20, 33, 24, 49)


def test_000_5_1_non_square_kernel_unequal_stride_with_padding() -> None:
    # (50 + 8 - 3) / 2 + 1 = 28.5 -> 28 and (100 + 4 - 5) / 1 + 1 = 100; printed [20, 33, 28, 100].
    shape = conv2d_output_shape((20, 16, 50, 100), 33, (3, 5), (2, 1), (4, 2))
    assert shape == (20, 33, 28, 100)


def test_000_5_1_non_square_kernel_with_padding_and_dilation() -> None:
    # Dilation 3 makes the 3-tap kernel span 7: (50 + 8 - 7) / 2 + 1 = 26.5 -> 26; printed
    # [20, 33, 26, 100]: correct.
    shape = conv2d_output_shape((20, 16, 50, 100), 33, (3, 5), (2, 1), (4, 2), (3, 1))
    assert shape == (20, 33, 26, 100)


# --- 000 section 8.1: receptive field table at 224x224 --------------------------------------

# (name, output size, layer stride, receptive field) exactly as the source's program printed
# them. Every printed value checks out against PyTorch's floor rule and the RF recurrence.
# (Real AlexNet reaches 55 after conv1 because it pads by 2 or takes 227 pixels; the seed's
# net_struct has no padding, so 54 is right for the network as written.)
PRINTED_TABLE = {
    "alexnet": [
        ("conv1", 54, 4, 11),
        ("pool1", 26, 2, 19),
        ("conv2", 26, 1, 51),
        ("pool2", 12, 2, 67),
        ("conv3", 12, 1, 99),
        ("conv4", 12, 1, 131),
        ("conv5", 12, 1, 163),
        ("pool5", 5, 2, 195),
    ],
    "vgg16": [
        ("conv1_1", 224, 1, 3),
        ("conv1_2", 224, 1, 5),
        ("pool1", 112, 2, 6),
        ("conv2_1", 112, 1, 10),
        ("conv2_2", 112, 1, 14),
        ("pool2", 56, 2, 16),
        ("conv3_1", 56, 1, 24),
        ("conv3_2", 56, 1, 32),
        ("conv3_3", 56, 1, 40),
        ("pool3", 28, 2, 44),
        ("conv4_1", 28, 1, 60),
        ("conv4_2", 28, 1, 76),
        ("conv4_3", 28, 1, 92),
        ("pool4", 14, 2, 100),
        ("conv5_1", 14, 1, 132),
        ("conv5_2", 14, 1, 164),
        ("conv5_3", 14, 1, 196),
        ("pool5", 7, 2, 212),
    ],
    "zf5": [
        ("conv1", 112, 2, 7),
        ("pool1", 56, 2, 11),
        ("conv2", 28, 2, 27),
        ("pool2", 14, 2, 43),
        ("conv3", 14, 1, 75),
        ("conv4", 14, 1, 107),
        ("conv5", 14, 1, 139),
    ],
}


@pytest.mark.parametrize("network", sorted(PRINTED_TABLE))
def test_000_8_1_receptive_field_table_at_224(network: str) -> None:
    stack = NAMED_STACKS[network]
    fields = receptive_fields(stack, 224)
    got = [
        (field.name, field.output_size, layer.stride, field.receptive_field)
        for layer, field in zip(stack, fields, strict=True)
    ]
    assert got == PRINTED_TABLE[network]
    # The "Stride" column is each layer's own stride; the cumulative jump is their product.
    assert fields[-1].jump == int(np.prod([layer.stride for layer in stack]))


def test_000_8_1_top_down_formula_gives_the_same_fields() -> None:
    # The source's inFromOut: RF = (RF - 1) * stride + kernel, from the layer down to the input.
    for stack in NAMED_STACKS.values():
        for depth, field in enumerate(receptive_fields(stack), start=1):
            rf = 1
            for layer in reversed(stack[:depth]):
                rf = (rf - 1) * layer.stride + layer.kernel
            assert field.receptive_field == rf


# --- 000 section 23: stacked 3x3 convolutions -------------------------------------------------


def test_000_23_two_3x3_convs_have_0_72_of_the_weights_of_one_5x5() -> None:
    for channels in (1, 64, 256):
        two_3x3 = 2 * conv2d_params(channels, channels, 3, bias=False)
        one_5x5 = conv2d_params(channels, channels, 5, bias=False)
        assert two_3x3 / one_5x5 == pytest.approx(0.72)  # 2*3*3 / (5*5)
    assert receptive_fields([Layer("a", 3), Layer("b", 3)])[-1].receptive_field == 5


def test_000_23_three_3x3_convs_versus_one_7x7_with_c_channels() -> None:
    # ERRATUM (notation): the source writes 3x(3x3C) = 27C and 7x7xC = 49C; with C channels in
    # and out the counts are 27C^2 and 49C^2 weights (the VGG paper's figures). The ratio is
    # unaffected: 49/27 = 1.81, i.e. the 7x7 layer has 81% more parameters, as the source says.
    for channels in (1, 3, 64, 512):
        three_3x3 = 3 * conv2d_params(channels, channels, 3, bias=False)
        one_7x7 = conv2d_params(channels, channels, 7, bias=False)
        assert three_3x3 == 27 * channels**2
        assert one_7x7 == 49 * channels**2
        assert round((one_7x7 / three_3x3 - 1) * 100) == 81
    three = [Layer(f"conv{i}", 3) for i in range(3)]
    assert receptive_fields(three)[-1].receptive_field == 7


def test_000_23_1_one_by_one_conv_with_20_filters_on_500x500x100() -> None:
    assert conv2d_output_shape((1, 100, 500, 500), 20, 1) == (1, 20, 500, 500)
    assert conv2d_params(100, 20, 1) == 2020  # 100 weights per filter + 1 bias, 20 filters
    assert conv2d_params(100, 20, 1, bias=False) == 2000


# --- 000 section 34: RoI Pooling versus RoI Align ---------------------------------------------


def test_000_34_vgg16_maps_an_800x800_image_to_25x25_at_stride_32() -> None:
    last = receptive_fields(NAMED_STACKS["vgg16"], 800)[-1]
    assert (last.output_size, last.jump) == (25, 32)


def test_000_34_roi_pooling_quantizes_twice() -> None:
    feature, feature_int, bin_float, bin_int = roi_pool_quantization(665, 1 / 32, 7)
    assert feature == pytest.approx(20.78, abs=0.005)  # 665 / 32 = 20.78125
    assert feature_int == 20  # first quantization
    assert bin_float == pytest.approx(2.86, abs=0.005)  # 20 / 7 = 2.857
    assert bin_int == 2  # second quantization: the 7 bins cover 14 of the 20 cells


def test_000_34_roi_align_keeps_the_fractions() -> None:
    # Align keeps 20.78 cells and bins of 20.78 / 7 = 2.97; on a map whose value is the column
    # index, each bin's average of bilinear samples is exactly its (fractional) centre.
    ramp = np.broadcast_to(np.arange(25.0), (1, 1, 25, 25))
    roi = [[0, 0.0, 0.0, 665.0, 665.0]]
    got = roi_align(ramp, roi, 7, spatial_scale=1 / 32, sampling_ratio=2)
    bin_size = 665 / 32 / 7
    assert bin_size == pytest.approx(2.97, abs=0.005)
    np.testing.assert_allclose(got[0, 0, 0], (np.arange(7) + 0.5) * bin_size, rtol=1e-12)
    # NOTE: the source says RoI Align keeps the MAXIMUM of the four sampled points; torchvision
    # (and Mask R-CNN's reference implementation) AVERAGE them, which is what this asserts.


def test_000_34_torchvision_roi_pool_rounds_corners_instead_of_flooring_the_size() -> None:
    # torchvision's roi_pool rounds the scaled corners (0 and 20.78 -> 21) and counts the end
    # cell, so the box spans 22 cells and bin p covers [floor(p*22/7), ceil((p+1)*22/7)).
    # The source's walk-through (floor to 20, then to bins of 2) is the textbook description.
    ramp = np.broadcast_to(np.arange(25.0), (1, 1, 25, 25))
    got = roi_pool(ramp, [[0, 0.0, 0.0, 665.0, 665.0]], 7, spatial_scale=1 / 32)
    last_cell_of_each_bin = [np.ceil((p + 1) * 22 / 7) - 1 for p in range(7)]
    assert got[0, 0, 0].tolist() == last_cell_of_each_bin == [3, 6, 9, 12, 15, 18, 21]


# --- 001 section 3.6: kernel size, parameter and FLOP formulas -------------------------------


def test_001_3_6_one_5x5_kernel_has_25_weights_and_two_3x3_have_18() -> None:
    assert conv2d_params(1, 1, 5, bias=False) == 25
    assert 2 * conv2d_params(1, 1, 3, bias=False) == 18
    # On a 5x5 image both reduce to 1x1: 5 -> 1 directly, or 5 -> 3 -> 1.
    assert conv_output_length(5, 5) == 1
    assert conv_output_length(conv_output_length(5, 3), 3) == 1


@pytest.mark.parametrize(
    ("kw", "kh", "c_in", "c_out"), [(3, 3, 3, 64), (5, 5, 16, 32), (1, 7, 8, 8)]
)
def test_001_3_6_parameter_formula(kw: int, kh: int, c_in: int, c_out: int) -> None:
    assert conv2d_params(c_in, c_out, (kh, kw)) == (kw * kh * c_in + 1) * c_out


def test_001_3_6_flop_formula_as_printed() -> None:
    # In_w * In_h * (k_w * k_h * C_in + 1) * C_out. It counts one operation per
    # multiply-accumulate plus the bias add, and uses the INPUT size, so it equals the true
    # count only when the output is as large as the input (stride 1, "same" padding):
    assert seed_conv_flops(3, 64, 3, 224) == 224 * 224 * (3 * 3 * 3 + 1) * 64
    assert seed_conv_flops(3, 64, 3, 224) == (
        conv2d_flops_one_op_per_mac(3, 64, 3, conv_output_length(224, 3, 1, 1))
    )
    # Without padding the output is 222x222 and the printed formula overcounts.
    assert seed_conv_flops(3, 64, 3, 224) > conv2d_flops_one_op_per_mac(
        3, 64, 3, conv_output_length(224, 3)
    )


def conv2d_flops_one_op_per_mac(c_in: int, c_out: int, k: int, out: int) -> int:
    return conv2d_macs(c_in, c_out, k, out) + out * out * c_out


# --- 001 section 3.7: "same" padding ------------------------------------------------------------


@pytest.mark.parametrize(("kernel", "padding"), [(3, 1), (5, 2), (7, 3)])
def test_001_3_7_same_padding_for_f_3_5_7(kernel: int, padding: int) -> None:
    assert same_padding(kernel) == padding


# --- 001 sections 3.15-3.17: network sizes ----------------------------------------------------


def test_001_3_16_vgg16_has_about_138m_parameters() -> None:
    total = network_params(NAMED_NETWORKS["vgg16"])
    assert total == 138_357_544
    assert round(total / 1e6) == 138


def test_001_3_15_alexnet_has_over_60m_parameters() -> None:
    total = network_params(NAMED_NETWORKS["alexnet"])
    assert total == 61_100_840
    assert total > 60_000_000


def test_001_3_17_googlenet_parameter_count() -> None:
    # The source says 6.8M. torchvision's GoogLeNet (BatchNorm after each conv, no auxiliary
    # heads) has 6,624,904 parameters, i.e. 6.6M; the 6.8M figure is the commonly quoted one for
    # the original Inception v1 and is not what the torchvision model gives.
    total = network_params(NAMED_NETWORKS["googlenet"])
    assert total == 6_624_904
    assert 6.5e6 < total < 6.8e6


# --- 002 MobileNet: depthwise separable convolution -------------------------------------------


def test_002_mobilenet_3_to_4_channels_3x3_costs_108_versus_39() -> None:
    assert conv2d_params(3, 4, 3, bias=False) == 108  # 3*3*3*4
    assert depthwise_separable_params(3, 4, 3) == 39  # 3*3*1*3 + 1*1*3*4


# --- 003 section 2.3: channels ------------------------------------------------------------------


def test_003_2_3_6x6x3_input_with_3x3x3_kernels() -> None:
    assert conv2d_output_shape((1, 3, 6, 6), 1, 3) == (1, 1, 4, 4)
    assert conv2d_output_shape((1, 3, 6, 6), 2, 3) == (1, 2, 4, 4)
    rng = np.random.default_rng(23)
    image, kernels = rng.normal(size=(1, 3, 6, 6)), rng.normal(size=(2, 3, 3, 3))
    out = conv2d_im2col(image, kernels)
    assert out.shape == (1, 2, 4, 4)
    # Each output value is the sum of the 27 products of one kernel with one 3x3x3 window.
    assert out[0, 1, 2, 3] == pytest.approx(float(np.sum(kernels[1] * image[0, :, 2:5, 3:6])))


# --- 003 section 2.2: a fully connected layer as a convolution -------------------------------


def test_003_2_2_fc_on_7x7x512_to_4096_is_a_7x7_conv_with_4096_filters() -> None:
    # ERRATUM: the source calls the 7x7x512 map AlexNet's; AlexNet's last map is 6x6x256 (three
    # max pools, 256 channels) and its first FC layer has 9216*4096 + 4096 = 37,752,832
    # parameters. 7x7x512 is VGG16's last map (five pools of a 224 input).
    assert linear_params(7 * 7 * 512, 4096) == conv2d_params(512, 4096, 7) == 102_764_544
    assert conv2d_output_shape((1, 512, 7, 7), 4096, 7) == (1, 4096, 1, 1)
    assert linear_params(6 * 6 * 256, 4096) == 37_752_832
    # The second FC (4096 -> 4096) is a 1x1 conv on the 1x1x4096 map.
    assert linear_params(4096, 4096) == conv2d_params(4096, 4096, 1)


def test_003_2_2_fc_and_full_size_conv_compute_the_same_numbers() -> None:
    # The same equivalence, small enough to run: a 7x7x8 map into 16 units.
    rng = np.random.default_rng(22)
    feature_map, weight, bias = (
        rng.normal(size=(2, 8, 7, 7)),
        rng.normal(size=(16, 8, 7, 7)),
        rng.normal(size=16),
    )
    as_conv = conv2d_im2col(feature_map, weight, bias)[:, :, 0, 0]
    as_fc = feature_map.reshape(2, -1) @ weight.reshape(16, -1).T + bias
    np.testing.assert_allclose(as_conv, as_fc, rtol=1e-12)


# --- 003 section 4.4: im2col --------------------------------------------------------------------


def test_003_4_4_im2col_of_a_3x3_kernel_over_a_5x5_image_is_9x9() -> None:
    image = np.arange(25.0).reshape(1, 5, 5)
    kernel = np.arange(9.0).reshape(1, 1, 3, 3)
    columns = im2col(image, 3)
    # 9 windows (a 3x3 output) of 9 pixels each. PyTorch's unfold puts a window in each
    # COLUMN (rows = kernel positions); the source describes the transposed layout (a window
    # per row). With a 3x3 kernel on 5x5 both are 9x9.
    assert columns.shape == (9, 9)
    assert columns[:, 0].tolist() == [0, 1, 2, 5, 6, 7, 10, 11, 12]  # first window
    assert columns[:, 8].tolist() == [12, 13, 14, 17, 18, 19, 22, 23, 24]  # last window
    # The kernel as a 1x9 row vector times the matrix gives 1x9, reshaped into the 3x3 map.
    feature_map = (kernel.reshape(1, 9) @ columns).reshape(3, 3)
    np.testing.assert_array_equal(feature_map, conv2d_im2col(image[np.newaxis], kernel)[0, 0])


# --- 003 section 5.1: dilated convolution -------------------------------------------------------


@pytest.mark.parametrize(("dilation", "span"), [(1, 3), (2, 5), (4, 9)])
def test_003_5_1_effective_kernel_size(dilation: int, span: int) -> None:
    assert effective_kernel_size(3, dilation) == 3 + (3 - 1) * (dilation - 1) == span


def test_003_5_1_receptive_fields_3_7_15_for_dilations_1_2_4() -> None:
    # NOTE: 7x7 and 15x15 are the fields of the STACK 1 -> 2 -> 4 (the figure from Yu & Koltun).
    # A single 3x3 kernel with dilation 2 or 4 alone spans only 5 or 9 pixels, as above.
    assert [dilated_stack_receptive_field(3, [1, 2, 4][:n]) for n in (1, 2, 3)] == [3, 7, 15]
    assert [
        f.receptive_field**2
        for f in receptive_fields(
            [Layer("d1", 3, dilation=1), Layer("d2", 3, dilation=2), Layer("d4", 3, dilation=4)]
        )
    ] == [9, 49, 225]


# --- 003 section 6.1: transposed convolution size ---------------------------------------------


@pytest.mark.parametrize(
    ("o", "k", "s", "p"), [(2, 4, 3, 0), (3, 3, 2, 1), (7, 5, 1, 2), (4, 4, 2, 1)]
)
def test_003_6_1_transposed_output_is_o_minus_1_times_s_plus_k_minus_2p(
    o: int, k: int, s: int, p: int
) -> None:
    i = conv_transpose_output_length(o, k, s, p)
    assert i == (o - 1) * s + k - 2 * p
    # and the forward convolution maps it back to o
    assert conv_output_length(i, k, s, p) == o
