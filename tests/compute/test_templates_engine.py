"""The engine's contract: seeds, constraint checking, fast failures, variant keys, docstrings."""

from __future__ import annotations

import json
import time
from typing import Any

import numpy as np
import pytest

from compute.templates import (
    GradeResult,
    InvalidConstraints,
    UnknownTemplate,
    Variant,
    VariantKey,
    generate,
    get_template,
    grade,
    parameter_names,
    registry,
)

# ------------------------------------------------------------------------------------------------
# seeds
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2**32, 2**63 - 1, np.int64(7), np.uint64(2**63 - 1)])
def test_seeds_that_fit_a_signed_64_bit_column_are_accepted(seed: Any) -> None:
    v = generate("conv.output_size", seed)
    assert v.seed == int(seed) and type(v.seed) is int
    assert grade("conv.output_size", 1, seed, v.answer_text).correct


@pytest.mark.parametrize("seed", [-1, 2**63, 2**64, 10**30, np.uint64(2**63)])
def test_seeds_out_of_the_64_bit_signed_range_are_rejected(seed: Any) -> None:
    with pytest.raises(ValueError, match=r"2\*\*63 - 1"):
        generate("conv.output_size", seed)
    with pytest.raises(ValueError, match=r"2\*\*63 - 1"):
        grade("conv.output_size", 1, seed, "3")


@pytest.mark.parametrize("seed", [1.0, "3", True, None, [1]])
def test_seeds_of_another_type_are_rejected(seed: Any) -> None:
    with pytest.raises((ValueError, TypeError), match="seed"):
        generate("conv.output_size", seed)


def test_a_seed_is_numpys_default_generator() -> None:
    # Template conv.dilated_kernel picks kernel, then dilation, each with one uniform variate.
    u = np.random.default_rng(1234).random(2)
    v = generate("conv.dilated_kernel", 1234)
    kernels, dilations = (2, 3, 3, 5, 7), (2, 2, 3, 4, 6, 8, 12, 16)
    assert v.params["k"] == kernels[int(u[0] * len(kernels))]
    assert v.params["d"] == dilations[int(u[1] * len(dilations))]


# ------------------------------------------------------------------------------------------------
# constraint values
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("template_id", "constraints", "message"),
    [
        ("conv.output_size", {"kernel": ["a"]}, "'kernel': 'a' is not an integer"),
        ("conv.output_size", {"kernel": [3.5]}, "'kernel': 3.5 is not an integer"),
        ("conv.output_size", {"kernel": [True]}, "'kernel': True is not an integer"),
        ("conv.output_size", {"kernel": [[3]]}, "is not an integer"),
        ("conv.output_size", {"kernel": [None]}, "is not an integer"),
        ("conv.output_size", {"kernel": [{"a": 1}]}, "numbers, strings"),
        ("pool.output_size", {"ceil_mode": [1]}, "is not true or false"),
        ("loss.smooth_l1", {"beta": ["x"]}, "is not a number"),
        ("loss.smooth_l1", {"beta": [float("nan")]}, "not a finite number"),
        ("act.sigmoid_grad", {"x": [float("inf")]}, "not a finite number"),
        ("act.sigmoid_grad", {"x": ["1"]}, "is not a number"),
        ("rf.dilated_stack", {"dilations": [3]}, "is not a list"),
        ("rf.dilated_stack", {"dilations": [["a", 2]]}, "another type"),
        ("norm.l1_l2", {"vector": [[1, "2"]]}, "another type"),
        ("init.variance", {"scheme": [2]}, "is not a string"),
    ],
)
def test_constraint_values_of_the_wrong_type_are_invalid_constraints(
    template_id: str, constraints: dict[str, list[Any]], message: str
) -> None:
    with pytest.raises(InvalidConstraints, match=message):
        generate(template_id, 0, constraints=constraints)


