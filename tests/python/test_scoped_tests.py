"""Data tests scoped to the new window in `gridwarehouse run` (issue 21 item 3), on the recorded
real BOALF, MILS and ATL: a scoped cycle tests the large models from the window's first day on
(and so misses a bad row before it, by design), a bad row inside the window fails the cycle, and
the daily full pass tests every row of every model. The bad rows are synthetic copies of real
rows, marked `_dlt_load_id = 'synthetic-bad-row'`."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from loaders.common.dbt import full_tests_due, full_tests_marker, lookback_days, mark_full_tests
from loaders.errors import ConfigError
from loaders.settings import load_settings

from .conftest import Cli, make_cli

SYNTHETIC = "synthetic-bad-row"
# the second cycle loads BOALF from 2024-05-01T12:00: rebuild_from 2024-05-01, minus the lookback
WINDOW_START = "2024-04-28"
BEFORE_THE_WINDOW = "2024-04-01"
LARGE_STAGING = {"stg_bmrs__boalf", "stg_bmrs__mils"}


# -- the setting and the cadence --------------------------------------------------------------


def test_full_test_every_defaults_to_a_day_and_names_itself_when_malformed(tmp_path: Path):
    assert load_settings(env={}, cwd=tmp_path).full_test_every == timedelta(days=1)
    six = load_settings(env={"GRIDWAREHOUSE_FULL_TEST_EVERY": "6h"}, cwd=tmp_path)
    assert six.full_test_every == timedelta(hours=6)
    with pytest.raises(ConfigError, match="GRIDWAREHOUSE_FULL_TEST_EVERY: 'daily' is not a dur"):
        load_settings(env={"GRIDWAREHOUSE_FULL_TEST_EVERY": "daily"}, cwd=tmp_path)


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


# -- cycles on the recorded data --------------------------------------------------------------


def inject(cli: Cli, sql: str) -> None:
    con = duckdb.connect(str(cli.duckdb_path))
    try:
        con.execute(sql)
    finally:
        con.close()


def copy_of_a_real_row(table: str, **changes: str) -> str:
    """SQL inserting one real row of `table` again, marked synthetic, with columns changed."""
    replaced = ", ".join(
        [f"{v} as {k}" for k, v in changes.items()] + [f"'{SYNTHETIC}' as _dlt_load_id"]
    )
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


def attached_model(cli: Cli) -> dict[str, str]:
    """Each data test's name -> the model it tests, from dbt's manifest."""
    manifest = json.loads((Path(cli.env["DBT_TARGET_PATH"]) / "manifest.json").read_text())
    return {
        node["name"]: (node.get("attached_node") or "").split(".")[-1]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "test"
    }


@pytest.fixture(scope="module")
def cycles(tmp_path_factory, replay) -> dict[str, Any]:
    cli = make_cli(tmp_path_factory.mktemp("scoped"), replay)
    for dataset, until in (("BOALF", "2024-05-01T12:00"), ("MILS", "2024-05-01T10:20"),
                           ("ATL", "2024-05-01T12:00")):  # fmt: skip
        start = "2024-05-01T10:00" if dataset == "MILS" else "2024-05-01"
        cli.run("load", "bmrs", "--dataset", dataset, "--from", start, "--to", until, check=True)
    build = cli.run("build")  # the user's command: every test, every row
    assert build.returncode == 0, build.stdout[-4000:]
    settings = load_settings(env=cli.env, cwd=cli.data_dir.parent)
    out: dict[str, Any] = {"cli": cli, "marked_by_build": full_tests_marker(settings).exists()}

    # 1. a bad row before the window: the scoped cycle does not look there
    inject(cli, copy_of_a_real_row("boalf", acceptance_number="null",
                                   settlement_date=f"date '{BEFORE_THE_WINDOW}'"))  # fmt: skip
    out["scoped"] = run(cli, "BOALF")
    out["tests"] = attached_model(cli)

    # 2. a duplicate inside the window: the scoped cycle fails
    inject(cli, copy_of_a_real_row("mils"))
    out["inside"] = run(cli, "MILS")
    inject(cli, f"delete from raw_bmrs.mils where _dlt_load_id = '{SYNTHETIC}'")

    # 3. a day after the last full pass: every test on every row finds the row before the window
    mark_full_tests(settings, datetime.now(UTC) - timedelta(hours=25))
    out["full"] = run(cli, "ATL")
    return out


@pytest.mark.slow
def test_gridwarehouse_build_records_a_full_test_pass(cycles):
    assert cycles["marked_by_build"]


@pytest.mark.slow
def test_a_scoped_cycle_tests_large_models_from_the_window_start_only(cycles):
    result, results = cycles["scoped"]
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-3000:]
    assert f"data tests: scoped to rows from {WINDOW_START} on" in result.stdout
    where = f">= cast('{WINDOW_START}' as"
    tested = {name: cycles["tests"].get(name) for name in results if name in cycles["tests"]}
    scoped = {name for name, model in tested.items() if model in LARGE_STAGING}
    assert "not_null_stg_bmrs__boalf_acceptance_number" in scoped
    for name in scoped:
        assert where in results[name]["compiled_code"], name
    incremental = {n for n, m in tested.items() if m == "fct_acceptances_by_unit_period"}
    assert incremental and all(where in results[n]["compiled_code"] for n in incremental)
    # the bad row before the window is still there, unseen
    assert results["not_null_stg_bmrs__boalf_acceptance_number"]["status"] == "pass"


@pytest.mark.slow
def test_small_models_keep_their_whole_tests_in_a_scoped_cycle(cycles):
    _, results = cycles["scoped"]
    small = [
        name
        for name, model in cycles["tests"].items()
        if name in results and model in {"dim_bm_unit", "fct_top_constrained_units"}
    ]
    assert small, "no test of a small model ran: the check would prove nothing"
    for name in small:
        assert "dbt_subquery" not in results[name]["compiled_code"], name


@pytest.mark.slow
def test_a_bad_row_inside_the_window_fails_the_scoped_cycle(cycles):
    result, results = cycles["inside"]
    assert result.returncode == 1
    assert "dbt build of 1 changed sources and their downstream models: failed" in result.stdout
    assert f"data tests: scoped to rows from {WINDOW_START} on" in result.stdout
    failed = {name for name, r in results.items() if r["status"] == "fail"}
    assert any(cycles["tests"].get(name) == "stg_bmrs__mils" for name in failed), failed


@pytest.mark.slow
def test_the_daily_full_pass_finds_the_row_before_the_window(cycles):
    result, results = cycles["full"]
    assert result.returncode == 1
    assert "data tests: full pass" in result.stdout
    boalf = results["not_null_stg_bmrs__boalf_acceptance_number"]
    assert boalf["status"] == "fail" and "dbt_subquery" not in boalf["compiled_code"]
    settings = load_settings(env=cycles["cli"].env, cwd=cycles["cli"].data_dir.parent)
    assert full_tests_due(settings, datetime.now(UTC))  # a failed full pass is due again
