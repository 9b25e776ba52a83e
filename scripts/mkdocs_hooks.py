"""MkDocs hooks (``hooks:`` in mkdocs.yml): publish the committed diagrams with the docs,
and link every "SPEC §N" and "SPEC.md" of a page to the specification page.

The SVG diagrams exist once, in the repository's ``diagrams/`` (drift-checked against the
declarations by tests/test_diagrams.py). Pages embed them as ``../diagrams/NAME.svg`` — the
path that works where the Markdown is read in the repository — and the site serves them
under ``diagrams/``, so the links are rewritten to that.
"""

from __future__ import annotations

import re
from pathlib import Path

from markdown.extensions.toc import slugify
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page

_IN_REPOSITORY = "](../diagrams/"
_ON_SITE = "](diagrams/"
_SPEC_PAGE = "specification.md"
_SECTION = re.compile(r"^## (\d+)\. (.+)$", re.MULTILINE)
#: "SPEC §N" (not already inside a link's text) and a bare "SPEC.md".
_SPEC_REFERENCE = re.compile(r"(?<!\[)SPEC (§(\d+))|(?<![\w/\[])SPEC\.md")
_FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)


def spec_sections(docs: Path) -> dict[str, str]:
    """The specification page's section numbers and their anchors."""
    text = (docs / _SPEC_PAGE).read_text(encoding="utf-8")
    return {number: slugify(f"{number}. {title}", "-") for number, title in _SECTION.findall(text)}


def link_spec_references(markdown: str, sections: dict[str, str]) -> str:
    """Link "SPEC §N" to section N and "SPEC.md" to the page, outside code blocks."""

    def link(match: re.Match[str]) -> str:
        if match.group(2) is None:
            return f"[the specification]({_SPEC_PAGE})"
        anchor = sections.get(match.group(2))
        if anchor is None:  # an unknown section: left as text for the test to report
            return match.group(0)
        return f"[SPEC {match.group(1)}]({_SPEC_PAGE}#{anchor})"

    parts, last = [], 0
    for fence in _FENCE.finditer(markdown):
        parts.append(_SPEC_REFERENCE.sub(link, markdown[last : fence.start()]))
        parts.append(fence.group(0))
        last = fence.end()
    parts.append(_SPEC_REFERENCE.sub(link, markdown[last:]))
    return "".join(parts)


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
    if page.file.src_uri != _SPEC_PAGE:
        markdown = link_spec_references(markdown, spec_sections(Path(config.docs_dir)))
    return markdown.replace(_IN_REPOSITORY, _ON_SITE)
