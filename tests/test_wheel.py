"""The built wheel carries what the service needs at run time besides code: templates and static
files (KaTeX with its fonts), so an install from the wheel renders the same pages."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ["config", "knowledge", "quizzes", "ops", "compute"]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel_names(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    """Build the project's wheel from a copy of the source tree; return the names inside it."""
    source = tmp_path_factory.mktemp("source")
    # A copy, because setuptools writes build/ and *.egg-info beside the sources it builds.
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package, source / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",  # setuptools is pinned in the lock and installed
            "--wheel-dir",
            str(out),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = out.glob("dlcv_drill-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        return set(archive.namelist())


def _files_under(folder: Path) -> set[str]:
    return {
        path.relative_to(ROOT).as_posix()
        for path in folder.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }


@pytest.mark.parametrize(
    "folder",
    ["knowledge/templates", "knowledge/static", "config/templates"],
)
def test_the_wheel_contains_every_template_and_static_file(
    wheel_names: set[str], folder: str
) -> None:
    expected = _files_under(ROOT / folder)

    assert expected, f"{folder} is empty: the test would prove nothing"
    assert expected - wheel_names == set()


def test_the_wheel_carries_katex_and_its_fonts(wheel_names: set[str]) -> None:
    fonts = [
        name for name in wheel_names if name.startswith("knowledge/static/vendor/katex/fonts/")
    ]

    assert "knowledge/static/vendor/katex/katex.min.js" in wheel_names
    assert "knowledge/static/knowledge/math.js" in wheel_names
    assert "knowledge/templates/knowledge/home.html" in wheel_names
    assert len(fonts) >= 10
    assert all(name.endswith(".woff2") for name in fonts)


def test_the_wheel_holds_no_tests_or_fixtures_by_mistake(wheel_names: set[str]) -> None:
    top_level = {name.split("/", 1)[0] for name in wheel_names}

    assert top_level - {*PACKAGES, *(n for n in top_level if n.endswith(".dist-info"))} == set()
