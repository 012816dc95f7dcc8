"""Compute templates registered only inside a test: a second version, and one that blocks.

They are real templates (subclasses of a registered one) put into the engine's registry with
``monkeypatch``, so they disappear when the test ends.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest

from compute.templates import engine
from compute.templates.t_conv import ConvOutputSize
from knowledge import template_probe


class ConvOutputSizeV2(ConvOutputSize):
    """Version 2 of conv.output_size: the same question over inputs 100 longer."""

    version = 2

    def sample(self, draw: Any) -> Any:
        params = super().sample(draw)
        return {**params, "L": params["L"] + 100}


class BlockingTemplate(ConvOutputSize):
    """A template whose draw waits until the test lets it go: a pathological constraint."""

    id = "test.blocking"
    version = 1
    started = threading.Event()
    release = threading.Event()

    def sample(self, draw: Any) -> Any:
        type(self).started.set()
        type(self).release.wait(timeout=60)
        return super().sample(draw)


def register_v2(monkeypatch: pytest.MonkeyPatch) -> None:
    """Register conv.output_size v2 for the rest of the test."""
    monkeypatch.setitem(engine._REGISTRY, ("conv.output_size", 2), ConvOutputSizeV2())
    monkeypatch.setitem(engine._LATEST, "conv.output_size", 2)


def register_blocking(monkeypatch: pytest.MonkeyPatch) -> type[BlockingTemplate]:
    """Register ``test.blocking`` (not yet released) and return its class."""
    # The engine remembers drawn variants and the probe its verdicts: start from neither.
    engine._core.cache_clear()
    template_probe._KNOWN.clear()
    BlockingTemplate.started = threading.Event()
    BlockingTemplate.release = threading.Event()
    monkeypatch.setitem(engine._REGISTRY, ("test.blocking", 1), BlockingTemplate())
    monkeypatch.setitem(engine._LATEST, "test.blocking", 1)
    return BlockingTemplate
