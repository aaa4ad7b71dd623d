"""Data tests scoped to the new window in `gridwarehouse run` (issue 21 item 3), on the recorded
real BOALF and ATL: a scoped cycle tests the large models from the window's first day on
(and so misses a bad row before it, by design), a bad row inside the window fails the cycle, and
the daily full pass tests every row of every model. The bad rows are synthetic copies of real
rows, marked `_dlt_load_id = 'synthetic-bad-row'`."""

from __future__ import annotations

import json
import re
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from loaders.common.dbt import full_tests_due, full_tests_marker, lookback_days, mark_full_tests
from loaders.errors import ConfigError
from loaders.settings import load_settings

from .conftest import ROOT, Cli, make_cli

SYNTHETIC = "synthetic-bad-row"
# the second cycle loads BOALF from 2024-05-01T23:00Z (the recording runs 22:45Z..00:28Z):
# rebuild_from 2024-05-01, minus the lookback
WINDOW_START = "2024-04-28"
BEFORE_THE_WINDOW = "2024-04-01"
# the large staging and intermediate models, as macros/test_window.sql lists them; every
# incremental mart is large too
LISTED = set(re.findall(r"'(\w+)': '\w+'", (ROOT / "macros" / "test_window.sql").read_text()))


# -- the setting and the cadence --------------------------------------------------------------


def test_full_test_every_defaults_to_a_day_and_names_itself_when_malformed(tmp_path: Path):
    assert load_settings(env={}, cwd=tmp_path).full_test_every == timedelta(days=1)
    six = load_settings(env={"GRIDWAREHOUSE_FULL_TEST_EVERY": "6h"}, cwd=tmp_path)
    assert six.full_test_every == timedelta(hours=6)
    with pytest.raises(ConfigError, match="GRIDWAREHOUSE_FULL_TEST_EVERY: 'daily' is not a dur"):
        load_settings(env={"GRIDWAREHOUSE_FULL_TEST_EVERY": "daily"}, cwd=tmp_path)


def test_the_configuration_guide_states_the_default_the_code_uses(tmp_path: Path):
    guide = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"
    row = next(
        line
        for line in guide.read_text().splitlines()
        if line.startswith("| `GRIDWAREHOUSE_FULL_TEST_EVERY`")
    )
    assert row.rstrip(" |").endswith("`24h`")
    assert load_settings(env={}, cwd=tmp_path).full_test_every == timedelta(hours=24)


def test_a_full_pass_is_due_when_never_run_or_older_than_the_cadence(tmp_path: Path):
    settings = load_settings(env={"GRIDWAREHOUSE_DATA_DIR": str(tmp_path)}, cwd=tmp_path)
    now = datetime(2026, 12, 3, 12, tzinfo=UTC)
    assert full_tests_due(settings, now)  # never ran: test everything
    mark_full_tests(settings, now - timedelta(hours=23))
    assert not full_tests_due(settings, now)
    mark_full_tests(settings, now - timedelta(hours=24))
    assert full_tests_due(settings, now)
    full_tests_marker(settings).write_text("garbage")
    assert full_tests_due(settings, now)  # a doubt tests everything


def test_the_window_reaches_back_the_incremental_lookback():
    assert lookback_days() == 3  # WINDOW_START below is 2024-05-01 minus this
    assert {"stg_bmrs__boalf", "stg_bmrs__freq", "int_boalf_segments_split_by_period"} <= LISTED


# -- cycles on the recorded data --------------------------------------------------------------


def inject(cli: Cli, sql: str) -> None:
    con = duckdb.connect(str(cli.duckdb_path))
    try:
        con.execute(sql)
    finally:
        con.close()


def copy_of_a_real_row(cli: Cli, table: str, tag: str, **changes: str) -> str:
    """SQL inserting one real row of `table` again, marked synthetic, with columns changed. Its
    stored natural key is its own, so the loader's merge of a re-fetched window (which replaces
    the rows of the keys it receives) leaves it in place."""
    columns = {name for (name,) in cli.query(
        "select column_name from information_schema.columns "
        f"where table_schema = 'raw_bmrs' and table_name = '{table}'"
    )}  # fmt: skip
    if "_natural_key" in columns:
        changes["_natural_key"] = f"'{SYNTHETIC}-{tag}'"
    changes["_dlt_load_id"] = f"'{SYNTHETIC}'"
    replaced = ", ".join(f"{value} as {name}" for name, value in changes.items())
    return (
        f"insert into raw_bmrs.{table} select * replace ({replaced}) "
        f"from raw_bmrs.{table} where _dlt_load_id <> '{SYNTHETIC}' limit 1"
    )


def run(cli: Cli, *datasets: str) -> tuple[Any, dict[str, Any]]:
    """One `gridwarehouse run` cycle of these BMRS datasets; its output and dbt's results by
    test or model name."""
    result = cli.run(
        "run", "--force",
        GRIDWAREHOUSE_RUN_SOURCES="bmrs", GRIDWAREHOUSE_RUN_BMRS_DATASETS=",".join(datasets),
    )  # fmt: skip
    results = json.loads((Path(cli.env["DBT_TARGET_PATH"]) / "run_results.json").read_text())
    return result, {r["unique_id"].split(".")[2]: r for r in results["results"]}


