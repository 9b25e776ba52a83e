"""Render docs/conformance.md from the corpus (``python -m tests.conformance.render`` writes
it; ``test_corpus.test_docs_page_is_generated`` fails when the committed page is stale)."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

from .cases import CASES, Case, document

PAGE = Path(__file__).resolve().parents[2] / "docs" / "conformance.md"

INTRO = """\
# Conformance corpus

`tests/conformance/` holds one test case per documented Amazon Pay fact: a starting point, one
request, the simulated time that passes first, and Amazon's documented answer, each naming its
source. `tests/conformance/test_corpus.py` runs every case through the `Simulator` and, for
refusals the target's JSON decides, through `apfsm.check`; `tests/conformance/test_wire.py`
runs the wire cases through the HTTP server (`create_app`, one app per module, reset between
cases): headers, idempotency, signatures, paths, status codes and the JSON types of answers.
Expected answers are Amazon's; a case apfsm does not meet yet is a strict xfail naming the gap
(`issue 11: …` for a gap being fixed, `NEW: …` for a disagreement found by the corpus).

This page is generated from the cases: `python -m tests.conformance.render` rewrites it, and a
test fails when it is stale.
"""

CONFLICTS = """\
Where sources conflict: the refund page says a refund can exceed the capture by "15% or 75 \
USD/GBP/EUR and 8400 JPY (whichever is less)"; the cases follow that (115.00 on a 100.00 \
capture accepted, 115.01 refused). A wrong method on a known path is answered 405; Amazon's \
error page lists two 405 codes (`UnsupportedOperation`, `RequestNotSupported`) without saying \
which one a wrong method gets, so the case accepts either. The Saved Wallet Charge Permission \
page says such a permission "will move to a Closed state after if it's canceled" (no expiry), \
while the Saved Wallet integration guide has a "Saved Wallet Expiration" section; apfsm \
expires it after 13 months like a recurring one. Until that section is read, the corpus only \
asserts what both agree on (`pof-not-180d`).
"""


def expected(case: Case) -> str:
    e = case.expect
    parts = [str(e["status"])]
    if e.get("code") == "*":
        parts.append("refused")
    elif "code" in e:
        parts.append(e["code"])
    elif "codes" in e:
        parts.append(" or ".join(e["codes"]))
    if "state" in e:
        parts.append(e["state"] + (f"/{e['reason']}" if "reason" in e else ""))
    if "then" in e:
        kind, state, reason = e["then"]
        parts.append(f"then {kind} {state}" + (f"/{reason}" if reason else ""))
    for key in (
        "keys",
        "exact_keys",
        "shape",
        "types",
        "match",
        "replay",
        "ipn",
        "ipn_keys",
        "ipn_absent",
    ):
        if key in e:
            parts.append(key)
    return " ".join(parts)


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def render() -> str:
    docs = Counter(document(c.source) for c in CASES)
    xfails = Counter(c.xfail for c in CASES if c.xfail)
    wire = sum(1 for c in CASES if c.wire)
    out = [INTRO]
    out.append(
        f"**{len(CASES)} cases from {len(docs)} sources** ({wire} through the server), "
        f"{sum(xfails.values())} marked xfail.\n"
    )
    out.append("| xfail reason | cases |\n| --- | --- |")
    out += [f"| {_cell(reason)} | {n} |" for reason, n in sorted(xfails.items())]
    out.append("")
    out.append(CONFLICTS)
    for doc in docs:
        out.append(f"## {doc}\n")
        out.append("| case | fact | expected | via | xfail |\n| --- | --- | --- | --- | --- |")
        for c in CASES:
            if document(c.source) != doc:
                continue
            via = f"`{c.wire[0]} {c.wire[1]}`" if c.wire else "Simulator"
            if c.signed:
                via += f" (signed: {c.signed})"
            out.append(
                f"| `{c.id}` | {_cell(c.fact)} | {_cell(expected(c))} | {_cell(via)} "
                f"| {_cell(c.xfail or '')} |"
            )
        out.append("")
    return "\n".join(out)


if __name__ == "__main__":
    PAGE.write_text(render(), encoding="utf-8")
    sys.stdout.write(f"wrote {PAGE}\n")
