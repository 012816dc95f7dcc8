from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from django.core.management import call_command

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


@pytest.fixture
def bank_copy(tmp_path: Path) -> Path:
    """A writable copy of the authored fixtures."""
    root = tmp_path / "fixtures"
    shutil.copytree(FIXTURES, root)
    return root


@pytest.fixture
def loaded_bank(db: None) -> None:
    """The authored bank, loaded into the test database."""
    call_command("load_bank", verbosity=0)
