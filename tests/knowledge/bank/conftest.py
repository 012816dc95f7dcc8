"""The real authored bank, loaded once for every test of this package.

The tests here need the whole bank. Loading it takes seconds, so it is loaded once, from a copy
of ``fixtures/`` taken at the start (a fixed snapshot, even while someone edits the fixtures),
and committed; each test still runs in its own transaction, rolled back after it. When the
package is done the database is flushed, so tests elsewhere start from an empty bank.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.management import call_command

from knowledge.services import bank_load

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures"


@pytest.fixture(scope="package")
def bank_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The snapshot of ``fixtures/`` this package loaded."""
    root = tmp_path_factory.mktemp("bank") / "fixtures"
    shutil.copytree(FIXTURES, root)
    return root


@pytest.fixture(scope="package")
def django_db_setup(
    django_db_setup: None, django_db_blocker: pytest.FixtureRequest, bank_root: Path
) -> Iterator[None]:
    """Load the bank into the test database once, before the first test of this package."""
    with django_db_blocker.unblock():  # type: ignore[attr-defined]
        bank_load(bank_root)
    yield
    with django_db_blocker.unblock():  # type: ignore[attr-defined]
        call_command("flush", interactive=False, verbosity=0)


@pytest.fixture
def loaded_bank(db: None) -> None:
    """The bank is already loaded for this package."""


@pytest.fixture
def bank_copy(tmp_path: Path, bank_root: Path) -> Path:
    """A writable copy of the loaded snapshot, to edit and load again."""
    root = tmp_path / "fixtures"
    shutil.copytree(bank_root, root)
    return root
