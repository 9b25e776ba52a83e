"""MkDocs hooks (``hooks:`` in mkdocs.yml): publish the committed diagrams with the docs.

The SVG diagrams exist once, in the repository's ``diagrams/`` (drift-checked against the
declarations by tests/test_diagrams.py). Pages embed them as ``../diagrams/NAME.svg`` — the
path that works where the Markdown is read in the repository — and the site serves them
under ``diagrams/``, so the links are rewritten to that.
"""

from __future__ import annotations

from pathlib import Path

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page

_IN_REPOSITORY = "](../diagrams/"
_ON_SITE = "](diagrams/"


def on_files(files: Files, config: MkDocsConfig) -> Files:
    """Add every committed SVG diagram to the site as ``diagrams/NAME.svg``."""
    root = Path(config.config_file_path).parent / "diagrams"
    for svg in sorted(root.glob("*.svg")):
        files.append(File.generated(config, f"diagrams/{svg.name}", abs_src_path=str(svg)))
    return files


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    """Point the repository-relative diagram links of top-level pages at the site's copy."""
    if "/" in page.file.src_uri:
        # A page in a subfolder would need another prefix: leave it for mkdocs --strict to
        # report rather than rewrite it wrongly.
        return markdown
    return markdown.replace(_IN_REPOSITORY, _ON_SITE)
