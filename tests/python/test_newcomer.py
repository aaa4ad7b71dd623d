"""The newcomer's first hour, from a clean copy of the project: `make demo`, then every command
the demo prints, every command of the README's five-minute tour and of the "Using it" block in
docs/operating.md, as written, with the replay server standing in for the internet. Each exits 0 (or its documented code) and sees the demo's
rows; the status page and the docs site render, labelled, in headless Chromium."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from loaders.testing.replay import ReplayServer, settings_env

from .conftest import ROOT
from .test_operations import _base_python, _distinct_colours, chromium, dom  # noqa: F401

pytestmark = pytest.mark.slow

# the documented exit codes that are not 0 (CONTRACTS.md): status exits 3 while the demo's
# recorded days are stale, which they always are
EXPECTED_CODES = {"uv run gridwarehouse status": 3}


@dataclass
class Newcomer:
    clone: Path
    env: dict[str, str]  # the newcomer's shell: nothing of ours exported
    demo: subprocess.CompletedProcess[str]

    def shell(self, command: str, **extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", "-c", command], cwd=self.clone, env={**self.env, **extra},
            capture_output=True, text=True, timeout=900,
        )  # fmt: skip


def copy_project(dest: Path) -> None:
    """What a clone holds: the tracked files (and new ones not ignored), nothing built."""
    listed = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "-z"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout.split("\0")  # fmt: skip
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)


def offline_env(replay: ReplayServer) -> dict[str, str]:
    """The newcomer's environment, with the replay server standing in for the internet: the
    base-URL settings it prints, and no rate limits (it is local)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("GRIDWAREHOUSE_", "IRIS_", "ISONE_", "DBT_", "VIRTUAL_ENV"))
        and not k.endswith(("_API_TOKEN", "_API_KEYS"))
    }
    # a newcomer's shell has the system Python first, not this test run's project venv
    # (`make` runs `python3 -m uv`, which the venv's python does not have)
    venv_bin = str(Path(sys.prefix) / "bin")
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if p != venv_bin)
    env.update(settings_env(replay))
    for source in ("BMRS", "NESO", "DNO", "ISONE"):
        env[f"GRIDWAREHOUSE_{source}_REQUESTS_PER_S"] = "0"
    # the replay server asks for no credentials; ISO-NE's loader needs some to call
    env.update({"ISONE_USERNAME": "replay-user", "ISONE_PASSWORD": "replay-password"})
    return env


@pytest.fixture(scope="module")
def newcomer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Newcomer]:
    clone = tmp_path_factory.mktemp("newcomer") / "gridwarehouse"
    copy_project(clone)
    with ReplayServer() as replay:
        env = offline_env(replay)
        demo = subprocess.run(
            ["make", "--no-print-directory", "demo", f"PYTHON={_base_python()}"],
            cwd=clone, env=env, capture_output=True, text=True, timeout=1800,
        )  # fmt: skip
        assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-3000:]
        yield Newcomer(clone, env, demo)


