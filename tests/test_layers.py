"""The import contract in pyproject.toml holds, and it catches a back-import (including one hidden in a
function body), so a green `lint-imports` in `make test` means something."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ["core", "accounts", "channels_app", "profiles", "tickets", "surveys", "analytics", "cxm"]
LINT_IMPORTS = str(Path(sys.executable).with_name("lint-imports"))


def lint(cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [LINT_IMPORTS, "--no-cache"],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(cwd), "PATH": "/usr/bin:/bin"},
        timeout=300,
    )


@pytest.fixture
def copy_of_the_code(tmp_path: Path) -> Path:
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_code_keeps_the_layers(copy_of_the_code):
    result = lint(copy_of_the_code)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 kept, 0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "back_import"),
    [
        ("channels_app/ingest.py", "from tickets.models import Message\n"),
        # Inside a function body: no way around the contract.
        (
            "profiles/services.py",
            "\n\ndef _sneaky():\n    from surveys.models import Survey\n\n    return Survey\n",
        ),
        (
            "core/realtime.py",
            "\n\ndef _sneaky():\n    import accounts.models\n\n    return accounts.models\n",
        ),
    ],
)
def test_a_back_import_breaks_the_contract(copy_of_the_code, module, back_import):
    target = copy_of_the_code / module
    target.write_text(target.read_text() + back_import)
    result = lint(copy_of_the_code)
    assert result.returncode != 0
    assert "BROKEN" in result.stdout
