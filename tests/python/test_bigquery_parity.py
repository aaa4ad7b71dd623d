"""BigQuery parity (`make test-bigquery`): the same recorded data loaded with the real dlt
BigQuery destination into a local BigQuery emulator, built with dbt-bigquery through
`gridwarehouse build`, must give every mart the same rows as the DuckDB run: same row counts and
the same checksum of each mart's key columns. Mismatches fail.

Needs the emulator's own venv (EMULATOR_PYTHON, made by `make test-bigquery`).
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import time
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from .conftest import ROOT, Cli, incremental_marts_in_sql, make_cli

# the module's fixture loads and builds twice on each engine and once more on the emulator (a
# first build, an incremental one, a --full-refresh): past the suite's default per-test timeout
pytestmark = [pytest.mark.bigquery, pytest.mark.timeout(3000)]
PROJECT = "test-project"

# Each mart's key columns (its unique test). Every mart must be listed: a new one fails the test
# until its key is added here, so parity cannot silently skip it.
MART_KEYS = {
    "fct_acceptances_by_unit_period": [
        "settlement_date",
        "settlement_period",
        "national_grid_bm_unit",
    ],
    "fct_constraint_actions_daily": ["settlement_date", "national_grid_bm_unit"],
    "fct_constraint_daily_by_region": ["settlement_date", "gsp_group_id"],
    "fct_top_constrained_units": ["national_grid_bm_unit", "constraint_rank"],
    "fct_top_constrained_regions": ["gsp_group_id", "constraint_rank"],
    "fct_regional_balancing_by_period": ["gsp_group_id", "settlement_date", "settlement_period"],
    "fct_regional_daily": ["gsp_group_id", "settlement_date"],
    "fct_dno_balancing_daily": ["dno_group", "activity_date"],
    "fct_dno_balancing_correlation": ["dno_group"],
    "fct_imbalance_by_period": ["settlement_date", "settlement_period", "disbsad_actions"],
    "fct_imbalance_hourly": ["settlement_date", "hour_of_day_uk"],
    "fct_imbalance_daily": ["settlement_date"],
    "dim_bm_unit": ["national_grid_bm_unit", "is_battery", "is_vlp", "gsp_group_id"],
    "audit_battery_classification": ["national_grid_bm_unit", "battery_rule"],
    "fct_battery_fleet_stats": ["breakdown", "group_value", "bmu_count"],
    "fct_battery_daily_activity": ["settlement_date", "national_grid_bm_unit"],
    "fct_generation_mix_by_period": ["settlement_date", "settlement_period", "fuel_type"],
    "fct_actual_generation_per_type_by_period": [
        "settlement_date",
        "settlement_period",
        "psr_type",
    ],
    "fct_interconnector_flows_by_period": [
        "settlement_date",
        "settlement_period",
        "interconnector",
    ],
    "fct_frequency_by_period": ["settlement_date", "settlement_period"],
    "fct_unit_limits_by_period": [
        "national_grid_bm_unit",
        "settlement_date",
        "settlement_period",
        "max_import_limit_mw",
    ],
    "fct_system_limits_by_period": ["settlement_date", "settlement_period"],
    "fct_remit_unavailability_daily": ["event_date", "fuel_type", "affected_unit"],
    "fct_dataset_completeness_daily": ["dataset", "settlement_date", "present_periods"],
    "fct_isone_lmp_hourly": ["location_id", "hour_start_utc", "rt_minus_da_spread"],
    "dim_power_station": [
        "power_station_id",
        "nearest_gsp_id",
        "gsp_group_id",
        "carbon_intensity_year",
    ],
    "bridge_bm_unit_power_station": [
        "bm_unit_id",
        "bm_unit_id_kind",
        "power_station_id",
        "in_registry",
    ],
    "fct_carbon_intensity_by_period": ["settlement_date", "settlement_period", "fuel_types"],
    "fct_carbon_intensity_5min": ["interval_start_utc", "fuel_types"],
    "fct_carbon_intensity_hourly": ["settlement_date", "hour_of_day_uk", "periods"],
    "fct_carbon_intensity_daily": ["settlement_date", "periods"],
    "fct_balancing_carbon_daily": [
        "settlement_date",
        "national_grid_bm_unit",
        "acceptance_number",
        "reason",
        "emission_factor_source",
    ],
    "fct_balancing_carbon_daily_by_region": [
        "settlement_date",
        "gsp_group_id",
        "reason",
        "acceptances",
    ],
    "fct_isone_load_vs_generation_hourly": [
        "hour_start_utc",
        "utc_offset",
        "load_mw",
        "generation_mw",
        "mix_instants",
    ],
}
# marts no recording fills (FREQ, ISO-NE LMPs, REMIT message contents): empty on both sides;
# every other mart must have rows, or comparing it would prove nothing
EMPTY_WITHOUT_A_RECORDING = {
    "fct_frequency_by_period",
    "fct_isone_lmp_hourly",
    "fct_remit_unavailability_daily",
}
# the recorded BOALF stream runs 2024-05-01T22:45Z..2024-05-02T00:28Z and settlement day
# 2024-05-02 starts at 23:00Z: the first BOALF window holds day 2024-05-01 (some acceptances run
# on into the next day), NEXT_DAY the rest, loaded after BigQuery's first build
LOADS = [
    ("load", "bmrs", "--dataset", "BOALF", "--from", "2024-05-01", "--to", "2024-05-01T23:00"),
    (
        "load",
        "bmrs",
        "--dataset",
        "MILS",
        "--dataset",
        "BMUNITS",
        "--dataset",
        "ATL",
        "--from",
        "2024-05-01",
        "--to",
        "2024-05-03",
    ),
    (
        "load",
        "bmrs",
        "--dataset",
        "BALANCING_NONBM_DISBSAD_DETAILS",
        "--from",
        "2024-05-01T18:30",
        "--to",
        "2024-05-01T19:00",
    ),
    # the recorded FUELINST instant (carbon intensity marts)
    ("load", "bmrs", "--dataset", "FUELINST", "--from", "2024-02-12", "--to", "2024-02-13"),
    # the recorded AGPT periods (the nested per-type lists, unnested on BigQuery as on DuckDB)
    (
        "load",
        "bmrs",
        "--dataset",
        "GENERATION_ACTUAL_PER_TYPE",
        "--from",
        "2024-01-01",
        "--to",
        "2024-01-04",
    ),
    ("load", "neso", "--dataset", "historic_demand"),
    ("load", "dno", "--dno", "UKPN", "--dataset", "powerflow"),
    # the recorded spring-forward day and its neighbours
    (
        "load",
        "isone",
        "--dataset",
        "hourly_system_load",
        "--dataset",
        "fuel_mix",
        "--from",
        "2024-03-09",
        "--to",
        "2024-03-11",
    ),
]
NEXT_DAY = [
    ("load", "bmrs", "--dataset", "BOALF", "--from", "2024-05-01T23:00", "--to", "2024-05-03"),
    # the recorded FUELHH periods (carbon intensity marts): a day the first build did not have
    ("load", "bmrs", "--dataset", "FUELHH", "--from", "2025-02-06", "--to", "2025-02-07"),
]
# the incremental build's window starts at the latest day built: what the BOALF lookback must
# re-read (an acceptance running from one settlement day into the next) is then exercised
NO_LOOKBACK = '{"incremental_lookback_days": 0}'
# bqemulator 1.4.0 (sqlglot 30.11) fails to parse the script dbt-bigquery runs for an
# insert_overwrite incremental build (docs/bigquery.md, "Incremental builds on the emulator")
EMULATOR_MERGE_ERROR = "Required keyword: 'this' missing for <class 'sqlglot.expressions.core.Not'>"
# no real response is recorded for these here (frequency: none at all; the rest: not loaded by
# this test's loads), so their comparison cannot fail; the DuckDB test fills most of them
EMPTY_IN_THE_INCREMENTAL_COMPARISON = {
    "fct_frequency_by_period",
    "fct_imbalance_by_period",
    "fct_imbalance_hourly",
    "fct_imbalance_daily",
    "fct_system_limits_by_period",
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def emulator():
    python = os.environ.get("EMULATOR_PYTHON")
    if not python or not Path(python).exists():
        pytest.fail(
            "EMULATOR_PYTHON is not set to the emulator venv's python: run `make test-bigquery`"
        )
    rest, grpc = _free_port(), _free_port()
    log = open(Path(os.environ.get("TMPDIR", "/tmp")) / f"bqemulator-{rest}.log", "w")  # noqa: SIM115
    proc = subprocess.Popen(
        [
            python,
            str(ROOT / "tests/bigquery/run_bqemulator.py"),
            "start",
            "--rest-host",
            "127.0.0.1",
            "--rest-port",
            str(rest),
            "--grpc-port",
            str(grpc),
            "--project",
            PROJECT,
            "--log-level",
            "warning",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{rest}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if (
                httpx.get(f"{url}/bigquery/v2/projects/{PROJECT}/datasets", timeout=2).status_code
                == 200
            ):
                break
        except httpx.HTTPError:
            time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail(f"the BigQuery emulator did not start; see {log.name}")
    yield url
    proc.terminate()
    proc.wait(timeout=30)
    log.close()


def bigquery_env(emulator: str) -> dict[str, str]:
    return {
        "GRIDWAREHOUSE_TARGET": "bigquery",
        "GRIDWAREHOUSE_BQ_PROJECT": PROJECT,
        "GRIDWAREHOUSE_BQ_LOCATION": "US",
        "BIGQUERY_EMULATOR_HOST": emulator,
        "GRIDWAREHOUSE_DBT_PROFILES_DIR": str(ROOT / "tests/bigquery"),
    }


def load(cli: Cli, loads: list[tuple[str, ...]], **env: str) -> None:
    for args in loads:
        result = cli.run(*args, **env)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def build(cli: Cli, *args: str, **env: str) -> None:
    result = cli.run("build", *args, **env)
    assert result.returncode == 0, result.stdout[-6000:]


def incremental_marts(cli: Cli) -> list[str]:
    """The marts materialized incrementally, from the manifest of the last build."""
    manifest = json.loads((Path(cli.env["DBT_TARGET_PATH"]) / "manifest.json").read_text())
    return sorted(
        node["name"]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model"
        and node["config"]["materialized"] == "incremental"
        and node["schema"].endswith("marts")
    )


def full_checksums(emulator: str, marts: list[str]) -> dict[str, tuple[int, str]]:
    """Row count and a checksum of every column of each mart on BigQuery."""
    found = {}
    for mart in marts:
        rows = bigquery_rows(emulator, f"select * from `{PROJECT}.marts.{mart}`")
        found[mart] = (len(rows), checksum(rows))
    return found


@pytest.fixture(scope="module")
def both(tmp_path_factory, replay, emulator):
    """DuckDB built once from everything; BigQuery built on the first loads, then incrementally
    after the next day's loads, then with --full-refresh (what parity compares)."""
    env = bigquery_env(emulator)
    duck = make_cli(tmp_path_factory.mktemp("duckdb"), replay)
    load(duck, LOADS + NEXT_DAY)
    build(duck)
    bq = make_cli(tmp_path_factory.mktemp("bigquery"), replay)
    load(bq, LOADS, **env)
    build(bq, **env)
    first_rows = bigquery_rows(
        emulator, f"select count(*) from `{PROJECT}.marts.fct_acceptances_by_unit_period`"
    )
    load(bq, NEXT_DAY, **env)
    result = bq.run("build", "--vars", NO_LOOKBACK, **env)
    marts = incremental_marts(bq)
    incremental = full_checksums(emulator, marts) if result.returncode == 0 else {}
    emulator_error = None
    if result.returncode != 0:
        # docs/bigquery.md: the emulator cannot parse dbt-bigquery's insert_overwrite MERGE
        assert EMULATOR_MERGE_ERROR in result.stdout, result.stdout[-6000:]
        emulator_error = EMULATOR_MERGE_ERROR
    build(bq, "--full-refresh", **env)
    return {
        "duck": duck,
        "emulator": emulator,
        "first_rows": first_rows[0][0],
        "marts": marts,
        "incremental": incremental,
        "emulator_error": emulator_error,
        "full": full_checksums(emulator, marts),
        "parity": {
            mart: bigquery_rows(
                emulator, f"select {', '.join(MART_KEYS[mart])} from `{PROJECT}.marts.{mart}`"
            )
            for mart in MART_KEYS
        },
    }


