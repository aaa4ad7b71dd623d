"""Incremental marts on the recorded real data: the first day is loaded and built, the next day
is loaded and built incrementally, and every incremental mart must then equal, row for row, a
`--full-refresh` build of the same warehouse. The incremental step uses a lookback of 0 days, so
the window starts at the latest day already built and the days before it are kept, not rebuilt:
what the lookback must re-read (an acceptance that starts on one settlement day and runs into the
next) is what this checks."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import duckdb
import pytest

from .conftest import Cli, incremental_marts_in_sql, make_cli

pytestmark = pytest.mark.slow

# the recorded BOALF stream runs 2024-05-01T22:45Z..2024-05-02T00:28Z: settlement day 2024-05-02
# starts at 23:00Z (BST), so the first load holds settlement day 2024-05-01 and the acceptances
# that start on it (some run past 23:00Z into the next day), the second load the rest
FIRST_DAY = [
    ("load", "bmrs", "--dataset", "BOALF", "--dataset", "MILS", "--dataset", "BMUNITS",
     "--from", "2024-05-01", "--to", "2024-05-01T23:00"),
    ("load", "bmrs", "--dataset", "BALANCING_NONBM_DISBSAD_DETAILS",
     "--from", "2024-05-01T18:30", "--to", "2024-05-01T19:00"),
    ("load", "bmrs", "--dataset", "SYSTEM_PRICES", "--from", "2025-02-05", "--to", "2025-02-06"),
    ("load", "bmrs", "--dataset", "GENERATION_ACTUAL_PER_TYPE", "--from", "2024-01-01", "--to", "2024-01-03"),
    ("load", "neso", "--dataset", "historic_demand"),
    ("load", "dno", "--dno", "UKPN", "--dataset", "powerflow"),
]  # fmt: skip
NEXT_DAY = [
    ("load", "bmrs", "--dataset", "BOALF", "--from", "2024-05-01T23:00", "--to", "2024-05-03"),
    ("load", "bmrs", "--dataset", "SYSTEM_PRICES", "--from", "2025-02-06", "--to", "2025-02-07"),
    ("load", "bmrs", "--dataset", "FUELHH", "--from", "2025-02-06", "--to", "2025-02-07"),
    ("load", "bmrs", "--dataset", "FUELINST", "--from", "2024-02-12", "--to", "2024-02-13"),
    ("load", "bmrs", "--dataset", "GENERATION_ACTUAL_PER_TYPE", "--from", "2024-01-03", "--to", "2024-01-04"),
]  # fmt: skip
NO_LOOKBACK = '{"incremental_lookback_days": 0}'
# marts that stay tables, each with the reason in its YAML description: rankings and
# correlations over all history, and marts whose rows every load can change on any day
TABLES_OVER_ALL_HISTORY = {
    "fct_top_constrained_units",
    "fct_top_constrained_regions",
    "fct_dno_balancing_daily",
    "fct_dno_balancing_correlation",
    "fct_remit_unavailability_daily",
}
# no real FREQ response is recorded (the demo leaves this mart empty too)
EMPTY_WITHOUT_A_RECORDING = {"fct_frequency_by_period"}


def incremental_marts(cli: Cli) -> list[str]:
    """The marts materialized incrementally, from the manifest dbt wrote."""
    manifest = json.loads((Path(cli.env["DBT_TARGET_PATH"]) / "manifest.json").read_text())
    return sorted(
        node["name"]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model"
        and node["config"]["materialized"] == "incremental"
        and node["schema"].endswith("marts")
    )


def rows(cli: Cli, table: str) -> list[tuple[Any, ...]]:
    """Every row of a mart, floats rounded to 9 significant digits, in one order."""

    def normal(value: Any) -> Any:
        if isinstance(value, float) and math.isfinite(value) and value != 0:
            return round(value, 9 - math.floor(math.log10(abs(value))))
        return value

    found = cli.query(f"select * from marts.{table}")
    return sorted((tuple(normal(v) for v in row) for row in found), key=repr)


def build(cli: Cli, *args: str) -> None:
    result = cli.run("build", *args)
    assert result.returncode == 0, result.stdout[-6000:]


@pytest.fixture(scope="module")
def built(tmp_path_factory, replay) -> dict[str, Any]:
    cli = make_cli(tmp_path_factory.mktemp("incremental"), replay)
    for args in FIRST_DAY:
        cli.run(*args, check=True)
    build(cli)
    first = {"boalf_rows": cli.count("raw_bmrs.boalf")}
    first_counts = {mart: cli.count(f"marts.{mart}") for mart in incremental_marts(cli)}
    for args in NEXT_DAY:
        cli.run(*args, check=True)
    build(cli, "--vars", NO_LOOKBACK)
    marts = incremental_marts(cli)
    compiled = {
        path.stem: path.read_text()
        for path in (Path(cli.env["DBT_TARGET_PATH"]) / "compiled").rglob("*.sql")
        if path.stem in marts
    }
    incremental = {mart: rows(cli, mart) for mart in marts}
    build(cli, "--full-refresh")
    full = {mart: rows(cli, mart) for mart in marts}
    return {
        "cli": cli,
        "first": first,
        "first_counts": first_counts,
        "marts": marts,
        "compiled": compiled,
        "incremental": incremental,
        "full": full,
    }


def test_the_next_day_adds_raw_rows(built):
    assert 0 < built["first"]["boalf_rows"] < built["cli"].count("raw_bmrs.boalf")


def test_the_manifest_agrees_with_the_marts_compared(built):
    assert built["marts"] == incremental_marts_in_sql()


def test_every_event_and_period_mart_is_incremental(built):
    assert set(built["marts"]) == {
        "fct_acceptances_by_unit_period",
        "fct_constraint_actions_daily",
        "fct_regional_balancing_by_period",
        "fct_regional_daily",
        "fct_imbalance_by_period",
        "fct_imbalance_daily",
        "fct_imbalance_hourly",
        "fct_generation_mix_by_period",
        "fct_actual_generation_per_type_by_period",
        "fct_interconnector_flows_by_period",
        "fct_unit_limits_by_period",
        "fct_system_limits_by_period",
        "fct_frequency_by_period",
        "fct_battery_daily_activity",
        "fct_dataset_completeness_daily",
        "fct_constraint_daily_by_region",
        "fct_carbon_intensity_by_period",
        "fct_carbon_intensity_5min",
        "fct_carbon_intensity_hourly",
        "fct_carbon_intensity_daily",
        "fct_balancing_carbon_daily",
        "fct_balancing_carbon_daily_by_region",
    }


def test_the_marts_left_as_tables_say_why(built):
    """Every mart is incremental or one of the tables over all history, and those say why in
    their description (persisted as the table's comment)."""
    manifest = json.loads((Path(built["cli"].env["DBT_TARGET_PATH"]) / "manifest.json").read_text())
    marts = {
        node["name"]: node
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["schema"].endswith("marts")
    }
    for name in TABLES_OVER_ALL_HISTORY:
        assert marts[name]["config"]["materialized"] == "table", name
        assert "A table, not incremental" in marts[name]["description"], name


def test_the_incremental_build_recomputed_only_a_window(built):
    """The second build of every mart that held rows read a window starting at the latest day
    built (lookback 0); a mart still empty builds everything."""
    filled = [mart for mart, count in built["first_counts"].items() if count]
    assert "fct_acceptances_by_unit_period" in filled and "fct_imbalance_by_period" in filled
    for mart in filled:
        assert re.search(r"cast\('20\d\d-\d\d-\d\d' as date\)", built["compiled"][mart]), mart


@pytest.mark.parametrize("mart", incremental_marts_in_sql())
def test_incremental_mart_equals_a_full_refresh_row_for_row(built, mart):
    if mart not in EMPTY_WITHOUT_A_RECORDING:
        assert built["full"][mart], f"{mart} is empty: the comparison would prove nothing"
    assert built["incremental"][mart] == built["full"][mart], mart


def test_the_rankings_read_the_daily_marts_not_boalf(built):
    """The rankings stay tables but read the incremental daily marts only, and give the same
    distinct acceptances as counting BOALF's segments over all history."""
    manifest = json.loads((Path(built["cli"].env["DBT_TARGET_PATH"]) / "manifest.json").read_text())
    nodes = {node["name"]: node for node in manifest["nodes"].values()}
    for name in ("fct_top_constrained_units", "fct_top_constrained_regions"):
        parents = {dep.split(".")[-1] for dep in nodes[name]["depends_on"]["nodes"]}
        assert parents <= {"fct_constraint_actions_daily", "fct_constraint_daily_by_region"}, (
            parents
        )
    counted = built["cli"].query(
        "select national_grid_bm_unit, so_flagged_acceptance_count "
        "from marts.fct_top_constrained_units order by 1"
    )
    distinct = built["cli"].query(
        "select national_grid_bm_unit, count(distinct acceptance_number) "
        "from intermediate.int_boalf_segments_split_by_period where is_so_flagged group by 1 order by 1"
    )
    assert counted and counted == distinct


def scans(plan: list[dict[str, Any]], table: str) -> list[dict[str, Any]]:
    """The scan nodes of a table anywhere in a DuckDB JSON plan."""
    found = []
    for node in plan:
        info = node.get("extra_info") or {}
        if isinstance(info, dict) and info.get("Table") == table:
            found.append(info)
        found += scans(node.get("children", []), table)
    return found


def selective(sql: str, day: str) -> str:
    """The SQL with every window bound moved to `day`. DuckDB drops a filter its column statistics
    show always true, so the plan shows a pushed filter only for a window that excludes rows."""
    return re.sub(r"cast\('\d{4}-\d\d-\d\d' as date\)", f"cast('{day}' as date)", sql)


def test_the_acceptances_window_reaches_the_raw_boalf_scan(built):
    """DuckDB's plan of the incremental build's SQL: every scan of raw_bmrs.boalf carries the
    window's settlement-date filter, so staging and the split no longer read all of history (a
    filter above a window function, as the re-ranking staging had, is not pushed down). The raw
    table holds 2024-05-01 and 2024-05-02: a window from 2024-05-02 excludes rows."""
    sql = selective(built["compiled"]["fct_acceptances_by_unit_period"], "2024-05-02")
    ((_, plan),) = built["cli"].query(f"explain (format json) {sql}")
    boalf = scans(json.loads(plan), "boalf")
    assert boalf, "the plan reads raw_bmrs.boalf"
    assert all("settlement_date>='2024-05-02'" in str(info.get("Filters", "")) for info in boalf), (
        boalf
    )


def test_a_filter_on_a_generated_staging_view_reaches_its_raw_scan(built):
    """Generated staging reads the merged raw table as it is (no re-ranking window), so a
    settlement-date filter on the view is applied in the raw table's scan."""
    # the recorded system prices hold 2025-02-05 and 2025-02-06
    ((_, plan),) = built["cli"].query(
        "explain (format json) select * from staging.stg_bmrs__system_prices "
        "where settlement_date >= cast('2025-02-06' as date)"
    )
    prices = scans(json.loads(plan), "system_prices")
    assert prices, "the plan reads raw_bmrs.system_prices"
    assert all("settlement_date>=" in str(info.get("Filters", "")) for info in prices), prices


def test_a_backfill_of_days_before_the_lookback_reaches_the_marts(tmp_path, replay):
    """Days loaded after a build but older than its lookback (a backfill) are recomputed by the
    next incremental `gridwarehouse build`: the build passes the earliest day loaded since the
    last one (var rebuild_from), so the mart equals a full refresh without --full-refresh."""
    cli = make_cli(tmp_path, replay)
    day = ("load", "bmrs", "--dataset", "SYSTEM_PRICES")
    cli.run(*day, "--from", "2025-02-06", "--to", "2025-02-07", check=True)
    build(cli)
    cli.run(*day, "--from", "2025-02-05", "--to", "2025-02-06", check=True)  # the backfill
    build(cli, "--vars", NO_LOOKBACK)
    days = "select distinct settlement_date::varchar from marts.fct_imbalance_by_period order by 1"
    assert [d for (d,) in cli.query(days)] == ["2025-02-05", "2025-02-06"]
    incremental = {
        mart: rows(cli, mart) for mart in ("fct_imbalance_by_period", "fct_imbalance_daily")
    }
    build(cli, "--full-refresh")
    assert incremental == {mart: rows(cli, mart) for mart in incremental}


def test_a_day_whose_neso_costs_changed_is_recomputed_before_the_window(built):
    """NESO's constraint breakdown is loaded as a whole file and may revise any day: a day whose
    NESO costs in the mart differ from the loaded ones is recomputed even before the lookback.
    The mart's row is made stale by hand (no NESO costs are recorded: the loaded value is NULL)."""
    cli = built["cli"]
    first_day = "select min(settlement_date) from marts.fct_constraint_daily_by_region"
    ((day,),) = cli.query(first_day)
    con = duckdb.connect(str(cli.duckdb_path))
    try:
        con.execute(
            "update marts.fct_constraint_daily_by_region set neso_thermal_cost_gbp = 1 "
            "where settlement_date = ?",
            [day],
        )
    finally:
        con.close()
    build(cli, "--select", "fct_constraint_daily_by_region", "--vars", NO_LOOKBACK)
    assert (
        rows(cli, "fct_constraint_daily_by_region")
        == built["full"]["fct_constraint_daily_by_region"]
    )