@pytest.mark.parametrize(
    ("template_id", "constraints"),
    [
        # Each of these held generate() for seconds or more, or exhausted memory, before the
        # engine bounded constraint values (found by probing every parameter with extremes).
        ("rf.stack", {"depth": [10**6]}),
        ("rf.stack", {"depth": [10**9]}),
        ("nms.kept", {"objects": [1000]}),
        ("nms.kept", {"objects": [10**18]}),
        ("norm.l1_l2", {"size": [10**6]}),
        ("norm.l1_l2", {"vector": [[1] * 10**5]}),
        ("norm.l1_l2", {"vector": [[1]] * 10**5}),
        ("softmax.prob", {"classes": [64]}),
        ("nms.kept", {"objects": [64]}),
        ("loss.smooth_l1", {"size": [10**9]}),
        ("loss.bce", {"samples": [10**6]}),
        ("loss.cross_entropy", {"classes": [1000]}),
        ("softmax.prob", {"classes": [10**6]}),
        ("conv.output_size", {"kernel": [10**6]}),
        ("im2col.shape", {"kernel": [10**6]}),
        ("pool.output_size", {"kernel": [10**6]}),
        ("conv.output_shape", {"kernel": [10**6]}),
        ("conv.transposed_output_size", {"stride": [10**6]}),
        ("grad.chain", {"factor": [10**6]}),
        ("params.stacked_3x3", {"layers": [2**70]}),
    ],
)
def test_pathological_constraints_fail_fast(
    template_id: str, constraints: dict[str, list[Any]]
) -> None:
    start = time.thread_time()  # CPU time: other processes on a busy machine do not count
    with pytest.raises(InvalidConstraints, match=r"out of range|longer|no valid variant|items"):
        generate(template_id, 3, constraints=constraints)
    assert time.thread_time() - start < 0.2


def _extremes(default: Any) -> list[Any]:
    """Return the values an admin could type that sit at or past what a constraint allows."""
    if isinstance(default, bool) or default is None or isinstance(default, str):
        return [0, -1, 64, 10**6, 2**70, 1e300, "zz", [], [[1, 2]] * 3]
    if isinstance(default, tuple | list):
        return [[64] * 64, [-64] * 64, [1] * 65, [], [0], ["a"], 5]
    return [0, -1, -64, 63, 64, 176, 1000, 8192, 10**6, 2**70, 1e-300, -1e300, 0.5, "a", [1]]


def test_no_constraint_value_makes_generate_slow_or_raise_anything_else() -> None:
    slowest = (0.0, "")
    for t in registry():
        base = generate(t.id, 0, version=t.version)
        names = {n: base.params.get(n) for n in parameter_names(t.id, t.version)}
        for name, default in names.items():
            for value in _extremes(default):
                for seed in (0, 1):
                    start = time.thread_time()
                    try:
                        v = generate(t.id, seed, version=t.version, constraints={name: [value]})
                    except InvalidConstraints as exc:
                        assert str(exc)
                    else:
                        assert grade(v.key, v.answer_text).correct
                    took = time.thread_time() - start
                    slowest = max(slowest, (took, f"{t.id} {name}={value!r:.40}"))
    assert slowest[0] < 0.5, slowest


def test_every_template_error_on_a_constraint_becomes_invalid_constraints() -> None:
    # A kernel of 0 passes the type check but makes compute.conv raise ValueError in sample().
    with pytest.raises(InvalidConstraints, match=r"cannot draw a variant.*kernel must be >= 1"):
        generate("conv.output_size", 0, constraints={"kernel": [0]})
    # A kernel larger than the padded input: answer() rejects every draw.
    with pytest.raises(InvalidConstraints, match="leave no valid variant"):
        generate("conv.output_size", 0, constraints={"kernel": [11], "length": [7], "padding": [0]})
    # 64 distinct one-decimal logits in [-2, 4] do not exist: bounded by the template's limits.
    with pytest.raises(InvalidConstraints, match="from 2 to 12"):
        generate("softmax.prob", 0, constraints={"classes": [64]})


