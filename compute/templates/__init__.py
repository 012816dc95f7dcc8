"""Numeric question templates: seeded variants, bilingual prompts and solutions, pure grading.

Use :func:`generate` to build a variant from (template id, seed) or from a :class:`VariantKey`,
:func:`grade` to grade a typed response to it (store the variant's ``key``: it is all a later
re-grade needs), and :func:`registry` / :func:`get_template` to list and look up templates. Every
template is registered under (id, version); old versions stay gradeable.

Writing a template (see ``t_conv.py`` for examples): subclass :class:`Template`, decorate it with
``engine.register``, set ``id``, ``version``, ``kind``, ``title`` and at least three
``misconceptions``, and implement ``sample`` (draw every parameter through the ``Draw``, naming
the ones cards may constrain), ``answer`` (call :mod:`compute`; never re-derive the math here),
``prompt`` and ``solution`` (both languages; display each parameter with ``fmt.num``/``fmt.tex``
so the shown value is the value used). Changing what a seed produces requires a new version;
keep the old class registered so recorded attempts can still be graded.

Percentages: a template with ``ratio = True`` (IoU, probabilities, parameter ratios) reads
``72%`` as 0.72; elsewhere a percent sign is a format error.
"""

from compute.templates import (  # noqa: F401  (importing registers the templates)
    t_architectures,
    t_attention,
    t_boxes,
    t_compression,
    t_conv,
    t_deploy,
    t_det_heads,
    t_detection,
    t_losses,
    t_margins,
    t_metrics,
    t_params,
    t_pooling,
    t_receptive,
    t_schedules,
    t_segmentation,
    t_tensors,
    t_training,
)
from compute.templates.base import (
    AnswerKind,
    Bilingual,
    InvalidConstraints,
    Template,
    Tolerance,
    UnknownTemplate,
    Value,
)
from compute.templates.engine import (
    Choice,
    GradeResult,
    MisconceptionValue,
    Variant,
    check_seed,
    generate,
    get_template,
    grade,
    parameter_names,
    registry,
)
from compute.templates.key import VariantKey
from compute.templates.parsing import ParseError

__all__ = [
    "AnswerKind",
    "Bilingual",
    "Choice",
    "GradeResult",
    "InvalidConstraints",
    "MisconceptionValue",
    "ParseError",
    "Template",
    "Tolerance",
    "UnknownTemplate",
    "Value",
    "Variant",
    "VariantKey",
    "check_seed",
    "generate",
    "get_template",
    "grade",
    "parameter_names",
    "registry",
]