def _normal(value: object) -> object:
    if isinstance(value, datetime):
        return value.replace(tzinfo=None).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (float, Decimal)):
        return round(float(value), 6)
    return value


def checksum(rows: list[tuple]) -> str:
    normal = sorted((tuple(_normal(v) for v in row) for row in rows), key=repr)
    return hashlib.sha256(repr(normal).encode()).hexdigest()


def bigquery_rows(emulator: str, sql: str) -> list[tuple]:
    from google.api_core.client_options import ClientOptions
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import bigquery

    client = bigquery.Client(
        project=PROJECT,
        credentials=AnonymousCredentials(),
        client_options=ClientOptions(api_endpoint=emulator),
    )
    return [
        tuple(row.values()) for row in client.query(sql).result()
    ]  # jobs.insert, qualified names


def test_every_mart_has_a_key_listed(both):
    marts = {
        t
        for (t,) in both["duck"].query(
            "select table_name from information_schema.tables where table_schema = 'marts'"
        )
    }
    assert marts == set(MART_KEYS), f"add keys for {sorted(marts - set(MART_KEYS))}"


@pytest.mark.parametrize("mart", sorted(MART_KEYS))
def test_mart_rows_and_key_checksum_match_duckdb(both, mart):
    """BigQuery's marts (first build, the next day's loads, an incremental build, then a
    --full-refresh) against DuckDB's built from everything."""
    keys = ", ".join(MART_KEYS[mart])
    duck_rows = both["duck"].query(f"select {keys} from marts.{mart}")
    assert duck_rows or mart in EMPTY_WITHOUT_A_RECORDING, f"{mart}: no rows on DuckDB to compare"
    bq_rows = both["parity"][mart]
    assert len(bq_rows) == len(duck_rows), (
        f"{mart}: {len(bq_rows)} rows on BigQuery, {len(duck_rows)} on DuckDB"
    )
    assert checksum(bq_rows) == checksum(duck_rows), f"{mart}: key columns differ"


