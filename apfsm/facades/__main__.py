"""``python -m apfsm.facades [PAGE]``: regenerate the facade tables of docs/facades.md."""

from __future__ import annotations

import sys

from ._render import refresh_docs

if __name__ == "__main__":
    page = sys.argv[1] if len(sys.argv) > 1 else "docs/facades.md"
    print(f"{page}: {'refreshed' if refresh_docs(page) else 'already current'}")
