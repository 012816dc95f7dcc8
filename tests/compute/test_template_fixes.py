"""Fixes from the second review of the templates (issue 9, requirement 2)."""

from __future__ import annotations

import re

import pytest

from compute.templates import generate, get_template, grade, registry


def test_roi_quantization_v2_never_draws_an_empty_bin() -> None:
    assert get_template("roi.quantization").version == 2
    for seed in range(3000):
        v = generate("roi.quantization", seed)
        assert isinstance(v.answer, tuple)
        feature, bin_side = v.answer
        assert feature >= v.params["out"] and bin_side >= 1, seed
        assert grade("roi.quantization", 2, seed, v.answer_text).correct


def test_roi_quantization_v1_stays_registered_and_unchanged() -> None:
    # Seed 3 is the review's example: v1 keeps drawing it, since attempts may be pinned to it.
    v1 = generate("roi.quantization", 3, version=1)
    assert v1.answer == (9, 0)
    assert grade("roi.quantization", 1, 3, "(9, 0)").correct
    empty = sum(generate("roi.quantization", s, version=1).answer == (9, 0) for s in range(400))
    assert empty >= 1


def test_roi_quantization_v2_rejects_a_proposal_below_one_bin() -> None:
    from compute.templates import InvalidConstraints

    with pytest.raises(InvalidConstraints, match="no valid variant"):
        generate("roi.quantization", 0, constraints={"roi_size": [100], "stride": [32]})
    for seed in range(20):  # 224 / 32 = 7 cells: a 14-bin draw is rejected and redrawn
        v = generate("roi.quantization", seed, constraints={"roi_size": [224], "stride": [32]})
        assert v.answer == (7, 1) and v.params["out"] == 7


def test_flops_conv_v2_recognises_pytorchs_flop_counter_convention() -> None:
    assert get_template("flops.conv").version == 2
    for seed in range(40):
        v = generate("flops.conv", seed)
        p = v.params
        macs = p["_Ho"] ** 2 * p["Co"] * p["Ci"] * p["k"] ** 2
        r = grade("flops.conv", 2, seed, str(2 * macs))
        assert r.misconception == "flop_counter_convention" and r.score == 0.75
        assert "FlopCounterMode" in r.feedback.en and "FlopCounterMode" in r.feedback.zh
        old = grade("flops.conv", 1, seed, str(2 * macs))
        assert old.misconception == "bias_adds_forgotten" and old.score == 0.0
        assert "FlopCounterMode" in old.feedback.en


def test_flop_counter_convention_is_what_torch_counts() -> None:
    torch = pytest.importorskip("torch")
    from torch.utils.flop_counter import FlopCounterMode

    for seed in range(5):
        v = generate("flops.conv", seed)
        p = v.params
        layer = torch.nn.Conv2d(p["Ci"], p["Co"], p["k"], stride=p["s"], padding=p["p"])
        with FlopCounterMode(display=False) as counter, torch.no_grad():
            layer(torch.zeros(1, p["Ci"], p["H"], p["H"]))
        counted = counter.get_total_flops()
        r = grade("flops.conv", 2, seed, str(counted))
        assert r.misconception == "flop_counter_convention", (seed, counted, v.answer)
        assert v.answer == counted + p["Co"] * p["_Ho"] ** 2  # plus one addition per output


def test_params_conv_solution_mentions_a_bias_only_when_there_is_one() -> None:
    seen = set()
    for seed in range(60):
        v = generate("params.conv", seed)
        bias = v.params["bias"]
        seen.add(bias)
        assert ("plus one bias" in v.solution.en) is bias, seed
        assert ("bias=False" in v.solution.en) is (not bias), seed
    assert seen == {True, False}


def test_init_prompts_state_the_mode_and_gain_torch_uses() -> None:
    seen = set()
    for seed in range(80):
        v = generate("init.variance", seed)
        scheme, en, zh = v.params["scheme"], v.prompt.en, v.prompt.zh
        seen.add(scheme)
        if scheme == "xavier":
            assert "fan_in mode" not in en and "xavier_normal_" in en and "gain 1" in en
        elif scheme == "he":
            assert "nonlinearity='relu'" in en and "gain √2" in en and "gain 1" not in en
            assert "√2" in zh
        else:
            assert "nonlinearity='linear'" in en and "gain 1" in en
    assert seen == {"xavier", "he", "lecun"}


_DOUBLE_SIGN = re.compile(r"(?:\d|\})\s*(?:--|\+-|-\+)\s*\d|[-+]\s*-\d")


def test_no_text_renders_a_doubled_sign() -> None:
    # "-0.9--0.075" read as a range; a subtracted negative is written "-0.9-(-0.075)".
    for t in registry():
        for seed in range(150):
            v = generate(t.id, seed, version=t.version)
            for text in (v.prompt.en, v.prompt.zh, v.solution.en, v.solution.zh):
                match = _DOUBLE_SIGN.search(text)
                assert match is None, (t.id, seed, text[max(0, match.start() - 40) : match.end()])


def test_bn_solution_parenthesizes_a_negative_mean() -> None:
    v = generate("bn.normalize", 2)
    assert v.params["_mu"] < 0
    assert "-(-0.075)" in v.solution.en