def test_ops_tables_live_in_the_warehouse_on_bigquery_too(both):
    sql = f"select dataset, status, rows from `{PROJECT}.ops.load_log`"
    bq = bigquery_rows(both["emulator"], sql)
    assert checksum(bq) == checksum(
        both["duck"].query("select dataset, status, rows from ops.load_log")
    )


def test_bigquery_builds_incremental_marts_after_a_new_day(both):
    """The second build ran the incremental path on the emulator (insert_overwrite of the day
    partitions, or a MERGE for a mart with a unique key) and the first build held rows."""
    assert both["first_rows"] > 0
    assert "fct_acceptances_by_unit_period" in both["marts"]
    assert "fct_carbon_intensity_by_period" in both["marts"]


def test_the_manifest_agrees_with_the_marts_compared(both):
    assert both["marts"] == incremental_marts_in_sql()


@pytest.mark.parametrize("mart", incremental_marts_in_sql())
def test_bigquery_incremental_mart_equals_a_full_refresh(both, mart):
    """Every column of the incremental mart on BigQuery equals a --full-refresh of it."""
    if both["emulator_error"]:
        pytest.xfail(f"the emulator cannot run insert_overwrite: {both['emulator_error']}")
    if mart not in EMPTY_IN_THE_INCREMENTAL_COMPARISON:
        assert both["full"][mart][0] > 0, f"{mart} is empty: the comparison would prove nothing"
    assert both["incremental"][mart] == both["full"][mart]


def test_missing_bigquery_settings_name_the_variable(cli):
    result = cli.run(
        "load",
        "bmrs",
        "--dataset",
        "BOALF",
        "--from",
        "2024-05-01",
        "--to",
        "2024-05-02",
        GRIDWAREHOUSE_TARGET="bigquery",
    )
    assert result.returncode == 2
    assert "needs GRIDWAREHOUSE_BQ_PROJECT" in result.stderr
    assert cli.run("build", GRIDWAREHOUSE_TARGET="bigquery").returncode == 2
