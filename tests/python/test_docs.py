"""The guides: README.md is the front page, docs/ holds one page per reader, every relative link
reaches a page and a heading, and `make docs` serves the pages beside the dbt docs site, linked
from its overview page, offline."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path
from urllib.parse import urljoin

import pytest

from loaders.common import guides

from .conftest import ROOT

GUIDES = (
    "operating",
    "configuration",
    "sources",
    "marts",
    "bigquery",
    "contributing",
    "benchmarks",
)
# pages linked before they are written (none now: a new guide lands with its page)
PENDING: set[str] = set()


def hrefs(page: str) -> list[str]:
    """Every link target written in a guide (repository path relative to the root)."""
    tokens = guides.parser().parse((ROOT / page).read_text())
    inline = (child for token in tokens for child in token.children or [])
    return [str(c.attrGet("href")) for c in inline if c.type == "link_open"]


def anchors(page: str) -> set[str]:
    return set(guides.heading_slugs(guides.parser().parse((ROOT / page).read_text())))


def linked_pages(page: str) -> set[str]:
    targets = (guides.resolve(page, href) for href in hrefs(page))
    return {target[0] for target in targets if target}


def test_readme_and_the_docs_index_link_every_guide() -> None:
    from_readme = linked_pages("README.md")
    assert "docs/README.md" in from_readme, "the README links the docs index"
    for name in GUIDES:
        assert (ROOT / "docs" / f"{name}.md").is_file(), name
        assert f"docs/{name}.md" in from_readme, f"README does not link docs/{name}.md"
    from_index = linked_pages("docs/README.md")
    every_page = {f"docs/{p.name}" for p in (ROOT / "docs").glob("*.md")} | PENDING
    assert every_page - {"docs/README.md"} <= from_index, every_page - from_index
    assert "docs/dlt-sources.md" in from_readme, "the README links the dlt sources page"


def test_every_relative_link_reaches_a_guide_and_its_heading() -> None:
    pages = guides.guide_pages(ROOT)
    checked = 0
    for page in pages:
        for href in hrefs(page):
            if href.startswith("#"):
                assert href[1:] in anchors(page), f"{page}: no heading for {href}"
                checked += 1
                continue
            resolved = guides.resolve(page, href)
            if resolved is None:
                continue  # a web address
            target, anchor = resolved
            if target in PENDING and not (ROOT / target).exists():
                continue
            assert target in pages, f"{page}: {href} is not a guide (README.md or docs/*.md)"
            assert not anchor or anchor in anchors(target), f"{page}: no heading for {href}"
            checked += 1
    assert checked > 30, checked


def test_readme_is_a_front_page_and_its_tour_is_short() -> None:
    readme = (ROOT / "README.md").read_text()
    headings = re.findall(r"^## (.+)$", readme, re.M)
    assert headings == ["Two commands", "A five-minute tour", "Where to go next", "Benchmarks"], (
        headings
    )
    assert len(readme.splitlines()) < 130
    tour = readme.split("## A five-minute tour", 1)[1].split("```bash\n", 1)[1].split("```")[0]
    commands = [line for line in tour.splitlines() if line and not line.startswith("#")]
    for step in ("gridwarehouse status", "marts.", "gridwarehouse export", "make docs"):
        assert any(step in command for command in commands), step
    assert len(commands) <= 8, "a tour, not a reference: the reference is docs/operating.md"


@pytest.mark.parametrize(
    ("heading", "anchor"),
    [
        ("Faults and retries", "faults-and-retries"),
        ("One cycle from cron: `gridwarehouse run`", "one-cycle-from-cron-gridwarehouse-run"),
        ("BMRS: Elexon's Insights API", "bmrs-elexons-insights-api"),
        ("NESO and the DNO portals", "neso-and-the-dno-portals"),
        ("Loading BMRS: `bench/bmrs_load.py`", "loading-bmrs-benchbmrs_loadpy"),
    ],
)
def test_heading_anchors_are_the_ones_github_makes(heading: str, anchor: str) -> None:
    tokens = guides.parser().parse(f"## {heading}\n")
    assert guides.heading_slugs(tokens) == [anchor]


def test_repeated_headings_are_numbered_as_on_github() -> None:
    tokens = guides.parser().parse("## Notes\n\n## Notes\n\n### Notes\n")
    assert guides.heading_slugs(tokens) == ["notes", "notes-1", "notes-2"]


def overview_links() -> list[str]:
    overview = (ROOT / "dbt_project" / "overview.md").read_text()
    return re.findall(r"\]\((docs/[a-z-]+\.html)\)", overview)


def test_make_docs_serves_every_guide_the_overview_links(tmp_path: Path) -> None:
    """The docs server (what `make docs` runs, here without regenerating dbt's site) renders the
    guides into the site it serves; every guide the overview page links is there, and every
    link between the served guides works, anchors included."""
    site = tmp_path / "target"
    site.mkdir()
    # a stand-in for the page `dbt docs generate` writes (the server refuses a site without it)
    (site / "index.html").write_text("<html><body>dbt docs stand-in</body></html>")
    env = {**os.environ, "DBT_TARGET_PATH": str(site), "GRIDWAREHOUSE_DATA_DIR": str(tmp_path)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "loaders.common.docs", "--no-generate", "--port", "0"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+/", line)
        assert url, line
        linked = overview_links()
        served = {f"docs/{name}" for name in guides.guide_pages(ROOT).values()}
        assert len(linked) >= 9 and set(linked) <= served, linked
        assert served == set(linked), "the overview links each guide"
        for path in sorted(served):
            page_url = url.group(0) + path
            page = fetch(page_url)
            assert "<h1 id=" in page and "</main>" in page, path
            for href in re.findall(r'href="([^"]+)"', page):
                target, _, anchor = urljoin(page_url, href).partition("#")
                if href.startswith("http") or target.endswith(tuple(pending_names())):
                    continue
                found = fetch(target)
                assert not anchor or f'id="{anchor}"' in found, f"{path}: {href}"
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(30)


def pending_names() -> list[str]:
    """File names of the pending pages not written yet (their links stay `.md` until then)."""
    return [Path(page).name for page in PENDING if not (ROOT / page).exists()]


def fetch(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.status == 200, url
        return response.read().decode()


def test_guides_the_code_points_users_at_exist() -> None:
    """Error messages that send the user to a guide name a page that is there."""
    named = {
        match
        for path in (ROOT / "loaders").rglob("*.py")
        for match in re.findall(r"docs/[a-z-]+\.md", path.read_text())
    }
    assert named, "the BigQuery and IRIS errors name their guides"
    assert all((ROOT / page).is_file() or page in PENDING for page in named), named