def serve_and_fetch(newcomer: Newcomer, command: str) -> tuple[str, str]:
    """Start a command that serves on 127.0.0.1 (`make docs`), wait for the URL it prints,
    fetch the page, stop it. Returns (url, page)."""
    proc = subprocess.Popen(
        ["bash", "-c", f"exec {command}"], cwd=newcomer.clone, env=newcomer.env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        seen = []
        for line in proc.stdout:
            seen.append(line)
            found = re.search(r"http://127\.0\.0\.1:\d+/", line)
            if found:
                url = found.group(0)
                return url, urllib.request.urlopen(url, timeout=30).read().decode()
        raise AssertionError("no URL printed:\n" + "".join(seen)[-3000:])
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(60)


def demo_commands(stdout: str) -> list[str]:
    """The commands the demo's closing text tells the user to type, as printed."""
    closing = stdout[stdout.index("\nDone. ") :]
    commands = []
    for line in closing.splitlines():
        for start in ("uv run ", "make docs"):
            if start in line:
                command = line[line.index(start) :]
                commands.append(re.split(r"\s{3,}\(", command)[0].strip())
    return commands


def readme_block(heading: str, language: str = "bash", page: str = "README.md") -> str:
    """The first `language` code block under `heading` in the README or a guide in docs/."""
    text = (ROOT / page).read_text()
    section = text[text.index(f"\n{heading}\n") :]
    return section.split(f"```{language}\n", 1)[1].split("```", 1)[0]


def block_commands(heading: str, page: str) -> list[str]:
    lines = readme_block(heading, page=page).splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def readme_using_it() -> list[str]:
    """The reference block of every command, in the operator's guide."""
    return block_commands("## Using it", "docs/operating.md")


def readme_tour() -> list[str]:
    """The README's five-minute tour: what a user types right after the demo."""
    return block_commands("## A five-minute tour", "README.md")


def run_documented(newcomer: Newcomer, commands: list[str]) -> dict[str, str]:
    """Run each command as written; each exits 0 or its documented code, without a traceback.
    Returns each command's output (`make docs`: the page it serves)."""
    outputs = {}
    for command in commands:
        if command.startswith("make docs"):
            _, page = serve_and_fetch(newcomer, command)
            assert "<html" in page.lower()
            outputs[command] = page
            continue
        result = newcomer.shell(command)
        plain = command.split("#")[0].strip()
        expected = EXPECTED_CODES.get(plain.split(" --")[0], 0)
        assert result.returncode == expected, f"{command}\n{result.stdout}\n{result.stderr}"
        assert "Traceback" not in result.stdout + result.stderr, command
        outputs[command] = result.stdout
    return outputs


# -- tests, in the order a newcomer goes ----------------------------------------------------


def test_export_right_after_make_demo_writes_the_batteries(newcomer: Newcomer) -> None:
    result = newcomer.shell(
        "uv run gridwarehouse export vlp-batteries --format json --out batteries.json"
    )
    assert result.returncode == 0, result.stderr
    batteries = json.loads((newcomer.clone / "batteries.json").read_text())
    assert len(batteries) > 0, "the demo's registry has battery units"


def test_demo_output_is_short_plain_and_points_at_its_logs(newcomer: Newcomer) -> None:
    out = newcomer.demo.stdout
    assert len(out.splitlines()) < 60, out
    assert "\033" not in out and "\033" not in newcomer.demo.stderr
    assert re.search(r"Done\. PASS=\d+ WARN=\d+ ERROR=0", out), out
    assert "Finished running" in out and "data models" not in out  # dbt's summary, not its list
    for log in ("load.log", "dbt-build.log", "dbt-docs.log"):
        assert (newcomer.clone / "data" / "logs" / "demo" / log).stat().st_size > 0
    assert "data/logs/demo/" in out
    assert (newcomer.clone / "data" / "gridwarehouse.duckdb").exists()
    assert not (newcomer.clone / "data" / "demo").exists()


def test_every_command_the_demo_prints_works_as_printed(newcomer: Newcomer) -> None:
    commands = demo_commands(newcomer.demo.stdout)
    assert len(commands) >= 6, commands
    for command in commands:
        if command == "make docs":
            _, page = serve_and_fetch(newcomer, command)
            assert "<html" in page.lower()
            continue
        result = newcomer.shell(command)
        expected = EXPECTED_CODES.get(command, 0)
        assert result.returncode == expected, f"{command}\n{result.stdout}\n{result.stderr}"
        assert "Traceback" not in result.stderr, command
        if "status" in command:  # the demo's datasets, with their rows
            assert re.search(r"BOALF\s+2024-05-08 00:00", result.stdout), result.stdout
        if "datasets list" in command:
            assert re.search(r"^BOALF .* yes ", result.stdout, re.M)
            assert re.search(r"^BMUNITS .* yes ", result.stdout, re.M)
        if "duckdb" in command:  # the query line: a table of acceptances
            assert "settlement_date" in result.stdout and "2024-05-0" in result.stdout
        if "dlt pipeline" in command:
            assert "Found pipeline bmrs" in result.stdout
    assert len((newcomer.clone / "batteries.csv").read_text().splitlines()) > 1


def test_every_command_in_readme_using_it_works_after_the_demo(newcomer: Newcomer) -> None:
    commands = readme_using_it()
    assert len(commands) >= 10, commands
    run_documented(newcomer, commands)
    assert (newcomer.clone / "out" / "status.html").stat().st_size > 0
    assert len((newcomer.clone / "batteries.csv").read_text().splitlines()) > 1


def test_every_command_of_the_readme_tour_works_after_the_demo(newcomer: Newcomer) -> None:
    """The tour covers status, a query of a mart, the export and the docs site, and each step
    shows the demo's data."""
    commands = readme_tour()
    outputs = run_documented(newcomer, commands)
    status = next(out for c, out in outputs.items() if c.startswith("uv run gridwarehouse status"))
    assert re.search(r"BOALF\s+2024-05-08 00:00", status), status
    query = next(out for c, out in outputs.items() if "marts.fct_" in c)
    assert "settlement_date" in query and "2024-05-0" in query, query
    assert any(c.startswith("uv run gridwarehouse export ") for c in commands), commands
    assert "make docs" in commands, commands
    assert (newcomer.clone / "out" / "status.html").stat().st_size > 0
    assert len((newcomer.clone / "batteries.csv").read_text().splitlines()) > 1


def test_readme_querying_snippet_reads_the_demo_marts(newcomer: Newcomer) -> None:
    snippet = readme_block(
        "## Querying while loads run: the warehouse lock", "python", "docs/operating.md"
    )
    check = (
        snippet + "\nrows = con.sql('select count(*) from marts.fct_acceptances_by_unit_period')\n"
    )
    check += "print('rows', rows.fetchone()[0])\n"
    result = newcomer.shell(f"uv run python -c {shlex.quote(check)}")
    assert result.returncode == 0, result.stderr
    assert int(result.stdout.split("rows ")[-1]) > 0


def render(chromium: str, url: str, out: Path) -> str:  # noqa: F811
    """Headless Chromium: a screenshot of `url` (after its scripts ran) and its DOM."""
    flags = ["--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
             "--window-size=1400,1000", "--disable-dev-shm-usage", "--no-first-run",
             "--virtual-time-budget=15000"]  # fmt: skip
    subprocess.run([chromium, *flags, f"--screenshot={out}", url], capture_output=True, timeout=180)
    assert out.exists() and out.read_bytes()[:4] == b"\x89PNG"
    assert _distinct_colours(out.read_bytes()) > 20, f"{out} is blank"
    done = subprocess.run(
        [chromium, *flags, "--dump-dom", url], capture_output=True, text=True, timeout=180
    )
    return done.stdout


SHOTS = Path(os.environ.get("GRIDWAREHOUSE_SCREENSHOTS", "/tmp/gridwarehouse-screenshots"))


def assert_default_graph_is_the_marts_and_their_inputs(newcomer: Newcomer, url: str) -> None:
    """The manifest the site draws its graph from: every mart and everything upstream of it,
    none of the catalogue-only staging the full manifest on disk has (nor their sources; the
    completeness count reads many of them, and its page says so)."""
    full = json.loads((newcomer.clone / "target" / "manifest.json").read_text())
    shown = json.loads(urllib.request.urlopen(f"{url}manifest.json", timeout=30).read())
    everything = {**full["nodes"], **full["sources"]}
    catalogue = {u for u, n in everything.items() if "catalogue_only" in n["tags"]}
    assert len(catalogue) > 200, "the full manifest has the catalogue's models and sources"
    drawn = {**shown["nodes"], **shown["sources"]}
    assert not catalogue & drawn.keys()
    marts = [u for u, n in full["nodes"].items() if "/marts/" in n["original_file_path"]]
    assert len(marts) > 30
    upstream, todo = set(), list(marts)
    while todo:
        node = everything[todo.pop()]
        for parent in node.get("depends_on", {}).get("nodes", []):
            if parent in everything and parent not in upstream | catalogue:
                upstream.add(parent)
                todo.append(parent)
    assert set(marts) | upstream <= drawn.keys(), "every mart and all it reads are drawn"
    edges = {p for n in drawn.values() for p in n.get("depends_on", {}).get("nodes", [])}
    assert edges <= drawn.keys(), "no edge leads to a node the site does not have"


def test_status_page_and_docs_site_render_labelled_in_chromium(
    newcomer: Newcomer,
    chromium: str,  # noqa: F811
) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = newcomer.clone / "out" / "status-shot.html"
    newcomer.shell(f"uv run gridwarehouse status --html {page}")
    status = render(chromium, page.as_uri(), SHOTS / "status.png")
    for label in ("BMRS (Elexon Insights API) [bmrs]", "ISO New England [isone]", "BOALF"):
        assert label in status
    assert "rows · " in status and "window" in status  # the duration bars are labelled

    proc = subprocess.Popen(
        ["bash", "-c", "exec uv run python -m loaders.common.docs --no-generate --port 0"],
        cwd=newcomer.clone, env=newcomer.env, stdout=subprocess.PIPE, text=True,
        start_new_session=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        url = re.search(r"http://127\.0\.0\.1:\d+/", proc.stdout.readline()).group(0)
        mart = f"{url}#!/model/model.gridwarehouse.fct_acceptances_by_unit_period"
        marts_page = render(chromium, mart, SHOTS / "docs-mart.png")
        assert "fct_acceptances_by_unit_period" in marts_page
        assert "accepted_level_mwh" in marts_page, "the mart's columns are listed"
        # the mart's lineage: the mart and what feeds it (graph labels are drawn on a canvas:
        # the screenshot shows them; the DOM has the selection and the page's own names)
        feeds = "?g_v=1&g_i=%2Bfct_acceptances_by_unit_period%2B"
        lineage = render(chromium, mart + feeds, SHOTS / "docs-lineage.png")
        assert "Lineage Graph" in lineage
        assert "int_boalf_segments_split_by_period" in lineage, "what feeds the mart is drawn"
        # the project's whole lineage as the site opens it, with no filter typed: the marts and
        # what feeds them, not the staging of the ~140 datasets no mart reads
        overview = f"{url}#!/overview?g_v=1"
        assert "Lineage Graph" in render(chromium, overview, SHOTS / "docs-lineage-all.png")
        assert_default_graph_is_the_marts_and_their_inputs(newcomer, url)
        # the overview page links the guides, which the same server serves
        front = render(chromium, f"{url}#!/overview", SHOTS / "docs-overview.png")
        assert 'href="docs/operating.html"' in front, "the overview links the guides"
        guide = render(chromium, f"{url}docs/operating.html", SHOTS / "docs-operating.png")
        assert "Faults and retries" in guide and 'href="configuration.html"' in guide
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(60)


def test_readme_dlt_commands_inspect_the_demo_pipelines(newcomer: Newcomer) -> None:
    """The README's dlt block (info, trace, load-package, schema) against the demo's pipelines,
    and `show`, which the README says needs dlt[hub], does nothing useful."""
    block = readme_block("## Inspecting pipelines with dlt", page="docs/operating.md")
    commands = [line.split("#")[0].strip() for line in block.splitlines() if line.strip()]
    assert [c.split()[-1] for c in commands] == ["info", "trace", "load-package", "schema"]
    expect = {
        "info": "default_schema_name: bmrs",
        "trace": "COMPLETED",
        "load-package": "Package ",
        "schema": "name: bmrs",
    }
    for command in commands:
        result = newcomer.shell(command)
        assert result.returncode == 0, f"{command}\n{result.stderr}"
        assert "Found pipeline bmrs" in result.stdout
        assert expect[command.split()[-1]] in result.stdout, result.stdout[-2000:]
    assert "boalf" in newcomer.shell(commands[-1]).stdout  # the schema lists the demo's tables
    show = newcomer.shell("uv run dlt pipeline --pipelines-dir data/pipelines bmrs show")
    assert "dlt[hub]" in show.stdout + show.stderr
