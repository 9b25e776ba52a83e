"""The docs stay true: their Python examples run, and generated blocks match a fresh render."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from apfsm._docs.blocks import BLOCKS, refresh, render
from apfsm.facades import DIAGRAMS as FACADE_DIAGRAMS
from apfsm.facades import refresh_docs as refresh_facade_docs

ROOT = Path(__file__).resolve().parents[2]
PAGES = sorted([*ROOT.glob("docs/*.md"), ROOT / "README.md"])
CODE = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_python_examples_run(page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Each block on its own, in a fresh namespace, as a reader copies one (issue 14);
    # tests/test_install.py runs the fuzzing guide's the same way from an installed wheel.
    monkeypatch.chdir(tmp_path)  # what a block writes stays out of the checkout
    for number, block in enumerate(CODE.findall(page.read_text(encoding="utf-8")), 1):
        try:
            exec(compile(block, f"{page.name}, python block {number}", "exec"), {"__name__": "doc"})
        except Exception as exc:  # pragma: no cover - the failure message is the point
            pytest.fail(f"{page.name}, python block {number} fails on its own: {exc!r}\n{block}")


def test_generated_blocks_are_current() -> None:
    stale = refresh(ROOT, write=False)
    assert [] == stale, "generated docs are out of date; run: .venv/bin/python -m apfsm._docs"


def test_every_block_is_used_somewhere() -> None:
    text = "".join(p.read_text(encoding="utf-8") for p in PAGES)
    for name in BLOCKS:
        assert f"<!-- generated:{name} -->" in text, name


def test_render_fills_and_refuses_unknown_blocks() -> None:
    filled = render("<!-- generated:errors -->\nold\n<!-- /generated:errors -->")
    assert "| InvalidChargeStatus | 422 |" in filled
    assert "old" not in filled
    with pytest.raises(ValueError, match="unknown generated block 'nope'"):
        render("<!-- generated:nope -->\n<!-- /generated:nope -->")


def test_site_builds_strictly(tmp_path: Path) -> None:
    # --strict turns every broken link, missing image or unknown anchor into a failure
    # (not with --quiet, which hides the warnings strict mode counts); the site goes to a
    # temporary directory so the build leaves nothing in the tree.
    before = sorted(p.name for p in ROOT.iterdir())
    site = tmp_path / "site"
    config = ["--config-file", str(ROOT / "mkdocs.yml"), "--site-dir", str(site)]
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", *config],
        capture_output=True,
        text=True,
        check=False,
    )
    assert 0 == result.returncode, result.stdout + result.stderr
    assert before == sorted(p.name for p in ROOT.iterdir())
    # Every diagram is published and embedded: the overview on the lifecycles page, each
    # object's lifecycle and refusals on its own page.
    pages = {
        "overview": "lifecycles",
        "checkout_session": "checkout-session",
        "charge_permission": "charge-permission",
        "charge": "charge",
        "refund": "refund",
        "buyer": "buyer",
        "dispute": "dispute",
        "report": "reports",  # the Reports API's report processing (lifecycle view only)
        **dict.fromkeys(FACADE_DIAGRAMS, "facades"),
    }
    svgs = sorted((ROOT / "diagrams").glob("*.svg"))
    assert len(svgs) == 14 + len(FACADE_DIAGRAMS)
    for svg in svgs:
        assert (site / "diagrams" / svg.name).read_bytes() == svg.read_bytes()
        page = pages[svg.stem.removesuffix("-refusals")]
        html = (site / page / "index.html").read_text(encoding="utf-8")
        assert f'src="../diagrams/{svg.name}"' in html, (svg.name, page)
        # Wide diagrams (the charge's) are readable: each opens full size on a click.
        assert f'<a href="../diagrams/{svg.name}"' in html, (svg.name, page)
    assert (site / "cli" / "index.html").is_file()


def test_readme_links_point_at_files() -> None:
    # mkdocs --strict checks the links between docs pages; the README is outside the site.
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    targets = re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", text)
    assert targets
    missing = [t for t in targets if not (ROOT / t).exists()]
    assert [] == missing


def test_every_spec_reference_resolves() -> None:
    # "SPEC §N" anywhere in the docs names a section of docs/specification.md, which the
    # site links (scripts/mkdocs_hooks.py); the README points at the page itself.
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        from mkdocs_hooks import link_spec_references, spec_sections
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    sections = spec_sections(ROOT / "docs")
    assert [str(n) for n in range(1, 12)] == list(sections)
    fences = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)
    for page in PAGES:
        if page.name in ("specification.md", "README.md"):  # the README is not on the site
            continue
        text = page.read_text(encoding="utf-8")
        for number in re.findall(r"SPEC §(\d+)", text):
            assert number in sections, (page.name, number)
        linked = fences.sub("", link_spec_references(text, sections))
        assert "SPEC §" not in re.sub(r"\[SPEC §\d+\]\([^)]*\)", "", linked), page
    assert "[SPEC §7](specification.md#7-idempotency-simulation-notifications)" in (
        link_spec_references("see SPEC §7.", sections)
    )


def test_site_works_offline_with_highlighting_and_an_api_reference(tmp_path: Path) -> None:
    site = tmp_path / "site"
    config = ["--config-file", str(ROOT / "mkdocs.yml"), "--site-dir", str(site)]
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", *config],
        capture_output=True,
        text=True,
        check=False,
    )
    assert 0 == result.returncode, result.stdout + result.stderr
    for page in site.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        # No script or style from another host: highlighting is done at build time.
        assert not re.findall(r'<(?:script|link)[^>]+(?:src|href)="https?://', html), page
    validator = (site / "validator" / "index.html").read_text(encoding="utf-8")
    assert '<div class="highlight">' in validator
    assert '<span class="kn">from</span>' in validator
    assert (site / "css" / "pygments.css").is_file()
    reference = (site / "reference" / "index.html").read_text(encoding="utf-8")
    for name in ("apfsm.check", "apfsm.Simulator.capture_charge", "apfsm.diagrams.render"):
        assert f'id="{name}"' in reference, name


def test_facade_tables_are_current() -> None:
    # docs/facades.md's mapping tables and check_mapping findings, from apfsm.facades.
    stale = refresh_facade_docs(ROOT / "docs" / "facades.md", write=False)
    assert not stale, "docs/facades.md is out of date; run: python -m apfsm.facades"


def test_the_readme_lists_every_benchmark() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"^\| `benchmarks/(\w+\.py)` \|", text, flags=re.MULTILINE))
    scripts = {path.name for path in (ROOT / "benchmarks").glob("*.py")}
    assert scripts <= listed, sorted(scripts - listed)