def models_under_test(cli: Cli) -> dict[str, tuple[str, bool]]:
    """Each data test's name -> (the model it tests, whether that model is large), from the
    manifest dbt wrote."""
    manifest = json.loads((Path(cli.env["DBT_TARGET_PATH"]) / "manifest.json").read_text())
    nodes = manifest["nodes"]
    out = {}
    for node in nodes.values():
        model = nodes.get(node.get("attached_node") or "")
        if node["resource_type"] == "test" and model:
            large = model["name"] in LISTED or model["config"]["materialized"] == "incremental"
            out[node["name"]] = (model["name"], large)
    return out


@pytest.fixture(scope="module")
def cycles(tmp_path_factory, replay) -> dict[str, Any]:
    cli = make_cli(tmp_path_factory.mktemp("scoped"), replay)
    for dataset, until in (("BOALF", "2024-05-01T23:00"), ("ATL", "2024-05-01T12:00")):
        cli.run("load", "bmrs", "--dataset", dataset, "--from", "2024-05-01", "--to", until,
                check=True)  # fmt: skip
    build = cli.run("build")  # the user's command: every test, every row
    assert build.returncode == 0, build.stdout[-4000:]
    settings = load_settings(env=cli.env, cwd=cli.data_dir.parent)
    out: dict[str, Any] = {"cli": cli, "marked_by_build": full_tests_marker(settings).exists()}

    # a bad row on a day before the window (a null acceptance number): a scoped cycle (the
    # rest of BOALF) does not look at it
    before = f"date '{BEFORE_THE_WINDOW}'"
    outside = copy_of_a_real_row(
        cli, "boalf", "outside", acceptance_number="null", settlement_date=before
    )
    inject(cli, outside)
    shutil.copytree(cli.data_dir, cli.data_dir.with_name("before-the-cycle"))
    out["scoped"] = run(cli, "BOALF")
    nulls = "select count(*) from raw_bmrs.boalf where acceptance_number is null"
    out["outside_kept"] = cli.query(nulls)[0][0]
    out["tests"] = models_under_test(cli)

    # the same cycle again from the same state, with a bad row inside the window (a null unit)
    shutil.rmtree(cli.data_dir)
    shutil.copytree(cli.data_dir.with_name("before-the-cycle"), cli.data_dir)
    inject(cli, copy_of_a_real_row(cli, "boalf", "inside", national_grid_bm_unit="null"))
    out["inside"] = run(cli, "BOALF")
    inject(cli, "delete from raw_bmrs.boalf where national_grid_bm_unit is null")

    # a day after the last full pass (the rest of ATL): every test on every row finds the row
    # before the window
    mark_full_tests(settings, datetime.now(UTC) - timedelta(hours=25))
    out["full"] = run(cli, "ATL")
    return out


@pytest.mark.slow
def test_gridwarehouse_build_records_a_full_test_pass(cycles):
    assert cycles["marked_by_build"]


@pytest.mark.slow
def test_a_scoped_cycle_tests_large_models_from_the_window_start_only(cycles):
    result, results = cycles["scoped"]
    assert f"data tests: scoped to rows from {WINDOW_START} on" in result.stdout, result.stdout
    where = f">= cast('{WINDOW_START}' as"
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-3000:]
    tested = {name: cycles["tests"][name] for name in results if name in cycles["tests"]}
    scoped = {name for name, (_, large) in tested.items() if large}
    on_boalf = {"stg_bmrs__boalf", "int_boalf_segments_split_by_period"}
    assert {tested[name][0] for name in scoped} >= {*on_boalf, "fct_acceptances_by_unit_period"}
    for name in scoped:
        assert where in results[name]["compiled_code"], name
    # the bad row before the window is still there, unseen
    assert cycles["outside_kept"] == 1
    assert results["not_null_stg_bmrs__boalf_acceptance_number"]["status"] == "pass"


@pytest.mark.slow
def test_small_models_keep_their_whole_tests_in_a_scoped_cycle(cycles):
    _, results = cycles["scoped"]
    small = [name for name, (_, large) in cycles["tests"].items() if name in results and not large]
    assert small, "no test of a small model ran: the check would prove nothing"
    for name in small:
        assert "dbt_subquery" not in results[name]["compiled_code"], name


@pytest.mark.slow
def test_a_bad_row_inside_the_window_fails_the_scoped_cycle(cycles):
    result, results = cycles["inside"]
    assert result.returncode == 1
    assert f"data tests: scoped to rows from {WINDOW_START} on" in result.stdout
    assert "dbt build of 1 changed sources and their downstream models: failed" in result.stdout
    assert results["not_null_stg_bmrs__boalf_national_grid_bm_unit"]["status"] == "fail"


@pytest.mark.slow
def test_the_daily_full_pass_finds_the_row_before_the_window(cycles):
    result, results = cycles["full"]
    assert result.returncode == 1
    assert "data tests: full pass" in result.stdout, result.stdout
    boalf = results["not_null_stg_bmrs__boalf_acceptance_number"]
    assert boalf["status"] == "fail" and "dbt_subquery" not in boalf["compiled_code"]
    settings = load_settings(env=cycles["cli"].env, cwd=cycles["cli"].data_dir.parent)
    assert full_tests_due(settings, datetime.now(UTC))  # a failed full pass is due again
