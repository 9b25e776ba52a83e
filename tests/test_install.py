"""The lean core, installed as a user installs it (issue 14): the wheel built from this
checkout, installed without extras into a fresh virtual environment (attrs and transitions
come from the package index), validates a payload and runs the simulator; what needs an
extra says which. ``benchmarks/startup.py`` measures the import time this keeps small."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

CORE_CHECK = r"""
import json, sys
from datetime import UTC, datetime

import apfsm

charge = json.loads(sys.argv[1])
refused = apfsm.check("capture_charge", charge, body={"captureAmount":
    {"amount": "500.00", "currencyCode": "USD"}}, at=datetime(2026, 1, 2, tzinfo=UTC))
accepted = apfsm.check("capture_charge", charge, body={"captureAmount":
    {"amount": "10.00", "currencyCode": "USD"}}, at=datetime(2026, 1, 2, tzinfo=UTC))
heavy = sorted(m for m in ("hypothesis", "graphviz", "starlette", "apfsm._sim",
    "apfsm._harness", "apfsm._fuzz", "importlib.metadata") if m in sys.modules)
sim = apfsm.Simulator(seed=1)
sid = sim.create_checkout_session({"webCheckoutDetails": {"checkoutReviewReturnUrl":
    "https://a.example/r"}, "storeId": "s"})["checkoutSessionId"]
print(json.dumps({"refused": refused.reason_code, "accepted": [accepted.ok,
    accepted.next_state], "heavy": heavy, "version": apfsm.__version__,
    "simulator": sim.object_state(sid)}))
"""

EXTRAS = r"""
import json
out = {}
for module in ("apfsm.strategies", "apfsm.stateful", "apfsm.testing"):
    try:
        __import__(module)
        out[module] = "imported"
    except ImportError as exc:
        out[module] = str(exc)
from apfsm import diagrams
out["mermaid"] = "stateDiagram" in diagrams.render("charge", "mermaid")
try:
    diagrams.render("charge", "dot")
    out["dot"] = "rendered"
except ImportError as exc:
    out["dot"] = str(exc)
print(json.dumps(out))
"""


def _run(args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=300, check=False)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel built from this checkout."""
    where = tmp_path_factory.mktemp("wheel")
    built = _run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(where), str(ROOT)]
    )
    if built.returncode != 0:
        pytest.skip(f"cannot build the wheel (no package index for hatchling?): {built.stderr}")
    return next(where.glob("apfsm-*.whl"))


