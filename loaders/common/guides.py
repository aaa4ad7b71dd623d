"""The guides (README.md and docs/*.md) rendered as HTML pages for the docs site, offline."""

from __future__ import annotations

import html
import itertools
import posixpath
import re
from collections.abc import Mapping
from pathlib import Path

from markdown_it import MarkdownIt
from markdown_it.token import Token

# links that leave the repository, or stay on the same page, are kept as written
_EXTERNAL = re.compile(r"^([a-z][a-z0-9+.-]*:|#)", re.I)
_STYLE = """body{font:16px/1.55 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;
color:#1f2328}nav{margin-bottom:1.5rem;font-size:.9rem}code,pre{font-family:ui-monospace,monospace;
background:#f6f8fa}pre{padding:.8rem;overflow-x:auto}table{border-collapse:collapse}
td,th{border:1px solid #d0d7de;padding:.3rem .6rem;vertical-align:top}a{color:#0969da}"""


def guide_pages(root: Path) -> dict[str, str]:
    """Each guide's path in the repository -> the file it is served as (one flat folder)."""
    pages = {"README.md": "readme.html"}
    for path in sorted((root / "docs").glob("*.md")):
        served = "index.html" if path.name == "README.md" else f"{path.stem}.html"
        pages[f"docs/{path.name}"] = served
    return pages


def slug(text: str) -> str:
    """A heading's anchor as GitHub makes it, so one link works there and on the docs site."""
    kept = re.sub(r"[^\w\- ]", "", text.strip().lower())
    return kept.replace(" ", "-")


def heading_text(inline: Token) -> str:
    """The visible text of a heading: its words and code, without markup or link targets."""
    parts = (c.content for c in inline.children or [] if c.type in ("text", "code_inline"))
    return "".join(parts)


def heading_slugs(tokens: list[Token]) -> list[str]:
    """Anchors of every heading, numbered on repeats as GitHub does (`x`, `x-1`, ...)."""
    seen: dict[str, int] = {}
    slugs = []
    for opening, inline in itertools.pairwise(tokens):
        if opening.type != "heading_open":
            continue
        base = slug(heading_text(inline))
        count = seen.get(base, 0)
        seen[base] = count + 1
        slugs.append(base if count == 0 else f"{base}-{count}")
    return slugs


def parser() -> MarkdownIt:
    """CommonMark with GitHub's tables; raw HTML is not passed through."""
    return MarkdownIt("commonmark", {"html": False}).enable("table")


def resolve(page: str, href: str) -> tuple[str, str] | None:
    """A relative link on `page` as (repository path, anchor); None for external or same-page."""
    if _EXTERNAL.match(href):
        return None
    target, _, anchor = href.partition("#")
    return posixpath.normpath(posixpath.join(posixpath.dirname(page), target)), anchor


def render(page: str, text: str, pages: Mapping[str, str]) -> str:
    """One guide as a standalone HTML page: anchored headings, links to other guides rewritten."""
    md = parser()
    tokens = md.parse(text)
    headings = iter(heading_slugs(tokens))
    title = "gridwarehouse"
    for index, token in enumerate(tokens):
        if token.type == "heading_open":
            token.attrSet("id", next(headings))
            if token.tag == "h1" and title == "gridwarehouse":
                title = heading_text(tokens[index + 1])
        for child in token.children or []:
            if child.type == "link_open":
                child.attrSet("href", _served_href(page, str(child.attrGet("href")), pages))
    body = md.renderer.render(tokens, md.options, {})
    return (
        f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)} · gridwarehouse</title><style>{_STYLE}</style></head>\n"
        '<body><nav><a href="index.html">Guides</a> · <a href="readme.html">README</a> · '
        f'<a href="../index.html">dbt docs site</a></nav>\n<main>\n{body}</main></body></html>\n'
    )


def _served_href(page: str, href: str, pages: Mapping[str, str]) -> str:
    resolved = resolve(page, href)
    if resolved is None or resolved[0] not in pages:
        return href  # the links test fails on a relative link to anything but a guide
    target, anchor = resolved
    return pages[target] + (f"#{anchor}" if anchor else "")


def write(root: Path, folder: Path) -> list[Path]:
    """Render every guide of the repository at `root` into `folder`; returns the pages written."""
    folder.mkdir(parents=True, exist_ok=True)
    pages = guide_pages(root)
    written = []
    for source, served in pages.items():
        out = folder / served
        out.write_text(render(source, (root / source).read_text(encoding="utf-8"), pages))
        written.append(out)
    return written
