"""The template probe: one function, a time budget, and no database lock held while it runs."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from knowledge import template_probe
from knowledge.models import Card, Tag
from knowledge.services import card_rules

from . import factories
from .templates_for_tests import register_blocking


def test_a_probe_that_overruns_its_budget_answers_too_expensive_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    blocking = register_blocking(monkeypatch)
    try:
        started = time.monotonic()
        problem = template_problem_blocking(budget=0.3)
        elapsed = time.monotonic() - started
    finally:
        blocking.release.set()

    assert problem is not None and "too expensive" in problem
    assert elapsed < 2.0


def template_problem_blocking(budget: float) -> str | None:
    return template_probe.template_problem("test.blocking", 1, None, budget=budget)


def test_a_too_expensive_template_is_refused_with_a_message_not_written(
    monkeypatch: pytest.MonkeyPatch, db: None
) -> None:
    blocking = register_blocking(monkeypatch)
    monkeypatch.setattr(template_probe, "PROBE_BUDGET_SECONDS", 0.3)
    bank = factories.bank(factories.instructor())
    try:
        with pytest.raises(ValidationError) as excinfo:
            factories.card(bank, kind="numeric", template_id="test.blocking", slug="slow")
    finally:
        blocking.release.set()

    assert "too expensive" in str(excinfo.value)
    assert not Card.objects.filter(slug="slow").exists()


@pytest.mark.django_db(transaction=True)
def test_a_slow_probe_holds_no_write_lock(monkeypatch: pytest.MonkeyPatch) -> None:
    """While one save probes its template, another connection writes (SQLite's lock is free)."""
    blocking = register_blocking(monkeypatch)
    monkeypatch.setattr(template_probe, "PROBE_BUDGET_SECONDS", 60.0)
    bank = factories.bank(factories.instructor())
    factories.topic()
    outcome: dict[str, Any] = {}

    def save() -> None:
        try:
            outcome["card"] = factories.card(bank, kind="numeric", template_id="test.blocking")
        except Exception as exc:  # handed to the test below
            outcome["error"] = exc
        finally:
            connection.close()

    saver = threading.Thread(target=save)
    saver.start()
    try:
        assert blocking.started.wait(timeout=30), "the probe never started"
        started = time.monotonic()
        Tag.objects.create(slug="written-meanwhile")  # autocommit: takes the write lock
        waited = time.monotonic() - started
        assert saver.is_alive() and not blocking.release.is_set()  # the probe is still running
    finally:
        blocking.release.set()
        saver.join(timeout=60)

    assert waited < 2.0
    assert "error" not in outcome, outcome.get("error")
    assert Card.objects.filter(pk=outcome["card"].pk, template_id="test.blocking").exists()


def test_the_probe_remembers_a_verdict_but_not_a_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    blocking = register_blocking(monkeypatch)
    try:
        assert "too expensive" in (template_problem_blocking(budget=0.05) or "")
    finally:
        blocking.release.set()

    assert template_problem_blocking(budget=30) is None  # asked again, and now it fits


def test_every_writer_uses_the_same_probe(monkeypatch: pytest.MonkeyPatch, db: None) -> None:
    calls: list[tuple[Any, ...]] = []
    real = template_probe.template_problem

    def spy(*args: Any, **kwargs: Any) -> str | None:
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(card_rules, "template_problem", spy)
    bank = factories.bank(factories.instructor())

    factories.card(bank, kind="numeric", constraints={"kernel": [3]})

    assert calls == [("conv.output_size", 1, {"kernel": [3]})]