@pytest.mark.parametrize(
    "error", [TypeError, ZeroDivisionError, OverflowError, IndexError, KeyError, FloatingPointError]
)
def test_a_templates_own_errors_under_constraints_become_invalid_constraints(
    error: type[Exception], monkeypatch: pytest.MonkeyPatch
) -> None:
    from compute.templates import engine
    from compute.templates.t_training import GradChain

    class Fragile(GradChain):
        id = "test.fragile"

        def answer(self, p: dict[str, Any]) -> Any:
            if p["f"] == 3.0:
                raise error("boom")
            return super().answer(p)

    monkeypatch.setattr(engine, "_REGISTRY", dict(engine._REGISTRY))
    monkeypatch.setattr(engine, "_LATEST", dict(engine._LATEST))
    engine.register(Fragile)
    try:
        with pytest.raises(InvalidConstraints, match=f"cannot draw a variant.*{error.__name__}"):
            generate("test.fragile", 0, constraints={"factor": [3.0]})
        fine = generate("test.fragile", 0, constraints={"factor": [2.0]})
        assert fine.answer == 2.0 ** fine.params["n"]
        # Without constraints an error is the template's bug: it is not disguised.
        monkeypatch.setattr(GradChain, "sample", lambda self, draw: {"f": 3.0, "n": 5})
        with pytest.raises(error):
            generate("test.fragile", 1)
    finally:
        engine._core.cache_clear()


# ------------------------------------------------------------------------------------------------
# variant keys
# ------------------------------------------------------------------------------------------------


def test_variant_key_round_trips_through_canonical_json() -> None:
    key = VariantKey.of("rf.dilated_stack", 1, 2**63 - 1, {"kernel": [3], "dilations": [[1, 2]]})
    text = key.to_json()
    assert text == (
        '{"constraints":{"dilations":[[1,2]],"kernel":[3]},"seed":9223372036854775807,'
        '"template_id":"rf.dilated_stack","version":1}'
    )
    assert VariantKey.from_json(text) == key
    assert VariantKey.from_json(text.encode()) == key
    assert hash(VariantKey.from_json(text)) == hash(key)


def test_canonical_form_does_not_depend_on_how_the_key_was_written() -> None:
    a = VariantKey.of("x.y", 2, 5, {"b": [1, 2], "a": ["s"]})
    b = VariantKey.of("x.y", 2, 5, {"a": ("s",), "b": (1, 2)})
    assert a == b and a.to_json() == b.to_json()
    spaced = json.dumps(
        {"version": 2, "seed": 5, "template_id": "x.y", "constraints": {"b": [1, 2], "a": ["s"]}},
        indent=2,
    )
    assert VariantKey.from_json(spaced).to_json() == a.to_json()
    assert VariantKey.of("x.y", 1, 0).to_json() == VariantKey.of("x.y", 1, 0, {}).to_json()
    assert '"constraints":{}' in VariantKey.of("x.y", 1, 0).to_json()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "invalid JSON"),
        ("{", "invalid JSON"),
        ("[1, 2]", "expected a JSON object"),
        ('{"template_id":"a","version":1,"seed":1}', r"missing fields \['constraints'\]"),
        ('{"template_id":"a","version":1,"seed":1,"constraints":{},"x":1}', "unknown fields"),
        ('{"template_id":"a","version":1,"seed":1,"seed":2,"constraints":{}}', "twice"),
        ('{"template_id":"","version":1,"seed":1,"constraints":{}}', "template_id"),
        ('{"template_id":3,"version":1,"seed":1,"constraints":{}}', "template_id"),
        ('{"template_id":"a","version":0,"seed":1,"constraints":{}}', "version"),
        ('{"template_id":"a","version":true,"seed":1,"constraints":{}}', "version"),
        ('{"template_id":"a","version":1.0,"seed":1,"constraints":{}}', "version"),
        ('{"template_id":"a","version":1,"seed":-1,"constraints":{}}', "seed"),
        ('{"template_id":"a","version":1,"seed":9223372036854775808,"constraints":{}}', "seed"),
        ('{"template_id":"a","version":1,"seed":"1","constraints":{}}', "seed"),
        ('{"template_id":"a","version":1,"seed":1,"constraints":[]}', "constraints"),
        ('{"template_id":"a","version":1,"seed":1,"constraints":{"k":3}}', "non-empty list"),
        ('{"template_id":"a","version":1,"seed":1,"constraints":{"k":[]}}', "non-empty list"),
        ('{"template_id":"a","version":1,"seed":1,"constraints":{"k":[{}]}}', "dict"),
        ('{"template_id":"a","version":1,"seed":1,"constraints":{"k":[NaN]}}', "NaN"),
        ('{"template_id":"a","version":1,"seed":1,"constraints":{"k":[[[[1]]]]}}', "nest"),
        (
            '{"template_id":"a","version":1,"seed":1,"constraints":{"k":[' + "1," * 99 + "1]}}",
            "at most",
        ),
        ("x" * 5000, "longer than"),
        (b"\xff\xfe", "UTF-8"),
    ],
)
def test_invalid_or_tampered_keys_are_rejected_with_a_clear_message(
    text: str | bytes, message: str
) -> None:
    with pytest.raises(ValueError, match=message) as exc:
        VariantKey.from_json(text)
    assert str(exc.value).startswith("variant key")


