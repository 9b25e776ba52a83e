"""Adding an operation touches three files: the worked example of docs/contributing.md.

The example's patch (docs/examples/annotate_charge.patch) declares a made-up operation in
``_spec/operations.py``, gives it per-state rules in ``_spec/charge.py`` and a handler in
``_sim/handlers.py``. Applied to a copy of apfsm, the operation must then work everywhere
— validator, simulator, server, OpenAPI, explore, strategies, fuzzer — with nothing else
written. A tool that starts to need a hand-kept per-operation table fails here.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import apfsm

ROOT = Path(__file__).resolve().parents[1]
PATCH = ROOT / "docs" / "examples" / "annotate_charge.patch"


def _touched(patch: str) -> list[str]:
    return re.findall(r"^\+\+\+ b/(\S+)", patch, flags=re.MULTILINE)


def test_the_example_touches_three_files() -> None:
    assert [
        "apfsm/_sim/handlers.py",
        "apfsm/_spec/charge.py",
        "apfsm/_spec/operations.py",
    ] == sorted(_touched(PATCH.read_text(encoding="utf-8")))


def test_the_contributors_page_shows_the_example() -> None:
    page = (ROOT / "docs" / "contributing.md").read_text(encoding="utf-8")
    assert PATCH.read_text(encoding="utf-8").strip() in page


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git to apply the patch")
def test_an_operation_added_in_three_files_works_everywhere(tmp_path: Path) -> None:
    shutil.copytree(Path(apfsm.__file__).parent, tmp_path / "apfsm")
    applied = subprocess.run(
        ["git", "apply", str(PATCH)], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert 0 == applied.returncode, applied.stderr
    result = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "new_operation_check.py"), "annotate_charge"],
        cwd=tmp_path,
        env={
            "PYTHONPATH": str(tmp_path),
            "PATH": "/usr/bin:/bin",
            "APFSM_TRACE_DIR": str(tmp_path),
        },
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert 0 == result.returncode, result.stdout + result.stderr
    # 40 examples asked; Hypothesis may run one more (a replayed or explicit example).
    found = re.search(r"fuzz: (\d+) histories called annotate_charge", result.stdout)
    assert found is not None, result.stdout
    assert int(found.group(1)) >= 40, result.stdout