def _venv_with(where: Path, requirement: str) -> Path:
    """The python of a fresh venv in ``where`` holding ``requirement`` and what it needs
    (uv when this environment has it, as the README's set-up does; else pip)."""
    uv = shutil.which("uv") or str(Path(sys.executable).with_name("uv"))
    if Path(uv).is_file():
        _run([uv, "venv", "-q", "--seed", "--python", sys.executable, str(where / "venv")])
        python = where / "venv" / "bin" / "python"
        installed = _run([uv, "pip", "install", "-q", "--python", str(python), requirement])
    else:
        venv.EnvBuilder(with_pip=True).create(where / "venv")
        python = where / "venv" / "bin" / "python"
        installed = _run(
            [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", requirement]
        )
    if installed.returncode != 0:
        pytest.skip(f"cannot install {requirement} from the package index: {installed.stderr}")
    return python


@pytest.fixture(scope="module")
def fresh(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The python of a fresh venv holding the wheel of this checkout and nothing else."""
    return _venv_with(tmp_path_factory.mktemp("install"), str(wheel))


def test_the_wheel_declares_a_lean_core_and_its_extras(fresh: Path) -> None:
    listed = _run([str(fresh), "-m", "pip", "list", "--format", "json"])
    names = {p["name"].lower() for p in json.loads(listed.stdout)}
    assert {"apfsm", "attrs", "transitions"} <= names
    assert not names & {"hypothesis", "graphviz", "starlette", "pytest", "cryptography"}
    metadata = _run(
        [str(fresh), "-c", "import importlib.metadata as m; print(m.metadata('apfsm'))"]
    )
    extras = {line.split(": ", 1)[1] for line in metadata.stdout.splitlines()
              if line.startswith("Provides-Extra")}  # fmt: skip
    assert {"testing", "diagrams", "server", "mock", "all"} <= extras
    assert "License-Expression: MIT" in metadata.stdout
    # The project URLs: the sources apfsm models (it has no hosted home yet).
    assert "Project-URL: Amazon Pay API v2 reference, https://developer.amazon.com/" in (
        metadata.stdout
    )
    shipped = _run([str(fresh), "-c", "import importlib.metadata as m; print(m.files('apfsm'))"])
    assert "LICENSE" in shipped.stdout


def test_the_core_validates_and_simulates_without_extras(fresh: Path) -> None:
    charge = {
        "chargeId": "S01-5105180-3221187-C056351",
        "chargePermissionId": "S01-5105180-3221187",
        "chargeAmount": {"amount": "100.00", "currencyCode": "USD"},
        "statusDetails": {"state": "Authorized", "lastUpdatedTimestamp": "20260101T000000Z"},
        "creationTimestamp": "20260101T000000Z",
        "expirationTimestamp": "20260131T000000Z",
    }
    done = _run([str(fresh), "-c", CORE_CHECK, json.dumps(charge)])
    assert 0 == done.returncode, done.stderr
    out = json.loads(done.stdout)
    assert "TransactionAmountExceeded" == out["refused"]  # above the charge's amount
    assert [True, "Captured"] == out["accepted"]
    # `import apfsm` for check loads no simulator, fuzzing kit, Hypothesis or graphviz.
    assert [] == out["heavy"]
    assert "Open" == out["simulator"]


def test_what_needs_an_extra_names_it(fresh: Path) -> None:
    done = _run([str(fresh), "-c", EXTRAS])
    assert 0 == done.returncode, done.stderr
    out = json.loads(done.stdout)
    for module in ("apfsm.strategies", "apfsm.stateful", "apfsm.testing"):
        assert 'pip install "apfsm[testing]"' in out[module], out[module]
    assert out["mermaid"] is True
    assert 'pip install "apfsm[diagrams]"' in out["dot"]


def test_the_command_line_works_without_extras(fresh: Path) -> None:
    apfsm = fresh.parent / "apfsm"
    version = _run([str(apfsm), "--version"])
    assert (0, "apfsm 0.1.0") == (version.returncode, version.stdout.strip())
    tables = _run([str(apfsm), "tables", "Refund"])
    assert 0 == tables.returncode, tables.stderr
    fuzz = _run([str(apfsm), "fuzz", "--examples", "1"])
    assert 2 == fuzz.returncode
    assert 'pip install "apfsm[testing]"' in fuzz.stderr


#: The guides that walk through the shipped example shop.
GUIDES = ("fuzzing-your-integration.md", "testing.md")


def test_the_guides_run_block_by_block_from_an_installed_wheel(
    wheel: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    # What a reader of the docs has: apfsm[testing] from the wheel, no checkout on the
    # path (the blocks run in an empty directory), each block pasted on its own.
    python = _venv_with(tmp_path_factory.mktemp("guides"), f"{wheel}[testing]")
    work = tmp_path_factory.mktemp("reader")
    code = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)
    failed = []
    ran = 0
    for page in GUIDES:
        for number, block in enumerate(code.findall((ROOT / "docs" / page).read_text()), 1):
            done = subprocess.run(
                [str(python), "-c", block],
                cwd=work,
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
                env={"PATH": "/usr/bin:/bin", "HOME": str(work)},
            )
            ran += 1
            if done.returncode != 0:
                failed.append(f"{page}, python block {number}: {done.stderr[-600:]}")
    assert [] == failed
    assert ran >= 10  # the guides' blocks were found
