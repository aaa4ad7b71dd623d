"""The project's own consistency: generated dbt files are current, the CLI lists its commands."""

from __future__ import annotations

import json
import subprocess

from loaders.sources.bmrs import dbtgen
from loaders.testing.replay import ReplayServer

from .conftest import GRIDWAREHOUSE, RECORDED, ROOT

ROOT_STAGING = ROOT / "models" / "staging" / "bmrs"


def test_generated_staging_models_are_up_to_date():
    stale = [
        str(path)
        for path, text in dbtgen.render().items()
        if not path.exists() or path.read_text() != text
    ]
    assert not stale, (
        "run `make generate` (python -m loaders.sources.bmrs.dbtgen) and commit: "
        + ", ".join(stale[:5])
    )


def test_help_lists_the_commands_and_version_is_quick():
    result = subprocess.run([str(GRIDWAREHOUSE), "--help"], capture_output=True, text=True)
    assert result.returncode == 0
    for command in ("load", "datasets", "build", "demo"):
        assert command in result.stdout
    version = subprocess.run([str(GRIDWAREHOUSE), "--version"], capture_output=True, text=True)
    assert version.stdout.startswith("gridwarehouse ")


def test_datasets_list_json_describes_every_catalogue_entry(cli):
    result = cli.run("datasets", "list", "bmrs", "--json")
    rows = json.loads(result.stdout)
    boalf = next(r for r in rows if r["name"] == "BOALF")
    assert boalf["keys"] == ["nationalGridBmUnit", "acceptanceNumber", "timeFrom"]
    assert boalf["table"] == "raw_bmrs.boalf" and boalf["loaded"] is False
    assert len(rows) > 100


def test_replay_serves_the_recorded_bytes_for_the_recorded_request():
    with ReplayServer() as server:
        import httpx

        url = server.base_url("bmrs") + "/datasets/MILS"
        body = httpx.get(
            url,
            params={"format": "json", "to": "2024-05-01T11:00:00Z", "from": "2024-05-01T10:00:00Z"},
        ).content
    assert body == (RECORDED / "bmrs/MILS/mils_2024-05-01T10-11Z.json").read_bytes()


def test_datasets_list_says_a_loaded_snapshot_dataset_is_loaded(cli):
    """BMUNITS is a whole list with no windows: loaded means its list load succeeded."""
    cli.run("load", "bmrs", "--dataset", "BMUNITS", "--dataset", "MILS",
            "--from", "2024-05-01T10:00", "--to", "2024-05-01T11:00", check=True)  # fmt: skip
    rows = {r["name"]: r for r in json.loads(cli.run("datasets", "list", "--json").stdout)}
    assert cli.count("raw_bmrs.bmunits") > 2000
    assert rows["BMUNITS"]["loaded"] is True and rows["BMUNITS"]["loaded_until"]
    assert rows["MILS"]["loaded"] is True and rows["BOALF"]["loaded"] is False


def test_datasets_list_into_a_closed_pipe_exits_quietly(cli):
    """`datasets list --json | head -1`: the reader goes away mid-output; no traceback."""
    shell = subprocess.run(
        f"'{GRIDWAREHOUSE}' datasets list --json | head -1; exit ${{PIPESTATUS[0]}}",
        shell=True,
        executable="/bin/bash",
        env=cli.env,
        cwd=cli.data_dir.parent,
        capture_output=True,
        text=True,
    )
    assert shell.stdout == "[\n"
    assert shell.stderr == "" and shell.returncode == 0, shell.stderr


def test_replay_server_prints_only_settings_the_loaders_read(tmp_path):
    """`python -m loaders.testing.replay` prints export lines; each is a setting that changes
    where a loader goes (no dead GRIDWAREHOUSE_DNO_BASE_URL), ISO-NE's website included."""
    import signal
    import sys

    from loaders.settings import load_settings
    from loaders.sources.dno.source import load_portals

    proc = subprocess.Popen(
        [sys.executable, "-m", "loaders.testing.replay", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )
    try:
        assert proc.stdout is not None
        header = proc.stdout.readline()  # printed with the exports, in one flush
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(120)  # a loaded CI machine: interpreter teardown can take a while
    rest = proc.stdout.read()
    assert header.startswith("replaying "), header
    exports = dict(
        line.strip().removeprefix("export ").split("=", 1)
        for line in rest.splitlines()
        if line.strip().startswith("export ")
    )
    assert len(exports) == 5, rest
    assert "GRIDWAREHOUSE_DNO_BASE_URL" not in exports
    settings = load_settings(env=exports, cwd=tmp_path)
    assert settings.base_url("bmrs") == exports["GRIDWAREHOUSE_BMRS_BASE_URL"]
    assert settings.base_url("isone_www").endswith("/isone/www")
    assert settings.base_url("neso").endswith("/neso/api/3/action")
    portals = load_portals(settings)
    assert portals["UKPN"].base_url == exports["GRIDWAREHOUSE_DNO_UKPN_BASE_URL"]


def test_staging_nothing_downstream_reads_is_tagged_and_hidden_from_the_docs_site():
    """The docs site shows the marts and what feeds them: generated BMRS staging models no
    mart, intermediate model or snapshot refers to are tagged catalogue_only and not shown;
    the ones the marts read are shown, untagged."""
    import yaml

    generated = ROOT_STAGING / "generated" / "_bmrs__generated__models.yml"
    models = {m["name"]: m for m in yaml.safe_load(generated.read_text())["models"]}
    sources = yaml.safe_load((ROOT_STAGING / "_bmrs__sources.yml").read_text())["sources"][0]
    tables = {t["name"]: t for t in sources["tables"]}
    downstream = dbtgen.read_downstream()
    assert {"stg_bmrs__mils", "stg_bmrs__fuelhh", "stg_bmrs__freq"} <= downstream
    for name in ("stg_bmrs__mils", "stg_bmrs__fuelhh"):
        assert "config" not in models[name] and "tags" not in tables[name.split("__")[1]]
    hidden = {n for n, m in models.items() if m.get("config", {}).get("docs") == {"show": False}}
    assert "stg_bmrs__yafm" in hidden and hidden.isdisjoint(downstream)
    assert len(hidden) > 100, "most of the catalogue is read by no mart"
    assert all(models[n]["config"]["tags"] == ["catalogue_only"] for n in hidden)
    assert {t for t, v in tables.items() if v.get("tags")} == {n.split("__")[1] for n in hidden}


def test_demo_steps_draw_a_bar_on_a_terminal_and_plain_lines_otherwise():
    import io

    from loaders.progress import Steps

    plain, tty = io.StringIO(), io.StringIO()
    for stream, is_tty in ((plain, False), (tty, True)):
        steps = Steps(2, stream, tty=is_tty)
        steps.begin("load")
        steps.end("load", "10 rows in 1s")
        steps.begin("dbt build")
        steps.end("dbt build", "done in 30s")
    assert plain.getvalue() == "[1/2] load: 10 rows in 1s\n[2/2] dbt build: done in 30s\n"
    assert "\r\033[K[----------" in tty.getvalue() and "] 2/2 dbt build …" in tty.getvalue()
    assert tty.getvalue().endswith("\r\033[K[2/2] dbt build: done in 30s\n")
