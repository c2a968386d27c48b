"""The apps' layers and the emulator's independence are enforced by import-linter's contracts in pyproject.toml."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint_imports(cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=cwd, capture_output=True, text=True, env={"PYTHONPATH": str(cwd)}
    )


def _apps_copy(tmp_path: Path) -> Path:
    """The apps and pyproject.toml in a scratch folder, where a test may add an import."""
    from tomllib import loads

    config = loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    for package in config["root_packages"]:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_code_keeps_every_contract():
    result = _lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "imports"),
    [
        ("listings/_probe.py", "import reservations.selectors"),  # a loop between listings and reservations
        ("reservations/_probe.py", "from mpesa import services"),  # the trip page's old loop
        ("core/_probe.py", "import demo"),  # the ground floor reaching for the demo data
        ("mpesa/_probe.py", "import daraja_emulator.wire"),  # payments reaching past HTTP into the emulator
        ("mpesa/_probe.py", "import support.services"),  # payments importing the console
        ("notifications/_probe.py", "import africastalking_emulator.services"),  # the outbox reaching past HTTP
        ("africastalking_emulator/_probe.py", "from notifications import models"),  # the emulator reading the outbox
        ("notifications/_probe.py", "from reservations.models import Booking"),  # the outbox reaching up
        ("notifications/_probe.py", "import listings"),  # notifications sit directly above core
    ],
)
def test_an_import_against_the_layers_breaks_a_contract(tmp_path, module, imports):
    copy = _apps_copy(tmp_path)
    (copy / module).write_text(f"def probe():\n    {imports}\n")  # function-local imports count too
    result = _lint_imports(copy)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "BROKEN" in result.stdout