def test_a_tampered_but_well_formed_key_draws_another_variant_or_fails_cleanly() -> None:
    v = generate("conv.output_size", 11)
    tampered = VariantKey.from_json(v.key.to_json().replace('"seed":11', '"seed":12'))
    assert tampered.seed == 12 and generate(tampered).key == tampered
    unknown = VariantKey.from_json(v.key.to_json().replace('"version":1', '"version":99'))
    with pytest.raises(UnknownTemplate, match="no version 99"):
        generate(unknown)
    with pytest.raises(UnknownTemplate):
        grade(unknown, "3")


@pytest.mark.parametrize("t", registry(), ids=lambda t: f"{t.id}@{t.version}")
def test_grading_the_generated_answer_by_key_is_correct(t: Any) -> None:
    for seed in (0, 5, 2**62 + 9):
        v = generate(t.id, seed, version=t.version)
        key = VariantKey.from_json(v.key.to_json())
        assert key == v.key and key.version == t.version
        again = generate(key)
        assert again.params == v.params and again.answer == v.answer
        r = grade(key, v.answer_text)
        assert r.correct and r.score == 1.0
        if v.misconceptions:
            m = v.misconceptions[0]
            assert grade(key, m.text).misconception == m.id


def test_keys_carry_constraints_into_grading() -> None:
    constraints = {"stride": [2], "kernel": [3, 5]}
    v = generate("conv.output_size", 4, constraints=constraints)
    key = VariantKey.from_json(v.key.to_json())
    assert key.constraints_dict() == constraints
    assert generate(key).params == v.params
    assert grade(key, v.answer_text).correct
    with pytest.raises(TypeError):
        grade(key, v.answer_text, constraints=constraints)  # type: ignore[call-overload]
    with pytest.raises(TypeError):
        generate(key, 3)  # type: ignore[call-overload]
    with pytest.raises(TypeError):
        grade("conv.output_size", 1, v.answer_text)  # type: ignore[call-overload]


# ------------------------------------------------------------------------------------------------
# documentation of the engine-facing names
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("obj", "words"),
    [
        (generate, ["Raise", "UnknownTemplate", "InvalidConstraints", "store"]),
        (grade, ["Raise", "storing", "format_error"]),
        (get_template, ["Raise", "UnknownTemplate", "store"]),
        (registry, ["version"]),
        (Variant, ["store", "grade"]),
        (GradeResult, ["store", "re-grade"]),
        (VariantKey, ["generate"]),
    ],
)
def test_engine_facing_names_document_errors_and_what_to_store(obj: Any, words: list[str]) -> None:
    doc = obj.__doc__ or ""
    for word in words:
        assert word in doc, (obj.__name__, word)


def test_get_template_rejects_unknown_ids_and_versions() -> None:
    with pytest.raises(UnknownTemplate, match="known versions"):
        get_template("conv.output_size", 42)
