"""Training memory arithmetic: bytes of model states per parameter and in total.

Conventions (those of the ZeRO paper's model-state accounting):

- *model states* are the parameters, their gradients and the optimizer states; activations,
  temporary buffers and fragmentation are not counted;
- ``precision="fp32"``: FP32 parameters (4 bytes) and FP32 gradients (4 bytes);
- ``precision="mixed"``: FP16 parameters (2 bytes) and FP16 gradients (2 bytes), plus an FP32
  master copy of the parameters (4 bytes) that the optimizer updates;
- optimizer states are FP32 and per parameter: ``"sgd"`` keeps none, ``"sgd_momentum"`` one
  momentum buffer (4 bytes), ``"adam"`` (and AdamW) the first and second moments (8 bytes);
  Adam's scalar step counters are negligible and not counted;
- gigabytes are decimal (``1 GB = 10**9`` bytes).

Every function raises ``ValueError`` for an unknown optimizer or precision, a parameter count
below 1, or a non-integer count.
"""

from __future__ import annotations

__all__ = [
    "OPTIMIZERS",
    "PRECISIONS",
    "bytes_per_parameter",
    "model_state_bytes",
    "model_state_gb",
    "optimizer_state_count",
]

#: Number of FP32 tensors the optimizer keeps per parameter.
_STATES = {"sgd": 0, "sgd_momentum": 1, "adam": 2}
OPTIMIZERS = tuple(_STATES)
PRECISIONS = ("fp32", "mixed")


def optimizer_state_count(optimizer: str) -> int:
    """Return how many per-parameter FP32 buffers ``optimizer`` keeps (0, 1 or 2).

    Raises ``ValueError`` for an optimizer other than ``sgd``, ``sgd_momentum`` or ``adam``.
    """
    if optimizer not in _STATES:
        raise ValueError(f"optimizer must be one of {', '.join(OPTIMIZERS)}, got {optimizer!r}")
    return _STATES[optimizer]


def bytes_per_parameter(*, optimizer: str, precision: str) -> int:
    """Return the model-state bytes per parameter: 16 for mixed-precision Adam.

    ``fp32``: 4 (weights) + 4 (gradients) + 4 per optimizer buffer.
    ``mixed``: 2 (FP16 weights) + 2 (FP16 gradients) + 4 (FP32 master) + 4 per buffer.
    Raises ``ValueError`` for an unknown optimizer or precision.
    """
    states = optimizer_state_count(optimizer)
    if precision == "fp32":
        return 4 + 4 + 4 * states
    if precision == "mixed":
        return 2 + 2 + 4 + 4 * states
    raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")


def model_state_bytes(*, params: int, optimizer: str, precision: str) -> int:
    """Return the bytes of parameters, gradients and optimizer states for ``params`` parameters.

    Raises ``ValueError`` when ``params`` is not an integer of at least 1, or for an unknown
    optimizer or precision.
    """
    if isinstance(params, bool) or not isinstance(params, int):
        raise ValueError(f"params must be an integer, got {params!r}")
    if params < 1:
        raise ValueError(f"params must be at least 1, got {params}")
    return params * bytes_per_parameter(optimizer=optimizer, precision=precision)


def model_state_gb(*, params: int, optimizer: str, precision: str) -> float:
    """Return :func:`model_state_bytes` in decimal gigabytes (``10**9`` bytes).

    Raises what :func:`model_state_bytes` raises.
    """
    return model_state_bytes(params=params, optimizer=optimizer, precision=precision) / 1e9
