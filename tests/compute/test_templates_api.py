"""Registry, errors, constraints, versions and the worked examples of the source notes."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from compute import conv, receptive
from compute.templates import (
    InvalidConstraints,
    UnknownTemplate,
    engine,
    generate,
    get_template,
    grade,
    parameter_names,
    registry,
)
from compute.templates.t_conv import ConvOutputSize

CONTRACT_IDS = [
    "conv.output_size",
    "conv.output_shape",
    "conv.same_padding",
    "conv.keras_output_size",
    "conv.transposed_output_size",
    "conv.dilated_kernel",
    "pool.output_size",
    "rf.stack",
    "rf.dilated_stack",
    "params.conv",
    "params.depthwise_separable",
    "params.linear",
    "params.batchnorm",
    "params.stacked_3x3",
    "params.fc_as_conv",
    "flops.conv",
    "iou.pair",
    "iou.giou",
    "nms.kept",
    "softmax.prob",
    "loss.cross_entropy",
    "loss.bce",
    "loss.focal",
    "loss.smooth_l1",
    "norm.l1_l2",
    "act.sigmoid_grad",
    "grad.chain",
    "bn.normalize",
    "dropout.inverted",
    "init.variance",
    "optim.sgd_momentum",
    "optim.adam",
    "im2col.shape",
    "roi.quantization",
    "tensor.matmul_shape",
]


def test_registry_holds_every_contract_template_with_three_misconceptions() -> None:
    templates = registry()
    ids = {t.id for t in templates}
    assert set(CONTRACT_IDS) <= ids
    assert len(templates) >= 25
    for t in templates:
        assert isinstance(t.version, int) and t.version >= 1
        assert len(t.misconceptions) >= 3
        assert len({m.id for m in t.misconceptions}) == len(t.misconceptions)
        assert t.title.zh and t.title.en


def test_unknown_template_id_raises_a_specific_error() -> None:
    with pytest.raises(UnknownTemplate) as exc:
        generate("conv.nope", 1)
    assert isinstance(exc.value, ValueError) and isinstance(exc.value, KeyError)
    assert str(exc.value) == "unknown template id 'conv.nope'"
    with pytest.raises(UnknownTemplate):
        grade("conv.nope", 1, 1, "3")


def test_unknown_version_names_the_known_versions() -> None:
    with pytest.raises(UnknownTemplate) as exc:
        grade("conv.output_size", 99, 1, "3")
    assert "no version 99" in str(exc.value) and "[1]" in str(exc.value)


def test_default_version_is_the_latest() -> None:
    assert generate("conv.output_size", 5).version == get_template("conv.output_size").version


def test_old_versions_stay_gradeable_after_a_bump(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine, "_REGISTRY", dict(engine._REGISTRY))
    monkeypatch.setattr(engine, "_LATEST", dict(engine._LATEST))

    class ConvOutputSizeV2(ConvOutputSize):
        version = 2

    engine.register(ConvOutputSizeV2)
    try:
        assert generate("conv.output_size", 3).version == 2
        v1 = generate("conv.output_size", 3, version=1)
        assert grade("conv.output_size", 1, 3, v1.answer_text).correct
        with pytest.raises(ValueError, match="registered twice"):
            engine.register(ConvOutputSizeV2)
    finally:
        engine._core.cache_clear()


def test_grading_is_pure_and_returns_the_worked_solution() -> None:
    v = generate("conv.output_shape", 11)
    a = grade("conv.output_shape", 1, 11, "(1, 2, 3, 4)")
    b = grade("conv.output_shape", 1, 11, "(1, 2, 3, 4)")
    assert a == b and not a.correct and a.counts_as_attempt and a.score == 0.0
    assert a.solution == v.solution and a.expected == v.answer_text
    assert v.answer_text in a.feedback.en and v.answer_text in a.feedback.zh


def test_feedback_language() -> None:
    r = grade("conv.output_size", 1, 2, "abc", lang="zh")
    assert r.message == r.format_error.zh if r.format_error else False
    with pytest.raises(ValueError, match="lang"):
        grade("conv.output_size", 1, 2, "3", lang="fr")  # type: ignore[call-overload]


@pytest.mark.parametrize("seed", [-1, 1.5, "3", True])
def test_bad_seeds_are_rejected(seed: object) -> None:
    with pytest.raises(ValueError, match="seed"):
        generate("conv.output_size", seed)  # type: ignore[call-overload]


def test_wrong_tuple_arity_is_a_format_error_naming_the_count() -> None:
    r = grade("conv.output_shape", 1, 4, "(20, 33, 24)")
    assert not r.counts_as_attempt
    assert r.format_error is not None and r.format_error.en == "Expected 4 numbers, got 3."


def test_percent_only_where_the_answer_is_a_ratio() -> None:
    r = grade("params.conv", 1, 4, "72%")
    assert r.format_error is not None and not r.counts_as_attempt
    v = generate("iou.pair", 4)
    assert isinstance(v.answer, float)
    assert grade("iou.pair", 1, 4, f"{v.answer * 100:.2f}%").correct


def test_non_integer_response_to_an_integer_question_is_a_wrong_attempt() -> None:
    v = generate("conv.output_size", 8)
    assert isinstance(v.answer, int)
    r = grade("conv.output_size", 1, 8, f"{v.answer + 0.5}")
    assert r.counts_as_attempt and not r.correct and r.format_error is None


def test_choice_mode_rejects_a_label_outside_the_options() -> None:
    v = generate("conv.output_size", 9)
    bad = chr(ord("A") + len(v.choices))
    r = grade("conv.output_size", 1, 9, bad, choice=True)
    assert r.format_error is not None and not r.counts_as_attempt


def test_choice_template_accepts_the_letter_or_the_option_text() -> None:
    v = generate("fit.diagnosis", 1)
    t = get_template("fit.diagnosis")
    keys = [k for k, _ in t.choices]
    letter = chr(ord("A") + keys.index(str(v.answer)))
    assert grade("fit.diagnosis", 1, 1, letter).correct
    assert grade("fit.diagnosis", 1, 1, str(v.answer)).correct
    assert grade("fit.diagnosis", 1, 1, dict(t.choices)[str(v.answer)].zh).correct


def test_constraints_restrict_the_named_parameters() -> None:
    constraints = {"stride": [2], "kernel": [3, 5]}
    for seed in range(50):
        v = generate("conv.output_size", seed, constraints=constraints)
        assert v.params["s"] == 2 and v.params["k"] in (3, 5)
        assert grade("conv.output_size", 1, seed, v.answer_text, constraints=constraints).correct


def test_unknown_or_malformed_constraints_are_rejected() -> None:
    with pytest.raises(InvalidConstraints, match="no parameter named"):
        generate("conv.output_size", 1, constraints={"strides": [2]})
    with pytest.raises(InvalidConstraints, match="list"):
        generate("conv.output_size", 1, constraints={"stride": 2})  # type: ignore[dict-item]
    with pytest.raises(InvalidConstraints, match="no values"):
        generate("conv.output_size", 1, constraints={"stride": []})


def test_impossible_constraints_are_rejected() -> None:
    with pytest.raises(InvalidConstraints, match="no valid variant"):
        generate("conv.output_size", 1, constraints={"length": [7], "kernel": [11], "padding": [0]})


def _pinned(template_id: str, **values: object) -> object:
    v = generate(template_id, 0, constraints={k: [x] for k, x in values.items()})
    assert grade(
        template_id, v.version, 0, v.answer_text, constraints={k: [x] for k, x in values.items()}
    ).correct
    for m in v.misconceptions:
        assert m.value != v.answer
    return v.answer


def test_worked_examples_of_the_source_notes() -> None:
    # 000 §2.2: transposed conv, 2x2 input, kernel 4, stride 3 -> 7x7.
    assert (
        _pinned(
            "conv.transposed_output_size", length=2, kernel=4, stride=3, padding=0, output_padding=0
        )
        == 7
    )
    # 000 §4.1: MaxPool2d(3, stride=2, padding=1) on 50 x 32.
    assert (
        _pinned("pool.output_size", length=50, kernel=3, stride=2, padding=1, ceil_mode=False) == 25
    )
    assert (
        _pinned("pool.output_size", length=32, kernel=3, stride=2, padding=1, ceil_mode=False) == 16
    )
    # 000 §5.1: Conv2d(16, 33, 3, stride=2) on (20, 16, 50, 100).
    assert _pinned(
        "conv.output_shape",
        batch=20,
        in_channels=16,
        height=50,
        width=100,
        out_channels=33,
        kernel=3,
        stride=2,
        padding=0,
    ) == (20, 33, 24, 49)
    # 001 §3.7: same padding for F = 3, 5, 7.
    for k, pad in ((3, 1), (5, 2), (7, 3)):
        assert _pinned("conv.same_padding", kernel=k, dilation=1) == pad
    # 002 MobileNet: 3 -> 4 channels, 3x3: separable 39.
    assert _pinned("params.depthwise_separable", in_channels=3, out_channels=4, kernel=3) == 39
    # 003 §5.1: dilations 1, 2, 4 with 3x3 kernels -> 15.
    assert _pinned("rf.dilated_stack", kernel=3, dilations=(1, 2, 4)) == 15
    # 003 §2.2: 7x7x512 into 4096 units as a convolution.
    assert _pinned("params.fc_as_conv", spatial=7, channels=512, out_features=4096) == (
        7 * 7 * 512 * 4096 + 4096
    )
    # 003 §4.4: im2col of a 3x3 kernel over a 5x5 single-channel image.
    assert _pinned(
        "im2col.shape", channels=1, height=5, width=5, kernel=3, stride=1, padding=0
    ) == (9, 9)
    # 000 §34: 665-pixel proposal, stride 32, pooled to 7x7 -> 20 cells, bins of 2.
    assert _pinned("roi.quantization", roi_size=665, stride=32, output_size=7) == (20, 2)
    # 004 §1: W (4x3) @ x (3x1) -> (4, 1).
    assert _pinned("tensor.matmul_shape", n=4, k=3, m=1, layout="2d", batch=2) == (4, 1)


def test_stacked_3x3_ratio_accepts_a_percentage() -> None:
    # 000 §23: two 3x3 convs vs one 5x5 -> 18/25 = 0.72 ("72%").
    c = {"layers": [2]}
    v = generate("params.stacked_3x3", 0, constraints=c)
    assert v.answer == pytest.approx(0.72)
    for typed in ("0.72", "72%", "18/25", "０．７２", "７２％"):
        assert grade("params.stacked_3x3", 1, 0, typed, constraints=c).correct, typed
    assert grade("params.stacked_3x3", 1, 0, "1.389", constraints=c).misconception == "inverted"


def test_named_receptive_field_stack_matches_compute() -> None:
    for depth in (2, 5, 8):
        v = generate("rf.stack", 0, constraints={"stack": ["alexnet"], "depth": [depth]})
        fields = receptive.receptive_fields(receptive.NAMED_STACKS["alexnet"][:depth])
        assert v.answer == fields[-1].receptive_field


def test_im2col_shape_matches_compute_im2col() -> None:
    np = pytest.importorskip("numpy")
    from compute.im2col import im2col

    for seed in range(20):
        v = generate("im2col.shape", seed)
        p = v.params
        if p["C"] * p["H"] * p["W"] > 20000:
            continue
        cols = im2col(np.zeros((p["C"], p["H"], p["W"])), p["k"], p["s"], p["p"])
        assert cols.shape == v.answer


def test_conv_output_shape_matches_compute_conv2d_output_shape() -> None:
    for seed in range(200):
        p = generate("conv.output_shape", seed).params
        expected = conv.conv2d_output_shape(
            (p["N"], p["C"], p["H"], p["W"]), p["Co"], p["k"], p["s"], p["p"]
        )
        assert generate("conv.output_shape", seed).answer == expected


def test_missing_or_numeric_responses() -> None:
    v = generate("conv.output_size", 12)
    r = grade("conv.output_size", 1, 12, None)  # type: ignore[call-overload]
    assert r.format_error is not None and not r.counts_as_attempt
    assert grade("conv.output_size", 1, 12, v.answer).correct  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        grade("conv.output_size", 1, 12, [1])  # type: ignore[call-overload]


def test_partial_credit_is_awarded_for_a_layout_slip() -> None:
    for seed in range(50):
        v = generate("conv.output_shape", seed)
        slip = [m for m in v.misconceptions if m.id == "channels_last"]
        if slip:
            r = grade("conv.output_shape", 1, seed, slip[0].text)
            assert r.score == 0.5 and not r.correct and r.misconception == "channels_last"
            return
    raise AssertionError("no variant showed the channels_last misconception")


def test_a_misconception_can_only_defer_to_an_earlier_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine, "_REGISTRY", dict(engine._REGISTRY))
    monkeypatch.setattr(engine, "_LATEST", dict(engine._LATEST))
    first, *rest = ConvOutputSize.misconceptions

    class Broken(ConvOutputSize):
        id = "test.broken"
        misconceptions = (replace(first, defers_to="stride_ignored"), *rest)  # type: ignore[assignment]

    with pytest.raises(ValueError, match="defers to"):
        engine.register(Broken)


def test_classic_layers_are_reachable() -> None:
    # 3x3 convolutions with padding 1 at stride 1 and 2 are the most common layers.
    seen = set()
    for seed in range(300):
        p = generate("conv.output_size", seed).params
        seen.add((p["k"], p["s"], p["p"]))
    assert {(3, 1, 1), (3, 2, 1), (7, 2, 3)} <= seen


def test_parameter_names_list_what_cards_may_constrain() -> None:
    assert parameter_names("conv.output_size") == (
        "dilation",
        "kernel",
        "length",
        "padding",
        "stride",
    )
    with pytest.raises(InvalidConstraints, match="it draws: dilation, kernel"):
        generate("conv.output_size", 0, constraints={"size": [3]})


def test_l1_norm_and_focal_loss_examples() -> None:
    # 000 §17: the L1 norm of [1, -1, 3] is 5.
    assert _pinned("norm.l1_l2", vector=(1, -1, 3), norm="l1") == 5
    # 000 §36: gamma 2, alpha 0.25; a well-classified positive (p = 0.9) keeps 1% of its CE.
    fl = _pinned("loss.focal", p=0.9, target=1, alpha=0.25, gamma=2)
    assert fl == pytest.approx(0.25 * 0.01 * -math.log(0.9))


def test_variant_parameters_are_read_only() -> None:
    v = generate("conv.output_size", 21)
    with pytest.raises(TypeError):
        v.params["L"] = 1  # type: ignore[index]
    assert generate("conv.output_size", 21).params == v.params


def test_matmul_shape_matches_compute_on_the_full_shapes() -> None:
    from compute import tensors

    for seed in range(200):
        v = generate("tensor.matmul_shape", seed)
        assert v.answer == tensors.matmul_shape(v.params["a"], v.params["b"])


def test_grade_result_serializes_to_json() -> None:
    import json

    v = generate("nms.kept", 5)
    data = grade("nms.kept", 1, 5, v.answer_text).to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["correct"] and data["parsed"] == sorted(v.answer)  # type: ignore[arg-type]
    assert set(data["solution"]) == {"zh", "en"} and data["format_error"] is None
    bad = grade("nms.kept", 1, 5, "abc").to_dict()
    assert bad["counts_as_attempt"] is False and bad["format_error"]["en"]


def test_list_valued_constraints_from_yaml() -> None:
    # YAML gives lists, also inside the list of allowed values.
    v = generate("rf.dilated_stack", 1, constraints={"kernel": [3], "dilations": [[1, 2, 4]]})
    assert v.answer == 15
    v = generate("norm.l1_l2", 1, constraints={"vector": [[1, -1, 3]], "norm": ["l1"]})
    assert v.answer == 5


def test_tolerance_rules() -> None:
    from compute.templates import Tolerance

    rel = Tolerance(rel=1e-3)
    assert rel.accepts(0.1234, 0.12345) and not rel.accepts(0.1236, 0.12345)
    assert Tolerance(abs=1e-3).accepts(0.7005, 0.7011) and not Tolerance(abs=1e-3).accepts(
        0.7, 0.7011
    )
    sig = Tolerance(sig_figs=3)
    assert sig.accepts(0.0123, 0.012345) and not sig.accepts(0.0124, 0.012345)
    assert not Tolerance().accepts(1.0000001, 1.0)
